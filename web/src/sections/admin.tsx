import { useState, type FormEvent } from 'react'
import { ApiError, del, get, patch, post } from '../api'
import { Link, useRouter } from '../router'
import { useSession } from '../session'
import { Button, Empty, ErrorBox, Field, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

interface Identity {
  id: string
  email: string
  name?: string
  state: 'active' | 'inactive'
  email_verified: boolean
  is_admin: boolean
  created_at?: string
  updated_at?: string
}

interface ImportResult {
  created: number
  failed: number
  results: { index: number; email: string; status: string; id?: string; error?: { code: string; message: string; fields?: Record<string, string[]> } }[]
}

export function UsersScreen() {
  const { search: query, navigate } = useRouter()
  const q = query.get('q') ?? ''
  const [term, setTerm] = useState(q)
  const [tokens, setTokens] = useState<string[]>([''])
  const page = tokens[tokens.length - 1]
  const list = useLoad(
    (signal) => {
      const p = new URLSearchParams({ page_size: '25' })
      if (q) p.set('search', q.toLowerCase())
      if (page) p.set('page_token', page)
      return get<{ identities: Identity[]; next_page_token?: string }>('/api/admin/identities?' + p, { signal })
    },
    [q, page],
  )
  const [panel, setPanel] = useState<'none' | 'create' | 'import'>('none')

  const onSearch = (e: FormEvent) => {
    e.preventDefault()
    setTokens([''])
    navigate('/admin/users' + (term ? '?q=' + encodeURIComponent(term) : ''), { replace: true })
  }

  return (
    <Page
      title="Users"
      actions={
        <div className="actions">
          <button className={panel === 'create' ? 'secondary' : undefined} onClick={() => setPanel(panel === 'create' ? 'none' : 'create')} aria-expanded={panel === 'create'}>
            Create user
          </button>
          <button className="secondary" onClick={() => setPanel(panel === 'import' ? 'none' : 'import')} aria-expanded={panel === 'import'}>
            Import
          </button>
        </div>
      }
    >
      {panel === 'create' && <CreateUser onCreated={() => { setPanel('none'); list.reload() }} />}
      {panel === 'import' && <ImportUsers onDone={list.reload} />}
      <form className="search" role="search" onSubmit={onSearch}>
        <label htmlFor="user-search" className="sr-only">Search users by email</label>
        <input id="user-search" type="search" placeholder="Email starts with…" value={term} onChange={(e) => setTerm(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      {list.loading && !list.data ? (
        <Loading label="Loading users…" />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data || list.data.identities.length === 0 ? (
        <Empty>{q ? <>No user's email starts with “{q}”.</> : 'No users yet. Create one or import a list.'}</Empty>
      ) : (
        <>
          <div className="table-wrap" aria-busy={list.loading}>
            <table>
              <caption className="sr-only">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Verified</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.data.identities.map((u) => (
                  <tr key={u.id} data-user={u.email}>
                    <th scope="row">
                      <Link to={'/admin/users/' + u.id}>{u.email}</Link>
                      {u.is_admin && <span className="badge small">admin</span>}
                    </th>
                    <td>{u.name || '—'}</td>
                    <td><span className={'badge ' + (u.state === 'active' ? 'ok' : 'bad')}>{u.state}</span></td>
                    <td>{u.email_verified ? 'Yes' : 'No'}</td>
                    <td>{formatDate(u.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button className="secondary" disabled={tokens.length === 1} onClick={() => setTokens(tokens.slice(0, -1))}>Previous</button>
            <button className="secondary" disabled={!list.data.next_page_token} onClick={() => setTokens([...tokens, list.data!.next_page_token!])}>Next</button>
          </nav>
        </>
      )}
    </Page>
  )
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const [f, setF] = useState({ email: '', name: '', password: '' })
  const a = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const u = await a.run(() => post<Identity>('/api/admin/identities', { email: f.email, name: f.name || undefined, password: f.password || undefined }))
    if (u) onCreated()
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="create-h">
      <h2 id="create-h">Create a user</h2>
      <ErrorBox error={a.error} shownFields={['email', 'name', 'password']} />
      <div className="row">
        <Field label="Email" name="email" type="email" value={f.email} onChange={(e) => setF({ ...f, email: e.target.value })} errors={a.error?.fields} required autoFocus />
        <Field label="Name" name="name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} errors={a.error?.fields} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={f.password}
          onChange={(e) => setF({ ...f, password: e.target.value })} errors={a.error?.fields}
          hint="Optional: without one, send the user a recovery link." />
      </div>
      <Button type="submit" busy={a.busy} busyLabel="Creating…">Create user</Button>
    </form>
  )
}

/** Parses "email,name,password" lines (a header line is skipped) or a JSON array. */
function parseImport(text: string): unknown[] {
  const t = text.trim()
  if (t.startsWith('[')) return JSON.parse(t) as unknown[]
  return t
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^email\s*(,|$)/i.test(l))
    .map((l) => {
      const [email, name, password] = l.split(',').map((s) => s.trim())
      return { email, name: name || undefined, password: password || undefined }
    })
}

function ImportUsers({ onDone }: { onDone: () => void }) {
  const [text, setText] = useState('')
  const [result, setResult] = useState<ImportResult | null>(null)
  const a = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setResult(null)
    const r = await a.run(async () => {
      let rows: unknown[]
      try {
        rows = parseImport(text)
      } catch {
        throw new ApiError(0, 'invalid_input', 'The list is neither CSV lines nor a JSON array.')
      }
      return post<ImportResult>('/api/admin/identities/import', rows)
    })
    if (r) {
      setResult(r)
      onDone()
    }
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="import-h">
      <h2 id="import-h">Import users</h2>
      <p className="muted">One user per line as <code>email,name,password</code> (name and password optional), or a JSON array; up to 500 at once.</p>
      <ErrorBox error={a.error} />
      <div className="field">
        <label htmlFor="import-text">Users</label>
        <textarea id="import-text" rows={6} value={text} onChange={(e) => setText(e.target.value)} placeholder={'ada@example.com,Ada Lovelace\ngrace@example.com,Grace Hopper'} required />
      </div>
      <Button type="submit" busy={a.busy} busyLabel="Importing… (each password is hashed; large lists take a while)">Import</Button>
      {result && (
        <div className="import-result" role="status">
          <p><strong>{result.created} created, {result.failed} failed.</strong></p>
          {result.failed > 0 && (
            <ul>
              {result.results.filter((x) => x.status !== 'created').map((x) => (
                <li key={x.index}>Line {x.index + 1} ({x.email || 'no email'}): {x.error?.message}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  )
}

interface Session {
  id: string
  active: boolean
  aal?: string
  authenticated_at?: string
  expires_at?: string
  devices?: { ip_address?: string; user_agent?: string }[]
}

export function UserScreen({ id }: { id: string }) {
  const { principal } = useSession()
  const { navigate } = useRouter()
  const user = useLoad((signal) => get<Identity>('/api/admin/identities/' + encodeURIComponent(id), { signal }), [id])
  const sessions = useLoad((signal) => get<{ sessions: Session[] }>('/api/admin/identities/' + encodeURIComponent(id) + '/sessions?active=true', { signal }), [id])
  const logins = useLoad((signal) => get<{ logins: { id: number; at: string; action: string; success: boolean; ip?: string; reason?: string }[] }>('/api/admin/identities/' + encodeURIComponent(id) + '/logins?limit=10', { signal }), [id])
  const a = useAction()
  const [password, setPassword] = useState('')
  const [link, setLink] = useState<{ recovery_code: string; recovery_link: string; expires_at: string; flow_id: string } | null>(null)
  const self = principal?.identity_id === id
  const base = '/api/admin/identities/' + encodeURIComponent(id)

  if (user.loading && !user.data) return <Loading label="Loading user…" />
  if (user.error) return <Page title="User"><ErrorBox error={user.error} /><Link to="/admin/users">Back to users</Link></Page>
  const u = user.data!

  const setState = async (state: 'active' | 'inactive') => {
    const r = await a.run(() => patch<Identity>(base + '/state', { state }), state === 'active' ? 'User activated.' : 'User deactivated; their sessions are revoked.')
    if (r) {
      user.setData(r)
      sessions.reload()
    }
  }
  const reset = async (e: FormEvent) => {
    e.preventDefault()
    const ok = await a.run(() => post(base + '/reset-password', { password }), 'Password reset; the user was signed out everywhere.')
    if (ok !== undefined) {
      setPassword('')
      sessions.reload()
    }
  }
  const recovery = () => a.run(async () => setLink(await post(base + '/recovery-link', {})))
  const revoke = async (sid: string) => {
    if (await a.run(() => del('/api/admin/sessions/' + encodeURIComponent(sid)), 'Session revoked.') !== undefined) sessions.reload()
  }
  const revokeAll = async () => {
    if (await a.run(() => del(base + '/sessions'), 'All sessions revoked.') !== undefined) sessions.reload()
  }
  const remove = async () => {
    if (!window.confirm(`Delete ${u.email}? This cannot be undone.`)) return
    if (await a.run(() => del(base)) !== undefined) navigate('/admin/users')
  }

  return (
    <Page title={u.email} actions={<Link to="/admin/users">All users</Link>}>
      <ErrorBox error={a.error} shownFields={['password']} />
      <Success>{a.done}</Success>
      <div className="grid">
        <section className="card" aria-labelledby="u-h">
          <h2 id="u-h">Details</h2>
          <dl className="kv">
            <dt>ID</dt><dd><code>{u.id}</code></dd>
            <dt>Name</dt><dd>{u.name || '—'}</dd>
            <dt>State</dt><dd><span className={'badge ' + (u.state === 'active' ? 'ok' : 'bad')} data-testid="user-state">{u.state}</span></dd>
            <dt>Email verified</dt><dd>{u.email_verified ? 'Yes' : 'No'}</dd>
            <dt>Admin</dt><dd>{u.is_admin ? 'Yes' : 'No'}</dd>
            <dt>Created</dt><dd>{formatDate(u.created_at)}</dd>
          </dl>
          <div className="actions">
            {u.state === 'active' ? (
              <Button className="secondary" busy={a.busy} disabled={self} onClick={() => void setState('inactive')}>Deactivate</Button>
            ) : (
              <Button busy={a.busy} onClick={() => void setState('active')}>Activate</Button>
            )}
            <Button className="danger" busy={a.busy} disabled={self} onClick={() => void remove()}>Delete</Button>
          </div>
          {self && <p className="muted small">You cannot deactivate or delete your own account.</p>}
        </section>
        <section className="card" aria-labelledby="pw-h">
          <h2 id="pw-h">Password and recovery</h2>
          <form onSubmit={reset} noValidate>
            <Field label="New password" name="password" type="password" autoComplete="new-password" value={password}
              onChange={(e) => setPassword(e.target.value)} errors={a.error?.fields} required />
            <Button type="submit" busy={a.busy}>Reset password</Button>
          </form>
          <p>
            <Button className="secondary" busy={a.busy} onClick={() => void recovery()}>Create recovery code</Button>
          </p>
          {link && (
            <div className="notice" role="status">
              <p>Give the user this one-time code (valid until {formatDate(link.expires_at)}); they enter it on the recovery screen.</p>
              <p>Code: <code data-testid="recovery-code">{link.recovery_code}</code></p>
              <p className="small">Kratos link: <code>{link.recovery_link}</code></p>
            </div>
          )}
        </section>
        <section className="card wide" aria-labelledby="s-h">
          <h2 id="s-h">Active sessions</h2>
          {sessions.loading && !sessions.data ? <Loading /> : sessions.error ? <ErrorBox error={sessions.error} /> : !sessions.data?.sessions.length ? (
            <Empty>No active sessions.</Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <thead><tr><th scope="col">Signed in</th><th scope="col">Level</th><th scope="col">Device</th><th scope="col">Expires</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                  <tbody>
                    {sessions.data.sessions.map((s) => (
                      <tr key={s.id}>
                        <td>{formatDate(s.authenticated_at)}</td>
                        <td>{s.aal}</td>
                        <td className="small">{s.devices?.[0]?.ip_address} {s.devices?.[0]?.user_agent}</td>
                        <td>{formatDate(s.expires_at)}</td>
                        <td><Button className="secondary small" busy={a.busy} onClick={() => void revoke(s.id)}>Revoke</Button></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Button className="secondary" busy={a.busy} onClick={() => void revokeAll()}>Revoke all sessions</Button>
            </>
          )}
        </section>
        <section className="card wide" aria-labelledby="l-h">
          <h2 id="l-h">Recent sign-ins</h2>
          {logins.loading && !logins.data ? <Loading /> : logins.error ? <ErrorBox error={logins.error} /> : !logins.data?.logins.length ? (
            <Empty>No sign-ins recorded.</Empty>
          ) : (
            <ul className="plain">
              {logins.data.logins.map((l) => (
                <li key={l.id}>
                  <span className={'badge ' + (l.success ? 'ok' : 'bad')}>{l.success ? 'ok' : 'failed'}</span> {formatDate(l.at)} {l.action} {l.ip} {l.reason}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </Page>
  )
}
