import { del, get } from '../api'
import { Button, Empty, ErrorBox, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

// The signed-in user's own sessions (internal/auth/sessions_self.go).

interface MySession {
  id: string
  current: boolean
  active: boolean
  aal?: string
  methods?: string[]
  authenticated_at?: string
  expires_at?: string
  devices?: { ip_address?: string; user_agent?: string; location?: string }[]
}

function device(s: MySession): string {
  const d = s.devices?.[s.devices.length - 1]
  if (!d) return '—'
  return [d.user_agent, d.ip_address, d.location].filter(Boolean).join(' · ') || '—'
}

export function SessionsScreen() {
  const list = useLoad((signal) => get<{ sessions: MySession[] }>('/api/auth/sessions', { signal }), [])
  const a = useAction()
  const others = list.data?.sessions.filter((s) => !s.current) ?? []
  const revoke = async (s: MySession) => {
    if ((await a.run(() => del('/api/auth/sessions/' + encodeURIComponent(s.id)), 'Session signed out.')) !== undefined) list.reload()
  }
  const revokeAll = async () => {
    if (!window.confirm('Sign out every other session? This one stays signed in.')) return
    if ((await a.run(() => del('/api/auth/sessions'), 'Every other session is signed out.')) !== undefined) list.reload()
  }
  return (
    <Page
      title="Active sessions"
      actions={others.length > 0 ? <Button className="secondary" busy={a.busy} onClick={() => void revokeAll()}>Sign out all other sessions</Button> : undefined}
    >
      <p className="muted">Where your account is signed in. Sign out a session you do not recognize, then change your password.</p>
      <ErrorBox error={a.error} />
      <Success>{a.done}</Success>
      {list.loading && !list.data ? (
        <Loading label="Loading your sessions…" />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data?.sessions.length ? (
        <Empty>No sessions.</Empty>
      ) : (
        <div className="table-wrap" aria-busy={list.loading}>
          <table data-testid="my-sessions">
            <caption className="sr-only">Your sessions</caption>
            <thead>
              <tr>
                <th scope="col">Signed in</th><th scope="col">Device</th><th scope="col">Level</th><th scope="col">Expires</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.data.sessions.map((s) => (
                <tr key={s.id} data-session={s.id} data-current={s.current}>
                  <td>{formatDate(s.authenticated_at)} {s.current && <span className="badge ok small">this session</span>}</td>
                  <td className="small">{device(s)}</td>
                  <td>{s.aal ?? '—'}</td>
                  <td>{formatDate(s.expires_at)}</td>
                  <td>
                    {!s.current && (
                      <Button className="secondary small" busy={a.busy} onClick={() => void revoke(s)} aria-label={`Sign out the session signed in ${formatDate(s.authenticated_at)}`}>
                        Sign out
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && others.length === 0 && <p className="muted small">No other sessions: only this browser is signed in.</p>}
    </Page>
  )
}
