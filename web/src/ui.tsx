import { useCallback, useEffect, useId, useRef, useState, type ReactNode, type InputHTMLAttributes } from 'react'
import { ApiError, type FieldErrors } from './api'
import { config } from './config'

/** Loads data on mount (and on reload), with loading and error states. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    const ctl = new AbortController()
    setLoading(true)
    setError(null)
    loadRef.current(ctl.signal).then(
      (d) => {
        if (!ctl.signal.aborted) {
          setData(d)
          setLoading(false)
        }
      },
      (e) => {
        if (!ctl.signal.aborted) {
          setError(e instanceof ApiError ? e : new ApiError(0, 'client_error', String(e)))
          setLoading(false)
        }
      },
    )
    return () => ctl.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { data, error, loading, reload, setData }
}

/** Runs a form action: busy flag, error, and success message. */
export function useAction() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const [done, setDone] = useState<string | null>(null)
  const run = useCallback(async <T,>(fn: () => Promise<T>, success?: string): Promise<T | undefined> => {
    setBusy(true)
    setError(null)
    setDone(null)
    try {
      const out = await fn()
      if (success) setDone(success)
      return out
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'client_error', String(e)))
      return undefined
    } finally {
      setBusy(false)
    }
  }, [])
  return { busy, error, done, run, setError, setDone }
}

type FieldProps = {
  label: string
  name: string
  errors?: FieldErrors
  hint?: ReactNode
} & InputHTMLAttributes<HTMLInputElement>

/** A labelled input whose server-side errors (details.fields) sit under it. */
export function Field({ label, name, errors, hint, id, ...input }: FieldProps) {
  const auto = useId()
  const inputId = id ?? auto
  const msgs = errors?.[name]
  const errId = inputId + '-err'
  const hintId = inputId + '-hint'
  const describedBy = [msgs?.length ? errId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input id={inputId} name={name} aria-invalid={msgs?.length ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {msgs?.length ? (
        <p className="field-error" id={errId} data-field-error={name}>
          {label} {msgs.join('; ')}
        </p>
      ) : null}
    </div>
  )
}

/** The API error: message, hint, and field errors not shown next to a field. */
export function ErrorBox({ error, shownFields = [] }: { error: ApiError | null; shownFields?: string[] }) {
  if (!error) return null
  if (error.code === 'demo_read_only') {
    return (
      <div className="notice demo-notice" role="alert" data-error-code={error.code}>
        <strong>This is a read-only demo.</strong> Changes are switched off here, so nothing was saved.{' '}
        {config.demo ? 'Install Truss to try it for real.' : null}
      </div>
    )
  }
  const other = Object.entries(error.fields).filter(([k]) => !shownFields.includes(k))
  return (
    <div className="notice error" role="alert" data-error-code={error.code}>
      <strong>{error.message}</strong>
      {other.length > 0 && (
        <ul>
          {other.map(([k, v]) => (
            <li key={k}>
              <code>{k}</code> {v.join('; ')}
            </li>
          ))}
        </ul>
      )}
      {error.hint && <p className="hint">{error.hint}</p>}
      {error.requestId && <p className="muted small">Request ID: {error.requestId}</p>}
    </div>
  )
}

export function Success({ children }: { children: ReactNode }) {
  if (!children) return null
  return (
    <div className="notice success" role="status">
      {children}
    </div>
  )
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>
}

export function Button({ busy, children, busyLabel, ...rest }: { busy?: boolean; busyLabel?: string } & React.ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button {...rest} disabled={busy || rest.disabled} aria-busy={busy || undefined}>
      {busy ? (busyLabel ?? 'Working…') : children}
    </button>
  )
}

export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  useEffect(() => {
    document.title = title + ' · Truss' + (config.demo ? ' demo' : '')
    // The first screen with content: the browser test reads this mark as
    // the first meaningful paint.
    if (performance.getEntriesByName('truss:first-screen').length === 0) performance.mark('truss:first-screen')
  }, [title])
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {actions}
      </header>
      {children}
    </section>
  )
}

export function formatDate(s?: string | null): string {
  if (!s) return '—'
  const d = new Date(s)
  return isNaN(d.getTime()) ? s : d.toLocaleString()
}
