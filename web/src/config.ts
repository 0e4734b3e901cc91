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
  /**
   * TRUSS_PUBLIC_URL: where the API (and the Hydra bridge) lives. Defaults to
   * apiUrl when it is absolute, else the page's own origin. The login page
   * only follows a return_to on this URL's /api/hydra/bridge/login.
   */
  publicUrl: string
}

declare global {
  interface Window {
    __TRUSS__?: Partial<TrussConfig>
  }
}

const injected = window.__TRUSS__ ?? {}
const buildTime = (import.meta.env.VITE_API_URL as string | undefined) ?? ''

const apiUrl = (injected.apiUrl ?? buildTime).replace(/\/+$/, '')

export const config: TrussConfig = {
  apiUrl,
  basePath: (injected.basePath ?? '').replace(/\/+$/, ''),
  demo: injected.demo === true,
  publicUrl: (injected.publicUrl ?? (/^https?:\/\//.test(apiUrl) ? apiUrl : window.location.origin)).replace(/\/+$/, ''),
}
