import { useState, type FormEvent } from 'react'
import { post, get, type FlowState, type Principal } from '../api'
import { config } from '../config'
import { Link, useRouter } from '../router'
import { useSession } from '../session'
import { Button, ErrorBox, Field, Page, Success, useAction, useLoad } from '../ui'

/** Where to go after signing in: ?next= when it is a local path. */
function nextPath(search: URLSearchParams): string {
  const n = search.get('next') ?? ''
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/login') ? n : '/account'
}

/**
 * The OAuth2 login bridge's return_to (internal/oauth2 LoginPath contract),
 * only when it is this server's /api/hydra/bridge/login: anything else would
 * make the login page an open redirect, so it is ignored.
 */
export function bridgeReturnTo(search: URLSearchParams): string | null {
  const r = search.get('return_to')
  if (!r || config.demo) return null
  return r.startsWith(config.publicUrl + '/api/hydra/bridge/login?') ? r : null
}

interface LoginChallengeInfo {
  client: { client_id: string; client_name?: string; client_uri?: string; logo_uri?: string }
  requested_scope: string[]
}

export function LoginScreen() {
  const { search, navigate } = useRouter()
  const { refresh, principal } = useSession()
  const returnTo = bridgeReturnTo(search)
  const refusedReturnTo = search.has('return_to') && !returnTo
  const forcePrompt = (search.get('prompt') ?? '').split(' ').includes('login')
  const [email, setEmail] = useState(search.get('login_hint') ?? '')
  const [password, setPassword] = useState('')
  const [step, setStep] = useState<'password' | 'second'>('password')
  const [useRecovery, setUseRecovery] = useState(false)
  const [code, setCode] = useState('')
  const a = useAction()
  const info = useLoad((signal) => get<{ registration_open: boolean }>('/api/auth/login', { signal }), [])
  const challenge = returnTo ? new URL(returnTo).searchParams.get('login_challenge') : null
  const app = useLoad(
    (signal) =>
      challenge
        ? get<LoginChallengeInfo>('/api/hydra/login?login_challenge=' + encodeURIComponent(challenge), { signal, quiet401: true })
        : Promise.resolve(null),
    [challenge],
  )
  const hinted = !!search.get('login_hint')
  const appName = app.data ? app.data.client.client_name || app.data.client.client_id : null

  const finish = async () => {
    await refresh()
    if (returnTo) {
      // Back to the Hydra bridge, which accepts the login and continues
      // the OAuth2 flow (a full navigation: it leaves the app).
      window.location.assign(returnTo)
      return
    }
    navigate(nextPath(search), { replace: true })
  }

  const submitPassword = async (e: FormEvent) => {
    e.preventDefault()
    await a.run(async () => {
      try {
        await post<Principal>('/api/auth/login', { email, password }, { quiet401: true })
      } catch (err) {
        if ((err as { code?: string }).code === 'mfa_required') {
          setStep('second')
          return
        }
        throw err
      }
      await finish()
    })
  }

  const submitSecond = async (e: FormEvent) => {
    e.preventDefault()
    await a.run(async () => {
      await post<Principal>('/api/auth/login', useRecovery ? { recovery_code: code.trim() } : { totp_code: code.replace(/\s/g, '') }, { quiet401: true })
      await finish()
    })
  }

  if (step === 'second') {
    return (
      <Page title="Second factor">
        <form className="card narrow" onSubmit={submitSecond} aria-describedby="second-intro">
          <p id="second-intro">
            Your password was accepted. This account uses a second factor:{' '}
            {useRecovery ? 'enter one of your recovery codes.' : 'enter the 6-digit code from your authenticator app.'}
          </p>
          <ErrorBox error={a.error} shownFields={['totp_code', 'recovery_code']} />
          <Field
            label={useRecovery ? 'Recovery code' : 'Authentication code'}
            name={useRecovery ? 'recovery_code' : 'totp_code'}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            errors={a.error?.fields}
            autoComplete="one-time-code"
            inputMode={useRecovery ? 'text' : 'numeric'}
            autoFocus
            required
          />
          <Button type="submit" busy={a.busy} busyLabel="Verifying…">
            Verify
          </Button>
          <button type="button" className="link" onClick={() => { setUseRecovery(!useRecovery); setCode('') }}>
            {useRecovery ? 'Use the authenticator app instead' : 'Use a recovery code instead'}
          </button>
        </form>
      </Page>
    )
  }

  return (
    <Page title="Sign in">
      <form className="card narrow" onSubmit={submitPassword} noValidate>
        {returnTo && (
          <p className="notice" data-testid="oauth2-login" role="note">
            {appName ? (
              <>
                Sign in to continue to <strong>{appName}</strong>.
              </>
            ) : (
              'Sign in to continue to the application that sent you here.'
            )}
            {forcePrompt && ' The application asks you to sign in again.'}
          </p>
        )}
        {refusedReturnTo && (
          <p className="notice warn" role="note" data-testid="return-to-refused">
            The link that brought you here asked to continue to another site after signing in; it was ignored.
          </p>
        )}
        {returnTo && principal && !forcePrompt && (
          <p>
            <button type="button" className="secondary" onClick={() => window.location.assign(returnTo)}>
              Continue as {principal.email}
            </button>
          </p>
        )}
        <ErrorBox error={a.error} shownFields={['email', 'password']} />
        <Field label="Email" name="email" type="email" autoComplete="username" value={email}
          onChange={(e) => setEmail(e.target.value)} errors={a.error?.fields} required autoFocus={!hinted} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} errors={a.error?.fields} required autoFocus={hinted} />
        <Button type="submit" busy={a.busy} busyLabel="Signing in…">
          Sign in
        </Button>
        <p className="links">
          <Link to="/recover">Forgot your password?</Link>
          {info.data?.registration_open !== false && <Link to="/register">Create an account</Link>}
          <Link to="/verify">Verify your email</Link>
        </p>
      </form>
    </Page>
  )
}

