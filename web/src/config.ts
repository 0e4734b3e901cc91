// Runtime configuration. The server injects window.__TRUSS__ into index.html
// (web/embed.go and internal/demo); a dashboard deployed on another origin
// sets it in its own index.html, or is built with VITE_API_URL. Default: the
// API on the page's own origin.
export interface TrussConfig {
  /** Base URL prepended to /api/... ("" = same origin; "/demo" in the demo). */
  apiUrl: string
  /** Path prefix the app is mounted under ("" at /, "/demo" in the demo). */
  basePath: string
  /** The read-only demo: no login, every write is refused by the server. */
  demo: boolean
}

declare global {
  interface Window {
    __TRUSS__?: Partial<TrussConfig>
  }
}

const injected = window.__TRUSS__ ?? {}
const buildTime = (import.meta.env.VITE_API_URL as string | undefined) ?? ''

export const config: TrussConfig = {
  apiUrl: (injected.apiUrl ?? buildTime).replace(/\/+$/, ''),
  basePath: (injected.basePath ?? '').replace(/\/+$/, ''),
  demo: injected.demo === true,
}
