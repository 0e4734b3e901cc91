import { useState, type FormEvent } from 'react'
import { api, del, get, post } from '../api'
import { useSession } from '../session'
import { Button, Empty, ErrorBox, Field, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

// Email (admins): SMTP settings, a test send with its diagnostic, the outbox
// (internal/email/handlers_*.go).

interface SMTPSettings {
  source: 'environment' | 'database' | string
  enabled: boolean
  host: string
  port: number
  user: string
  password_set: boolean
  password_error?: string
  from: string
  sender_name: string
  tls: string
  tls_effective: string
  timeout: string
  updated_at?: string
  updated_by?: string
  secret_key_configured: boolean
  kratos_courier_uri?: string
}

interface Step {
  step: string
  ok: boolean
  duration_ms: number
  detail?: string
  error?: string
}

interface TestResult {
  ok: boolean
  to: string
  server: string
  source: string
  tls_mode: string
  reply: string
  duration_ms: number
  steps: Step[]
  transcript?: string[]
}

interface OutboxEntry {
  id: number
  kind: string
  to: string
  subject: string
  status: 'pending' | 'sent' | 'failed'
  attempts: number
  last_error: string | null
  smtp_reply: string | null
  next_attempt_at: string | null
  created_at: string
  sent_at: string | null
  failed_at: string | null
}

export function EmailScreen() {
  const settings = useLoad((signal) => get<SMTPSettings>('/api/settings/smtp', { signal }), [])
  return (
    <Page title="Email">
      <div className="grid">
        {settings.loading && !settings.data ? (
          <section className="card"><Loading label="Loading SMTP settings…" /></section>
        ) : settings.error ? (
          <section className="card"><ErrorBox error={settings.error} /></section>
        ) : (
          <SettingsForm key={settings.data!.updated_at ?? settings.data!.source} current={settings.data!} onSaved={(s) => settings.setData(s)} />
        )}
        <TestSend />
        <Outbox />
      </div>
    </Page>
  )
}

function SettingsForm({ current, onSaved }: { current: SMTPSettings; onSaved: (s: SMTPSettings) => void }) {
  const [f, setF] = useState({
    host: current.host, port: String(current.port || 587), user: current.user, from: current.from,
    sender_name: current.sender_name, tls: current.tls || 'auto', timeout: current.timeout || '10s',
  })
  const [password, setPassword] = useState('')
  const [pwChange, setPwChange] = useState<'keep' | 'set' | 'remove'>('keep')
  const a = useAction()
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value })

  const save = async (e: FormEvent) => {
    e.preventDefault()
    const body: Record<string, unknown> = { ...f, port: Number(f.port) || 0 }
    if (pwChange === 'set') body.password = password
    if (pwChange === 'remove') body.password = ''
    const s = await a.run(() => api<SMTPSettings>('PUT', '/api/settings/smtp', { body }), 'SMTP settings saved; they apply now.')
    if (s) {
      setPassword('')
      setPwChange('keep')
      onSaved(s)
    }
  }
  const reset = async () => {
    if (!window.confirm('Forget the settings saved here and use the SMTP_* environment variables again?')) return
    const s = await a.run(() => del<SMTPSettings>('/api/settings/smtp'), 'Back to the environment’s SMTP settings.')
    if (s) onSaved(s)
  }
  const fields = ['host', 'port', 'user', 'password', 'from', 'sender_name', 'tls', 'timeout']
  return (
    <form className="card wide" onSubmit={save} noValidate aria-labelledby="smtp-h">
      <h2 id="smtp-h">SMTP server</h2>
      <p className="muted small" data-testid="smtp-source">
        {current.source === 'database'
          ? <>Settings saved in Truss{current.updated_at ? <> on {formatDate(current.updated_at)}</> : null}; they override the <code>SMTP_*</code> variables.</>
          : <>Settings from the environment (<code>SMTP_*</code> variables). Saving here overrides them.</>}{' '}
        {!current.enabled && <strong>Email is disabled (no host).</strong>} TLS in effect: <code>{current.tls_effective}</code>.
      </p>
      <ErrorBox error={a.error} shownFields={fields} />
      <Success>{a.done}</Success>
      <div className="row">
        <Field label="Host" name="host" value={f.host} onChange={set('host')} errors={a.error?.fields} placeholder="smtp.example.com" required />
        <Field label="Port" name="port" type="number" min={1} max={65535} value={f.port} onChange={set('port')} errors={a.error?.fields} hint="587: STARTTLS (recommended); 465: implicit TLS." />
        <div className="field">
          <label htmlFor="smtp-tls">TLS</label>
          <select id="smtp-tls" name="tls" value={f.tls} onChange={set('tls')}>
            <option value="auto">auto (by port)</option>
            <option value="starttls">starttls (required)</option>
            <option value="tls">tls (implicit)</option>
            <option value="none">none</option>
          </select>
          {a.error?.fields.tls && <p className="field-error" data-field-error="tls">TLS {a.error.fields.tls.join('; ')}</p>}
        </div>
      </div>
      <div className="row">
        <Field label="User" name="user" autoComplete="off" value={f.user} onChange={set('user')} errors={a.error?.fields} hint="Empty: no authentication." />
        <div className="field">
          <span className="label" id="pw-label">Password</span>
          <p className="small" data-testid="password-set">
            {current.password_set ? 'A password is set (never shown).' : 'No password set.'}
            {current.password_error && <span className="field-error"> {current.password_error}</span>}
          </p>
          <div role="radiogroup" aria-labelledby="pw-label">
            <label className="inline"><input type="radio" name="pw" checked={pwChange === 'keep'} onChange={() => setPwChange('keep')} /> Keep</label>
            <label className="inline"><input type="radio" name="pw" checked={pwChange === 'set'} onChange={() => setPwChange('set')} /> Set a new one</label>
            {current.password_set && <label className="inline"><input type="radio" name="pw" checked={pwChange === 'remove'} onChange={() => setPwChange('remove')} /> Remove</label>}
          </div>
          {pwChange === 'set' && (
            <Field label="New password" name="password" type="password" autoComplete="new-password" value={password}
              onChange={(e) => setPassword(e.target.value)} errors={a.error?.fields}
              hint={current.secret_key_configured ? 'Stored encrypted with TRUSS_SECRET_KEY.' : 'TRUSS_SECRET_KEY is not set: the password cannot be stored.'} />
          )}
        </div>
      </div>
      <div className="row">
        <Field label="From" name="from" type="email" value={f.from} onChange={set('from')} errors={a.error?.fields} placeholder="no-reply@example.com" required />
        <Field label="Sender name" name="sender_name" value={f.sender_name} onChange={set('sender_name')} errors={a.error?.fields} />
        <Field label="Timeout" name="timeout" value={f.timeout} onChange={set('timeout')} errors={a.error?.fields} hint="A duration such as 10s." />
      </div>
      <div className="actions">
        <Button type="submit" busy={a.busy} busyLabel="Saving…">Save settings</Button>
        {current.source === 'database' && <Button type="button" className="secondary" busy={a.busy} onClick={() => void reset()}>Use environment settings</Button>}
      </div>
      {current.kratos_courier_uri && (
        <p className="small muted">Kratos courier: point <code>KRATOS_COURIER_SMTP_URI</code> at <code>{current.kratos_courier_uri}</code>.</p>
      )}
    </form>
  )
}