export function RegisterScreen() {
  const { navigate } = useRouter()
  const { refresh } = useSession()
  const [email, setEmail] = useState('')
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const a = useAction()
  const info = useLoad((signal) => get<{ open: boolean }>('/api/auth/register', { signal }), [])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    await a.run(async () => {
      await post<Principal>('/api/auth/register', { email, password, name: name || undefined }, { quiet401: true })
      await refresh()
      navigate('/verify?email=' + encodeURIComponent(email) + '&registered=1', { replace: true })
    })
  }

  if (info.data && !info.data.open) {
    return (
      <Page title="Create an account">
        <div className="card narrow">
          <p>Registration is by invitation only on this server. Ask an admin to create your account.</p>
          <Link to="/login">Back to sign in</Link>
        </div>
      </Page>
    )
  }
  return (
    <Page title="Create an account">
      <form className="card narrow" onSubmit={submit} noValidate>
        <ErrorBox error={a.error} shownFields={['email', 'password', 'name']} />
        <Field label="Email" name="email" type="email" autoComplete="email" value={email}
          onChange={(e) => setEmail(e.target.value)} errors={a.error?.fields} required autoFocus />
        <Field label="Name" name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)}
          errors={a.error?.fields} hint="Optional." />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={password}
          onChange={(e) => setPassword(e.target.value)} errors={a.error?.fields} required
          hint="At least 8 characters; not your email, not a known leaked password." />
        <Button type="submit" busy={a.busy} busyLabel="Creating your account…">
          Create account
        </Button>
        <p className="links">
          <Link to="/login">Already have an account? Sign in</Link>
        </p>
      </form>
    </Page>
  )
}

/** The two-step email-code flows: verification and recovery. */
function CodeFlow({ kind }: { kind: 'verification' | 'recovery' }) {
  const { search, navigate } = useRouter()
  const { refresh } = useSession()
  const [email, setEmail] = useState(search.get('email') ?? '')
  const [flowId, setFlowId] = useState('')
  const [code, setCode] = useState('')
  const [verified, setVerified] = useState(false)
  const a = useAction()
  const path = '/api/auth/' + kind

  const send = async (e: FormEvent) => {
    e.preventDefault()
    await a.run(async () => {
      const f = await post<FlowState>(path, { email }, { quiet401: true })
      setFlowId(f.flow_id)
      setCode('')
    }, `We sent a code to ${email}. It may take a minute to arrive.`)
  }
  const check = async (e: FormEvent) => {
    e.preventDefault()
    await a.run(async () => {
      await post(path, { flow_id: flowId, code: code.trim() }, { quiet401: true })
      if (kind === 'recovery') {
        await refresh()
        navigate('/account?recovered=1', { replace: true })
      } else {
        setVerified(true)
      }
    })
  }

  if (verified) {
    return (
      <div className="card narrow">
        <Success>Your email address {email} is verified.</Success>
        <Link to="/account">Continue to your account</Link>
      </div>
    )
  }
  if (!flowId) {
    return (
      <form className="card narrow" onSubmit={send} noValidate>
        {search.get('registered') && (
          <Success>Your account is created. Verify your email: we can send you a code now.</Success>
        )}
        <p>
          {kind === 'recovery'
            ? 'Enter the email of your account. We will send a code that signs you in, so you can choose a new password.'
            : 'Enter your email address to receive a verification code.'}
        </p>
        <ErrorBox error={a.error} shownFields={['email']} />
        <Field label="Email" name="email" type="email" autoComplete="email" value={email}
          onChange={(e) => setEmail(e.target.value)} errors={a.error?.fields} required autoFocus />
        <Button type="submit" busy={a.busy} busyLabel="Sending…">
          Send code
        </Button>
        <p className="links">
          <Link to="/login">Back to sign in</Link>
        </p>
      </form>
    )
  }
  return (
    <form className="card narrow" onSubmit={check} noValidate>
      <Success>{a.done}</Success>
      <ErrorBox error={a.error} shownFields={['code']} />
      <Field label="Code from the email" name="code" value={code} onChange={(e) => setCode(e.target.value)}
        errors={a.error?.fields} autoComplete="one-time-code" inputMode="numeric" required autoFocus />
      <Button type="submit" busy={a.busy} busyLabel="Checking…">
        {kind === 'recovery' ? 'Sign in with this code' : 'Verify'}
      </Button>
      <button type="button" className="link" onClick={() => setFlowId('')}>
        Send a new code
      </button>
    </form>
  )
}

export function VerifyScreen() {
  return (
    <Page title="Verify your email">
      <CodeFlow kind="verification" />
    </Page>
  )
}

export function RecoverScreen() {
  return (
    <Page title="Recover your account">
      <CodeFlow kind="recovery" />
    </Page>
  )
}
