import { useState, type FormEvent } from 'react'
import { del, get, post, type Principal } from '../api'
import { Link, useRouter } from '../router'
import { useSession } from '../session'
import { Button, ErrorBox, Field, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

interface MFAState {
  aal: string
  totp: boolean
  recovery_codes: { enabled: boolean; remaining: number }
  webauthn: { supported: boolean; enrolled: boolean }
  methods: string[]
}

export function AccountScreen() {
  const { search } = useRouter()
  const { principal } = useSession()
  return (
    <Page title="Your account">
      {search.get('recovered') && (
        <Success>You are signed in with your recovery code. Choose a new password below.</Success>
      )}
      <div className="grid">
        <Profile />
        <Password />
        <MFA />
        <section className="card" aria-labelledby="session-h">
          <h2 id="session-h">This session</h2>
          <dl className="kv">
            <dt>Identity</dt>
            <dd><code>{principal?.identity_id}</code></dd>
            <dt>Tenant</dt>
            <dd><code>{principal?.tenant_id}</code></dd>
            <dt>Assurance</dt>
            <dd>{principal?.aal === 'aal2' ? 'Password and second factor (aal2)' : 'Password (aal1)'}</dd>
            <dt>Expires</dt>
            <dd>{formatDate(principal?.expires_at)}</dd>
            <dt>Role</dt>
            <dd>{principal?.is_admin ? 'Admin' : 'User'}</dd>
          </dl>
          <Link to="/account/sessions">All your active sessions</Link>
        </section>
      </div>
    </Page>
  )
}

function Profile() {
  const { refresh } = useSession()
  const profile = useLoad((signal) => get<{ email: string; name: string }>('/api/auth/settings', { signal }), [])
  const [edit, setEdit] = useState<{ email: string; name: string } | null>(null)
  const a = useAction()
  const values = edit ?? profile.data ?? { email: '', name: '' }
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const saved = await a.run(() => post<Principal>('/api/auth/settings', { email: values.email, name: values.name }), 'Profile saved.')
    if (saved) {
      setEdit(null)
      profile.reload()
      await refresh()
    }
  }
  return (
    <section className="card" aria-labelledby="profile-h">
      <h2 id="profile-h">Profile</h2>
      {profile.loading ? (
        <Loading />
      ) : profile.error ? (
        <ErrorBox error={profile.error} />
      ) : (
        <form onSubmit={submit} noValidate>
          <ErrorBox error={a.error} shownFields={['email', 'name']} />
          <Success>{a.done}</Success>
          <Field label="Email" name="email" type="email" autoComplete="email" value={values.email}
            onChange={(e) => setEdit({ ...values, email: e.target.value })} errors={a.error?.fields} required />
          <Field label="Name" name="name" autoComplete="name" value={values.name ?? ''}
            onChange={(e) => setEdit({ ...values, name: e.target.value })} errors={a.error?.fields} />
          <Button type="submit" busy={a.busy} busyLabel="Saving…">Save profile</Button>
        </form>
      )}
    </section>
  )
}

function Password() {
  const [password, setPassword] = useState('')
  const a = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const ok = await a.run(() => post('/api/auth/settings', { password }), 'Password changed.')
    if (ok) setPassword('')
  }
  return (
    <section className="card" aria-labelledby="password-h">
      <h2 id="password-h">Password</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBox error={a.error} shownFields={['password']} />
        <Success>{a.done}</Success>
        <Field label="New password" name="password" type="password" autoComplete="new-password" value={password}
          onChange={(e) => setPassword(e.target.value)} errors={a.error?.fields} required
          hint="Changing it needs a recent sign-in; otherwise sign in again first." />
        <Button type="submit" busy={a.busy} busyLabel="Changing…">Change password</Button>
      </form>
    </section>
  )
}

interface TOTPSetup {
  flow_id: string
  secret: string
  uri: string
  qr?: string
  expires_at: string
}