function Steps({ steps }: { steps: Step[] }) {
  if (!steps.length) return null
  return (
    <ol className="steps" data-testid="smtp-steps">
      {steps.map((s, i) => (
        <li key={i} data-step={s.step} data-ok={s.ok}>
          <span className={'badge ' + (s.ok ? 'ok' : 'bad')}>{s.ok ? 'ok' : 'failed'}</span> <strong>{s.step}</strong>{' '}
          <span className="muted small">{s.duration_ms.toFixed(1)} ms</span>
          {s.detail && <span className="small"> {s.detail}</span>}
          {s.error && <span className="field-error"> {s.error}</span>}
        </li>
      ))}
    </ol>
  )
}

function TestSend() {
  const { principal } = useSession()
  const [to, setTo] = useState('')
  const [result, setResult] = useState<TestResult | null>(null)
  const a = useAction()
  const send = async (e: FormEvent) => {
    e.preventDefault()
    setResult(null)
    const r = await a.run(() => post<TestResult>('/api/settings/smtp/test', to ? { to } : {}))
    if (r) setResult(r)
  }
  const failed = a.error?.code === 'smtp_test_failed' ? a.error : null
  const failedSteps = (failed?.details.steps as Step[] | undefined) ?? []
  return (
    <form className="card wide" onSubmit={send} noValidate aria-labelledby="test-h">
      <h2 id="test-h">Send a test message</h2>
      <p className="muted small">Sends now, with the settings in effect, and reports each step: DNS, connection, TLS, authentication, the server’s reply.</p>
      <div className="row">
        <Field label="To" name="to" type="email" value={to} onChange={(e) => setTo(e.target.value)} errors={a.error?.fields}
          placeholder={principal?.email} hint="Empty: your own address." />
      </div>
      <Button type="submit" busy={a.busy} busyLabel="Sending… (up to the SMTP timeout)">Send test</Button>
      <div aria-live="polite">
        {result && (
          <div className="notice success" data-testid="smtp-test-ok">
            <p>
              <strong>Sent to {result.to}</strong> through <code>{result.server}</code> ({result.tls_mode}) in {result.duration_ms.toFixed(0)} ms.
            </p>
            <p className="small">Server reply: <code>{result.reply}</code></p>
            <Steps steps={result.steps} />
          </div>
        )}
        {failed && (
          <div className="notice error" data-testid="smtp-test-failed" role="alert">
            <p><strong>{failed.message}</strong></p>
            {typeof failed.details.failed_step === 'string' && <p>Failed step: <strong>{failed.details.failed_step}</strong></p>}
            {typeof failed.details.reply === 'string' && failed.details.reply && <p className="small">Server reply: <code>{failed.details.reply}</code></p>}
            {failed.hint && <p className="hint">{failed.hint}</p>}
            <Steps steps={failedSteps} />
            {Array.isArray(failed.details.transcript) && failed.details.transcript.length > 0 && (
              <details>
                <summary>SMTP transcript</summary>
                <pre className="small">{(failed.details.transcript as string[]).join('\n')}</pre>
              </details>
            )}
          </div>
        )}
        {a.error && !failed && <ErrorBox error={a.error} shownFields={['to']} />}
      </div>
    </form>
  )
}

