import { lazy, Suspense, useEffect, type ReactNode } from 'react'
import { config } from './config'
import { Link, match, Router, useRouter } from './router'
import { SessionProvider, useSession } from './session'
import { ErrorBox, Loading } from './ui'

// Code-split by section: each import() is its own chunk, loaded on first visit.
const auth = () => import('./sections/auth')
const LoginScreen = lazy(() => auth().then((m) => ({ default: m.LoginScreen })))
const RegisterScreen = lazy(() => auth().then((m) => ({ default: m.RegisterScreen })))
const VerifyScreen = lazy(() => auth().then((m) => ({ default: m.VerifyScreen })))
const RecoverScreen = lazy(() => auth().then((m) => ({ default: m.RecoverScreen })))
const AccountScreen = lazy(() => import('./sections/account').then((m) => ({ default: m.AccountScreen })))
const HealthScreen = lazy(() => import('./sections/health').then((m) => ({ default: m.HealthScreen })))
const admin = () => import('./sections/admin')
const UsersScreen = lazy(() => admin().then((m) => ({ default: m.UsersScreen })))
const UserScreen = lazy(() => admin().then((m) => ({ default: m.UserScreen })))
const oauth2 = () => import('./sections/oauth2')
const ConsentScreen = lazy(() => oauth2().then((m) => ({ default: m.ConsentScreen })))
const LogoutScreen = lazy(() => oauth2().then((m) => ({ default: m.LogoutScreen })))
const ClientsScreen = lazy(() => oauth2().then((m) => ({ default: m.ClientsScreen })))
const permissions = () => import('./sections/permissions')
const PermissionsScreen = lazy(() => permissions().then((m) => ({ default: m.PermissionsScreen })))
const ModelScreen = lazy(() => permissions().then((m) => ({ default: m.ModelScreen })))
const EmailScreen = lazy(() => import('./sections/email').then((m) => ({ default: m.EmailScreen })))
const SessionsScreen = lazy(() => import('./sections/sessions').then((m) => ({ default: m.SessionsScreen })))
const SqlScreen = lazy(() => import('./sections/sql').then((m) => ({ default: m.SqlScreen })))
const KeysScreen = lazy(() => import('./sections/keys').then((m) => ({ default: m.KeysScreen })))

export function App() {
  return (
    <Router>
      <SessionProvider>
        <Shell />
      </SessionProvider>
    </Router>
  )
}

// /oauth2/logout works signed in or not (Hydra's logout is Public).
const publicPaths = ['/login', '/register', '/verify', '/recover', '/oauth2/logout']

function Shell() {
  const { path } = useRouter()
  const { status, principal, error, signOut } = useSession()
  const isPublic = publicPaths.includes(path)
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      {config.demo && (
        <div className="demo-banner" role="note">
          You are viewing the <strong>read-only demo</strong> with example data. Nothing you do here is saved.{' '}
          <a href="/">Go to your own dashboard</a>
        </div>
      )}
      <header className="topbar">
        <Link to="/" className="brand">
          Truss{config.demo ? ' demo' : ''}
        </Link>
        {principal && (
          <nav aria-label="Main">
            <NavLink to="/account">Account</NavLink>
            <NavLink to="/permissions">Permissions</NavLink>
            <NavLink to="/oauth2/clients">OAuth2</NavLink>
            <NavLink to="/keys">API keys</NavLink>
            <NavLink to="/health">System health</NavLink>
            {principal.is_admin && <NavLink to="/admin/users">Users</NavLink>}
            {principal.is_admin && <NavLink to="/admin/email">Email</NavLink>}
            {principal.is_admin && !config.demo && <NavLink to="/admin/sql">SQL</NavLink>}
          </nav>
        )}
        {principal && (
          <div className="who">
            <span className="muted" data-testid="who">
              {principal.email}
            </span>
            {!config.demo && (
              <button className="link" onClick={() => void signOut()}>
                Sign out
              </button>
            )}
          </div>
        )}
      </header>
      <main id="main">
        {status === 'loading' ? (
          <Loading label="Checking your session…" />
        ) : status === 'error' && !isPublic ? (
          <ErrorBox error={error} />
        ) : (
          <Suspense fallback={<Loading />}>
            <Routes isPublic={isPublic} />
          </Suspense>
        )}
      </main>
    </>
  )
}

function NavLink({ to, children }: { to: string; children: ReactNode }) {
  const { path } = useRouter()
  const active = path === to || path.startsWith(to + '/')
  return (
    <Link to={to} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  )
}

function Routes({ isPublic }: { isPublic: boolean }) {
  const { path, search, navigate } = useRouter()
  const { status, error } = useSession()
  const signedIn = status === 'signed-in'

  useEffect(() => {
    if (!signedIn && !isPublic && !config.demo) {
      const q = search.toString()
      navigate('/login?next=' + encodeURIComponent(path + (q ? '?' + q : '')), { replace: true })
    }
    if (path === '/') navigate(config.demo ? '/admin/users' : '/account', { replace: true })
  }, [signedIn, isPublic, path, search, navigate])

  if (isPublic) {
    if (config.demo) return <ErrorBox error={error} />
    switch (path) {
      case '/login':
        return <LoginScreen />
      case '/register':
        return <RegisterScreen />
      case '/verify':
        return <VerifyScreen />
      case '/recover':
        return <RecoverScreen />
      case '/oauth2/logout':
        return <LogoutScreen />
    }
  }
  if (!signedIn) return config.demo ? <ErrorBox error={error} /> : <Loading />
  if (path === '/account') return <AccountScreen />
  if (path === '/account/sessions') return <SessionsScreen />
  if (path === '/oauth2/consent') return <ConsentScreen />
  if (path === '/oauth2/clients') return <ClientsScreen />
  if (path === '/permissions') return <PermissionsScreen />
  if (path === '/permissions/model') return <ModelScreen />
  if (path === '/admin/email') return <EmailScreen />
  if (path === '/admin/sql') return <SqlScreen />
  if (path === '/keys') return <KeysScreen />
  if (path === '/health') return <HealthScreen />
  if (path === '/admin/users') return <UsersScreen />
  const m = match('/admin/users/:id', path)
  if (m) return <UserScreen id={m.id} />
  if (path === '/') return <Loading />
  return (
    <section className="page">
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link to="/account">Go to your account</Link>.
      </p>
    </section>
  )
}
