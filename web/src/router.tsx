import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode, type MouseEvent } from 'react'
import { config } from './config'

// A tiny history router: paths are relative to config.basePath ("" or
// "/demo"), so the same app serves / and the read-only demo under /demo/.

interface Location {
  path: string
  search: URLSearchParams
}

interface RouterValue extends Location {
  navigate: (to: string, opts?: { replace?: boolean }) => void
}

const RouterContext = createContext<RouterValue | null>(null)

function current(): Location {
  let path = window.location.pathname
  if (config.basePath && path.startsWith(config.basePath)) path = path.slice(config.basePath.length)
  return { path: path || '/', search: new URLSearchParams(window.location.search) }
}

export function Router({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState(current)
  useEffect(() => {
    const on = () => setLoc(current())
    window.addEventListener('popstate', on)
    return () => window.removeEventListener('popstate', on)
  }, [])
  const navigate = useCallback((to: string, opts?: { replace?: boolean }) => {
    const url = config.basePath + to
    if (opts?.replace) window.history.replaceState(null, '', url)
    else window.history.pushState(null, '', url)
    setLoc(current())
    window.scrollTo(0, 0)
  }, [])
  const value = useMemo(() => ({ ...loc, navigate }), [loc, navigate])
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>
}

export function useRouter(): RouterValue {
  const r = useContext(RouterContext)
  if (!r) throw new Error('useRouter outside <Router>')
  return r
}

/** Where the user is now, to come back to after signing in. */
export function herePath(): string {
  const l = current()
  const q = l.search.toString()
  return l.path + (q ? '?' + q : '')
}

export function Link({ to, children, className, ...rest }: { to: string; children: ReactNode; className?: string; 'aria-current'?: 'page' }) {
  const { navigate } = useRouter()
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return (
    <a href={config.basePath + to} onClick={onClick} className={className} {...rest}>
      {children}
    </a>
  )
}

/** Matches "/admin/users/:id" against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean)
  const s = path.split('/').filter(Boolean)
  if (p.length !== s.length) return null
  const out: Record<string, string> = {}
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(s[i])
    else if (p[i] !== s[i]) return null
  }
  return out
}