function Outbox() {
  const [status, setStatus] = useState('')
  const [befores, setBefores] = useState<number[]>([])
  const before = befores[befores.length - 1]
  const list = useLoad((signal) => {
    const q = new URLSearchParams({ limit: '25' })
    if (status) q.set('status', status)
    if (before) q.set('before', String(before))
    return get<{ messages: OutboxEntry[]; next_before: number | null; counts: Record<string, number> }>('/api/email/outbox?' + q, { signal })
  }, [status, before])
  const counts = list.data?.counts
  return (
    <section className="card wide" aria-labelledby="outbox-h">
      <div className="page-head">
        <h2 id="outbox-h">Outbox</h2>
        <div className="actions">
          <label htmlFor="outbox-status" className="sr-only">Status</label>
          <select id="outbox-status" value={status} onChange={(e) => { setBefores([]); setStatus(e.target.value) }}>
            <option value="">All{counts ? ` (${counts.pending + counts.sent + counts.failed})` : ''}</option>
            <option value="pending">Pending{counts ? ` (${counts.pending})` : ''}</option>
            <option value="sent">Sent{counts ? ` (${counts.sent})` : ''}</option>
            <option value="failed">Failed{counts ? ` (${counts.failed})` : ''}</option>
          </select>
          <button type="button" className="secondary small" onClick={list.reload}>Refresh</button>
        </div>
      </div>
      {list.loading && !list.data ? (
        <Loading label="Loading the outbox…" />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data?.messages.length ? (
        <Empty>{status ? `No ${status} messages.` : 'No messages yet: Truss’s own mail (invitations, notices) is queued here.'}</Empty>
      ) : (
        <>
          <div className="table-wrap" aria-busy={list.loading}>
            <table>
              <caption className="sr-only">Outbox messages, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Created</th><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Status</th>
                  <th scope="col">Attempts</th><th scope="col">Last error / reply</th>
                </tr>
              </thead>
              <tbody>
                {list.data.messages.map((m) => (
                  <tr key={m.id} data-outbox={m.id} data-status={m.status}>
                    <td>{formatDate(m.created_at)}</td>
                    <td>{m.to}</td>
                    <td>{m.subject} <span className="muted small">({m.kind})</span></td>
                    <td>
                      <span className={'badge ' + (m.status === 'sent' ? 'ok' : m.status === 'failed' ? 'bad' : '')}>{m.status}</span>
                      {m.status === 'pending' && m.next_attempt_at && <div className="small muted">next {formatDate(m.next_attempt_at)}</div>}
                    </td>
                    <td>{m.attempts}</td>
                    <td className="small">{m.last_error ?? m.smtp_reply ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Outbox pages">
            <button className="secondary" disabled={!befores.length} onClick={() => setBefores(befores.slice(0, -1))}>Newer</button>
            <button className="secondary" disabled={!list.data.next_before} onClick={() => setBefores([...befores, list.data!.next_before!])}>Older</button>
          </nav>
        </>
      )}
    </section>
  )
}