function MFA() {
  const { refresh } = useSession()
  const status = useLoad((signal) => get<MFAState>('/api/auth/mfa/status', { signal }), [])
  const [setup, setSetup] = useState<TOTPSetup | null>(null)
  const [code, setCode] = useState('')
  const [codes, setCodes] = useState<{ flow_id: string; codes: string[] } | null>(null)
  const a = useAction()

  const apply = async (st: MFAState | undefined) => {
    if (st) {
      status.setData(st)
      await refresh()
    }
  }
  const startTOTP = () => a.run(async () => setSetup(await post<TOTPSetup>('/api/auth/mfa/totp/setup')))
  const verifyTOTP = async (e: FormEvent) => {
    e.preventDefault()
    const st = await a.run(() => post<MFAState>('/api/auth/mfa/totp/verify', { flow_id: setup?.flow_id, code }), 'Authenticator app set up. You will be asked for a code when you sign in.')
    if (st) {
      setSetup(null)
      setCode('')
      await apply(st)
    }
  }
  const removeTOTP = async () => {
    if (!window.confirm('Remove the authenticator app from your account?')) return
    await apply(await a.run(() => del<MFAState>('/api/auth/mfa/totp'), 'Authenticator app removed.'))
  }
  const genCodes = () => a.run(async () => setCodes(await post<{ flow_id: string; codes: string[] }>('/api/auth/mfa/recovery-codes')))
  const confirmCodes = async () => {
    const st = await a.run(() => post<MFAState>('/api/auth/mfa/recovery-codes/confirm', { flow_id: codes?.flow_id }), 'Recovery codes saved and active.')
    if (st) {
      setCodes(null)
      await apply(st)
    }
  }
  const disableCodes = async () => {
    if (!window.confirm('Disable your recovery codes?')) return
    await apply(await a.run(() => del<MFAState>('/api/auth/mfa/recovery-codes'), 'Recovery codes disabled.'))
  }

  return (
    <section className="card wide" aria-labelledby="mfa-h">
      <h2 id="mfa-h">Two-factor authentication</h2>
      <ErrorBox error={a.error} shownFields={['code']} />
      <Success>{a.done}</Success>
      {status.loading && !status.data ? (
        <Loading />
      ) : status.error ? (
        <ErrorBox error={status.error} />
      ) : status.data ? (
        <>
          <h3>Authenticator app (TOTP)</h3>
          {status.data.totp ? (
            <p>
              <span className="badge ok" data-testid="totp-status">Enabled</span>{' '}
              <Button className="secondary" busy={a.busy} onClick={() => void removeTOTP()}>Remove app</Button>
            </p>
          ) : setup ? (
            <form onSubmit={verifyTOTP} className="totp-setup" noValidate>
              <p>Scan this QR code with your authenticator app, or type the secret, then enter the code it shows.</p>
              {setup.qr ? <img src={setup.qr} alt="QR code of the authenticator app secret" width={200} height={200} className="qr" /> : null}
              <p>
                Secret: <code data-testid="totp-secret">{setup.secret}</code>
              </p>
              <Field label="Code from the app" name="code" value={code} onChange={(e) => setCode(e.target.value)}
                errors={a.error?.fields} inputMode="numeric" autoComplete="one-time-code" required autoFocus />
              <Button type="submit" busy={a.busy} busyLabel="Verifying…">Verify and enable</Button>{' '}
              <button type="button" className="link" onClick={() => setSetup(null)}>Cancel</button>
            </form>
          ) : (
            <p>
              <span className="badge">Off</span>{' '}
              <Button busy={a.busy} onClick={() => void startTOTP()}>Set up authenticator app</Button>
            </p>
          )}
          <h3>Recovery codes</h3>
          {codes ? (
            <div>
              <p>Store these codes somewhere safe. Each works once, when you cannot use your app.</p>
              <ul className="codes" aria-label="Recovery codes">
                {codes.codes.map((c) => <li key={c}><code>{c}</code></li>)}
              </ul>
              <Button busy={a.busy} onClick={() => void confirmCodes()}>I saved them: activate</Button>{' '}
              <button type="button" className="link" onClick={() => setCodes(null)}>Cancel</button>
            </div>
          ) : status.data.recovery_codes.enabled ? (
            <p>
              <span className="badge ok">{status.data.recovery_codes.remaining} left</span>{' '}
              <Button className="secondary" busy={a.busy} onClick={() => void genCodes()}>Generate new codes</Button>{' '}
              <Button className="secondary" busy={a.busy} onClick={() => void disableCodes()}>Disable</Button>
            </p>
          ) : (
            <p>
              <span className="badge">Off</span>{' '}
              <Button busy={a.busy} onClick={() => void genCodes()}>Generate recovery codes</Button>
            </p>
          )}
          <h3>Security keys and passkeys</h3>
          <p className="muted">
            {status.data.webauthn.supported ? 'Supported.' : 'Not available yet: Kratos offers them in browser flows only, and Truss drives API flows.'}
            {status.data.webauthn.enrolled ? ' This account has WebAuthn credentials added outside Truss.' : ''}
          </p>
        </>
      ) : null}
    </section>
  )
}
