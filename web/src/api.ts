import { config } from './config'

// The API client: every call sends credentials (the truss_session cookie,
// also cross-origin) and, on writes, the X-CSRF-Token header copied from the
// truss_csrf cookie. Errors arrive in Truss's one shape and become ApiError.

export type FieldErrors = Record<string, string[]>

export class ApiError extends Error {
  status: number
  code: string
  hint?: string
  fields: FieldErrors
  requestId?: string
  details: Record<string, unknown>
  constructor(status: number, code: string, message: string, hint?: string, details?: Record<string, unknown>, requestId?: string) {
    super(message)
    this.status = status
    this.code = code
    this.hint = hint
    this.details = details ?? {}
    this.fields = (this.details.fields as FieldErrors | undefined) ?? {}
    this.requestId = requestId
  }
}

type UnauthorizedHandler = (err: ApiError) => void
let onUnauthorized: UnauthorizedHandler | null = null

/** Registers what a 401 does (the session provider sends the user to login). */
export function setUnauthorizedHandler(fn: UnauthorizedHandler | null) {
  onUnauthorized = fn
}

function csrfToken(): string {
  const tokens = document.cookie
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c.startsWith('truss_csrf='))
    .map((c) => decodeURIComponent(c.slice('truss_csrf='.length)))
  // With a host-only and a parent-domain copy the server accepts either.
  return tokens.length ? tokens[tokens.length - 1] : ''
}

export interface RequestOptions {
  body?: unknown
  /** Do not run the global 401 handler (the session probe, login itself). */
  quiet401?: boolean
  /** Resolve with the body of these error statuses instead of throwing. */
  acceptStatus?: number[]
  signal?: AbortSignal
}

export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  const init: RequestInit = { method, credentials: 'include', headers, signal: opts.signal }
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    init.body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
  }
  if (method !== 'GET' && method !== 'HEAD') {
    let token = csrfToken()
    if (!token) {
      // Any response hands out the cookie; on another origin it is readable
      // only when CSRF_COOKIE_DOMAIN is a shared parent domain.
      await fetch(config.apiUrl + '/api/auth/login', { credentials: 'include' }).catch(() => undefined)
      token = csrfToken()
    }
    headers['X-CSRF-Token'] = token
  }
  let resp: Response
  try {
    resp = await fetch(config.apiUrl + path, init)
  } catch (e) {
    throw new ApiError(0, 'network_error', 'Truss did not answer: check your connection or that the server is running.',
      `The request to ${config.apiUrl || window.location.origin}${path} failed (${(e as Error).message}).`)
  }
  const text = await resp.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  if (resp.ok || opts.acceptStatus?.includes(resp.status)) return data as T
  const e = (data as { error?: { code?: string; message?: string; hint?: string; details?: Record<string, unknown>; request_id?: string } } | null)?.error
  const err = e
    ? new ApiError(resp.status, e.code ?? 'error', e.message ?? resp.statusText, e.hint, e.details, e.request_id)
    : new ApiError(resp.status, 'http_' + resp.status, `The server answered ${resp.status} ${resp.statusText}.`)
  if (resp.status === 401 && !opts.quiet401 && onUnauthorized) onUnauthorized(err)
  throw err
}

export const get = <T>(path: string, opts?: RequestOptions) => api<T>('GET', path, opts)
export const post = <T>(path: string, body?: unknown, opts?: RequestOptions) => api<T>('POST', path, { ...opts, body: body ?? {} })
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, { body })
export const del = <T>(path: string) => api<T>('DELETE', path)

// --- shapes of the API (internal/auth, internal/health) ---

export interface Principal {
  identity_id: string
  email: string
  name?: string
  tenant_id: string
  is_admin: boolean
  is_demo: boolean
  session_id: string
  aal: string
  expires_at: string
}

export interface FlowState {
  flow_id: string
  state: string
}
