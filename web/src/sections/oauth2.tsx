import { useState, type FormEvent } from 'react'
import { ApiError, del, get, post } from '../api'
import { useRouter } from '../router'
import { useSession } from '../session'
import { Button, Empty, ErrorBox, Field, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

// OAuth2 on Hydra: the consent and logout screens of the Hydra bridge
// (internal/oauth2 ConsentPath and LogoutPath), and the tenant's clients.

interface ClientSummary {
  client_id: string
  client_name?: string
  client_uri?: string
  logo_uri?: string
  policy_uri?: string
  tos_uri?: string
}

interface ConsentInfo {
  challenge: string
  client: ClientSummary
  subject: string
  requested_scope: string[]
  requested_access_token_audience: string[]
  skip: boolean
}

const scopeText: Record<string, string> = {
  openid: 'Know who you are (your account id)',
  email: 'See your email address',
  profile: 'See your name',
  offline_access: 'Stay connected when you are not using it (refresh tokens)',
}

/** Only http(s) URLs are followed (never javascript: or data:). */
function safeHref(u?: string): string | undefined {
  return u && /^https?:\/\//i.test(u) ? u : undefined
}

export function ConsentScreen() {
  const { search } = useRouter()
  const { principal } = useSession()
  const challenge = search.get('consent_challenge') ?? ''
  const info = useLoad(
    (signal) =>
      challenge
        ? get<ConsentInfo>('/api/hydra/consent?consent_challenge=' + encodeURIComponent(challenge), { signal })
        : Promise.reject(new ApiError(400, 'invalid_request', 'This page needs a consent_challenge: open it from an application’s sign-in link.')),
    [challenge],
  )
  const [remember, setRemember] = useState(true)
  const [leaving, setLeaving] = useState(false)
  const a = useAction()

  const decide = async (accept: boolean) => {
    const r = await a.run(() =>
      accept
        ? post<{ redirect_to: string }>('/api/hydra/consent/accept', { consent_challenge: challenge, remember })
        : post<{ redirect_to: string }>('/api/hydra/consent/reject', { consent_challenge: challenge }),
    )
    if (r?.redirect_to) {
      setLeaving(true)
      window.location.assign(r.redirect_to)
    }
  }

  if (info.loading) return <Loading label="Loading the request…" />
  if (info.error || !info.data) {
    return (
      <Page title="Authorize application">
        <ErrorBox error={info.error} />
      </Page>
    )
  }
  const c = info.data.client
  const name = c.client_name || c.client_id
  return (
    <Page title={`Authorize ${name}`}>
      <form className="card narrow" onSubmit={(e) => { e.preventDefault(); void decide(true) }} aria-describedby="consent-intro">
        <p id="consent-intro">
          <strong data-testid="consent-client">{name}</strong> asks to access your Truss account
          {principal ? <> <strong>{principal.email}</strong></> : null}.
          {safeHref(c.client_uri) && (
            <>
              {' '}
              <a href={safeHref(c.client_uri)} target="_blank" rel="noopener noreferrer">About the application</a>
            </>
          )}
        </p>
        <h2 id="scopes-h">It will be able to</h2>
        {info.data.requested_scope.length === 0 ? (
          <Empty>It asks for no scopes.</Empty>
        ) : (
          <ul className="plain" aria-labelledby="scopes-h" data-testid="consent-scopes">
            {info.data.requested_scope.map((s) => (
              <li key={s} data-scope={s}>
                <code>{s}</code> {scopeText[s] ?? ''}
              </li>
            ))}
          </ul>
        )}
        {info.data.requested_access_token_audience.length > 0 && (
          <p className="small muted">Audience: {info.data.requested_access_token_audience.join(', ')}</p>
        )}
        <div className="field checkbox">
          <label>
            <input type="checkbox" name="remember" checked={remember} onChange={(e) => setRemember(e.target.checked)} /> Remember my decision
            for this application
          </label>
        </div>
        <ErrorBox error={a.error} />
        {leaving ? (
          <Loading label="Returning to the application…" />
        ) : (
          <div className="actions">
            <Button type="submit" busy={a.busy}>Allow</Button>
            <Button type="button" className="secondary" busy={a.busy} onClick={() => void decide(false)}>Deny</Button>
          </div>
        )}
        {(safeHref(c.policy_uri) || safeHref(c.tos_uri)) && (
          <p className="links small">
            {safeHref(c.policy_uri) && <a href={safeHref(c.policy_uri)} target="_blank" rel="noopener noreferrer">Privacy policy</a>}
            {safeHref(c.tos_uri) && <a href={safeHref(c.tos_uri)} target="_blank" rel="noopener noreferrer">Terms of service</a>}
          </p>
        )}
      </form>
    </Page>
  )
}

export function LogoutScreen() {
  const { search } = useRouter()
  const challenge = search.get('logout_challenge') ?? ''
  const [leaving, setLeaving] = useState(false)
  const a = useAction()
  const decide = async (accept: boolean) => {
    const r = await a.run(() =>
      post<{ redirect_to: string }>('/api/hydra/logout/' + (accept ? 'accept' : 'reject'), { logout_challenge: challenge }, { quiet401: true }),
    )
    if (r?.redirect_to) {
      setLeaving(true)
      window.location.assign(r.redirect_to)
    }
  }
  return (
    <Page title="Sign out">
      <div className="card narrow">
        {!challenge ? (
          <ErrorBox error={new ApiError(400, 'invalid_request', 'This page needs a logout_challenge: open it from an application’s sign-out link.')} />
        ) : (
          <>
            <p>An application asks to sign you out of Truss and of the applications you signed in to with it. Do you want to sign out?</p>
            <ErrorBox error={a.error} />
            {leaving ? (
              <Loading label="Signing out…" />
            ) : (
              <div className="actions">
                <Button busy={a.busy} onClick={() => void decide(true)} autoFocus>Yes, sign me out</Button>
                <Button className="secondary" busy={a.busy} onClick={() => void decide(false)}>No, stay signed in</Button>
              </div>
            )}
          </>
        )}
      </div>
    </Page>
  )
}

// --- clients ---

interface OAuth2Client {
  client_id: string
  client_name?: string
  client_secret?: string
  redirect_uris?: string[]
  grant_types?: string[]
  scope?: string
  token_endpoint_auth_method?: string
  skip_consent?: boolean
  created_at?: string
}

export function ClientsScreen() {
  const list = useLoad((signal) => get<{ clients: OAuth2Client[] }>('/api/hydra/clients', { signal }), [])
  const [creating, setCreating] = useState(false)
  const [secret, setSecret] = useState<{ id: string; name: string; secret: string; rotated: boolean } | null>(null)
  const a = useAction()

  const rotate = async (c: OAuth2Client) => {
    if (!window.confirm(`Rotate the secret of ${c.client_name || c.client_id}? The old secret stops working at once.`)) return
    const r = await a.run(() => post<OAuth2Client>('/api/hydra/clients/' + encodeURIComponent(c.client_id) + '/rotate-secret', {}))
    if (r?.client_secret) setSecret({ id: r.client_id, name: r.client_name || r.client_id, secret: r.client_secret, rotated: true })
  }
  const remove = async (c: OAuth2Client) => {
    if (!window.confirm(`Delete ${c.client_name || c.client_id}? Its tokens stop working.`)) return
    if ((await a.run(() => del('/api/hydra/clients/' + encodeURIComponent(c.client_id)), 'Client deleted.')) !== undefined) {
      if (secret?.id === c.client_id) setSecret(null)
      list.reload()
    }
  }

  return (
    <Page
      title="OAuth2 clients"
      actions={
        <button onClick={() => setCreating(!creating)} aria-expanded={creating}>
          Create client
        </button>
      }
    >
      {creating && (
        <CreateClient
          onCreated={(c) => {
            setCreating(false)
            if (c.client_secret) setSecret({ id: c.client_id, name: c.client_name || c.client_id, secret: c.client_secret, rotated: false })
            else setSecret(null)
            a.setDone(`Client ${c.client_name || c.client_id} created.`)
            list.reload()
          }}
        />
      )}
      {secret && <SecretOnce {...secret} onDismiss={() => setSecret(null)} />}
      <ErrorBox error={a.error} />
      <Success>{a.done}</Success>
      {list.loading && !list.data ? (
        <Loading label="Loading clients…" />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data?.clients.length ? (
        <Empty>No OAuth2 clients yet. Create one to let an application sign its users in with Truss.</Empty>
      ) : (
        <div className="table-wrap" aria-busy={list.loading}>
          <table>
            <caption className="sr-only">OAuth2 clients</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Client ID</th>
                <th scope="col">Type</th>
                <th scope="col">Grant types</th>
                <th scope="col">Redirect URIs</th>
                <th scope="col">Created</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.data.clients.map((c) => {
                const isPublic = c.token_endpoint_auth_method === 'none'
                return (
                  <tr key={c.client_id} data-client={c.client_id}>
                    <th scope="row">{c.client_name || '—'}{c.skip_consent && <span className="badge small">first-party</span>}</th>
                    <td><code>{c.client_id}</code></td>
                    <td>{isPublic ? 'Public (PKCE)' : 'Confidential'}</td>
                    <td className="small">{(c.grant_types ?? []).join(', ')}</td>
                    <td className="small">{(c.redirect_uris ?? []).join(' ') || '—'}</td>
                    <td>{formatDate(c.created_at)}</td>
                    <td>
                      <div className="actions">
                        {!isPublic && <Button className="secondary small" busy={a.busy} onClick={() => void rotate(c)} aria-label={`Rotate secret of ${c.client_name || c.client_id}`}>Rotate secret</Button>}
                        <Button className="danger small" busy={a.busy} onClick={() => void remove(c)} aria-label={`Delete ${c.client_name || c.client_id}`}>Delete</Button>
                      </div>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  )
}

function SecretOnce({ id, name, secret, rotated, onDismiss }: { id: string; name: string; secret: string; rotated: boolean; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false)
  return (
    <div className="notice warn" role="status" data-testid="client-secret">
      <p>
        <strong>{rotated ? 'New secret' : 'Secret'} of {name}: copy it now.</strong> Truss shows it this once; Hydra keeps only a hash.
      </p>
      <dl className="kv">
        <dt>client_id</dt><dd><code>{id}</code></dd>
        <dt>client_secret</dt><dd><code data-testid="client-secret-value">{secret}</code></dd>
      </dl>
      <div className="actions">
        <button type="button" className="secondary small" onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true))}>
          {copied ? 'Copied' : 'Copy secret'}
        </button>
        <button type="button" className="link" onClick={onDismiss}>I saved it</button>
      </div>
    </div>
  )
}

const grantChoices = ['authorization_code', 'refresh_token', 'client_credentials'] as const

function CreateClient({ onCreated }: { onCreated: (c: OAuth2Client) => void }) {
  const [name, setName] = useState('')
  const [redirects, setRedirects] = useState('')
  const [scope, setScope] = useState('openid email profile offline_access')
  const [grants, setGrants] = useState<string[]>(['authorization_code', 'refresh_token'])
  const [isPublic, setPublic] = useState(false)
  const a = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const body: Record<string, unknown> = {
      client_name: name,
      redirect_uris: redirects.split(/\s+/).filter(Boolean),
      grant_types: grants,
      response_types: grants.includes('authorization_code') ? ['code'] : [],
      scope,
    }
    if (isPublic) body.token_endpoint_auth_method = 'none'
    const c = await a.run(() => post<OAuth2Client>('/api/hydra/clients', body))
    if (c) onCreated(c)
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="client-create-h">
      <h2 id="client-create-h">Create a client</h2>
      <ErrorBox error={a.error} shownFields={['client_name', 'redirect_uris', 'scope']} />
      <div className="row">
        <Field label="Name" name="client_name" value={name} onChange={(e) => setName(e.target.value)} errors={a.error?.fields} required autoFocus />
        <Field label="Scope" name="scope" value={scope} onChange={(e) => setScope(e.target.value)} errors={a.error?.fields} hint="Space-separated." />
      </div>
      <div className="field">
        <label htmlFor="client-redirects">Redirect URIs</label>
        <textarea id="client-redirects" name="redirect_uris" rows={2} value={redirects} onChange={(e) => setRedirects(e.target.value)}
          placeholder="https://app.example.com/callback" aria-describedby="client-redirects-hint" />
        <p className="field-hint" id="client-redirects-hint">One per line; https, or http on localhost only.</p>
        {a.error?.fields.redirect_uris && <p className="field-error" data-field-error="redirect_uris">Redirect URIs {a.error.fields.redirect_uris.join('; ')}</p>}
      </div>
      <fieldset className="field">
        <legend>Grant types</legend>
        {grantChoices.map((g) => (
          <label key={g} className="inline">
            <input type="checkbox" checked={grants.includes(g)} onChange={(e) => setGrants(e.target.checked ? [...grants, g] : grants.filter((x) => x !== g))} /> <code>{g}</code>
          </label>
        ))}
      </fieldset>
      <div className="field checkbox">
        <label>
          <input type="checkbox" checked={isPublic} onChange={(e) => setPublic(e.target.checked)} /> Public client (a browser or mobile app:
          no secret, PKCE required)
        </label>
      </div>
      <Button type="submit" busy={a.busy} busyLabel="Creating…">Create client</Button>
    </form>
  )
}
