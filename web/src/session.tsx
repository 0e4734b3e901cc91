import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'
import { ApiError, get, post, setUnauthorizedHandler, type Principal } from './api'
import { config } from './config'
import { herePath, useRouter } from './router'

type Status = 'loading' | 'signed-in' | 'signed-out' | 'error'

interface SessionValue {
  status: Status
  principal: Principal | null
  error: ApiError | null
  refresh: () => Promise<Principal | null>
  signOut: () => Promise<void>
}

const SessionContext = createContext<SessionValue | null>(null)

/**
 * Second line of the demo separation (the server is the first): a demo
 * principal is never accepted off /demo/, and a real one never on it.
 */
export function acceptable(p: Principal): boolean {
  return p.is_demo === config.demo
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const { navigate } = useRouter()
  const [status, setStatus] = useState<Status>('loading')
  const [principal, setPrincipal] = useState<Principal | null>(null)
  const [error, setError] = useState<ApiError | null>(null)

  const refresh = useCallback(async () => {
    try {
      const p = await get<Principal>('/api/auth/session', { quiet401: true })
      if (!acceptable(p)) {
        setPrincipal(null)
        setStatus('signed-out')
        setError(new ApiError(403, 'demo_session_refused',
          config.demo ? 'The demo cannot show a real account.' : 'A demo session cannot open the real dashboard.',
          'Sign in with your own account.'))
        return null
      }
      setPrincipal(p)
      setStatus('signed-in')
      setError(null)
      return p
    } catch (e) {
      const err = e as ApiError
      setPrincipal(null)
      if (err.status === 401 || err.code === 'mfa_required') {
        setStatus('signed-out')
        setError(null)
      } else {
        setStatus('error')
        setError(err)
      }
      return null
    }
  }, [])

  useEffect(() => {
    void refresh()
  }, [refresh])

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setPrincipal(null)
      setStatus('signed-out')
      if (config.demo) {
        void refresh()
        return
      }
      const here = herePath()
      if (!here.startsWith('/login')) navigate('/login?next=' + encodeURIComponent(here), { replace: true })
    })
    return () => setUnauthorizedHandler(null)
  }, [navigate, refresh])

  const signOut = useCallback(async () => {
    try {
      await post('/api/auth/logout')
    } finally {
      setPrincipal(null)
      setStatus('signed-out')
      navigate('/login')
    }
  }, [navigate])

  return (
    <SessionContext.Provider value={{ status, principal, error, refresh, signOut }}>{children}</SessionContext.Provider>
  )
}

export function useSession(): SessionValue {
  const s = useContext(SessionContext)
  if (!s) throw new Error('useSession outside <SessionProvider>')
  return s
}
