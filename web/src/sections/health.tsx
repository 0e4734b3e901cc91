import { get } from '../api'
import { Button, Empty, ErrorBox, Loading, Page } from '../ui'
import { useLoad } from '../ui'

interface Dependency {
  status: 'up' | 'down' | 'disabled'
  required: boolean
  target?: string
  latency_ms: number
  version?: string
  error?: string
}

interface Report {
  status: 'ok' | 'degraded' | 'down'
  version: string
  failing?: string[]
  error?: { code: string; message: string; hint?: string }
  dependencies: Record<string, Dependency>
}

interface DoctorCheck {
  id: string
  title: string
  status: 'ok' | 'warn' | 'fail'
  evidence: string
  fix?: string
}

// DoctorReport shows `truss doctor`'s verdicts (GET /api/doctor, admins only):
// each problem with the evidence and the fix. Non-admins see nothing.
function DoctorReport() {
  const report = useLoad((signal) => get<{ status: string; checks: DoctorCheck[] }>('/api/doctor', { signal, acceptStatus: [403] }), [])
  const r = report.data
  if (report.loading && !r) return <Loading label="Running truss doctor…" />
  if (report.error) return <ErrorBox error={report.error} />
  if (!r || !r.checks) return null
  const problems = r.checks.filter((c) => c.status !== 'ok')
  return (
    <section aria-labelledby="doctor-h" data-testid="doctor">
      <h2 id="doctor-h">Diagnosis (truss doctor)</h2>
      {problems.length === 0 ? (
        <p className="notice success" role="status">All {r.checks.length} checks pass.</p>
      ) : (
        <ul className="doctor">
          {problems.map((c, i) => (
            <li key={c.id + i} data-check={c.id} data-status={c.status}>
              <span className={'badge ' + (c.status === 'fail' ? 'bad' : '')}>{c.status}</span> <strong>{c.title}</strong>
              <p className="hint">{c.evidence}</p>
              {c.fix && <p><strong>Fix:</strong> {c.fix}</p>}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">{r.checks.length - problems.length} of {r.checks.length} checks pass. The same report: <code>truss doctor</code>.</p>
    </section>
  )
}

export function HealthScreen() {
  // 503 still carries the full report: read it instead of failing.
  const report = useLoad((signal) => get<Report>('/api/health', { signal, acceptStatus: [503] }), [])
  const r = report.data
  return (
    <Page
      title="System health"
      actions={
        <Button className="secondary" busy={report.loading} busyLabel="Checking…" onClick={report.reload}>
          Check again
        </Button>
      }
    >
      {report.loading && !r ? (
        <Loading label="Probing every service…" />
      ) : report.error ? (
        <ErrorBox error={report.error} />
      ) : !r ? null : (
        <>
          <div className={'notice ' + (r.status === 'ok' ? 'success' : r.status === 'degraded' ? 'warn' : 'error')} role="status" data-health={r.status}>
            <strong>
              {r.status === 'ok' ? 'All services are up.' : r.status === 'degraded' ? 'Running, with an optional service down.' : r.error?.message ?? 'Required services are down.'}
            </strong>{' '}
            Truss {r.version}.{r.error?.hint ? <p className="hint">{r.error.hint}</p> : null}
          </div>
          {Object.keys(r.dependencies).length === 0 ? (
            <Empty>No dependencies are configured.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Dependencies of Truss</caption>
                <thead>
                  <tr>
                    <th scope="col">Service</th>
                    <th scope="col">Status</th>
                    <th scope="col">Latency</th>
                    <th scope="col">Version</th>
                    <th scope="col">Configured by</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(r.dependencies)
                    .sort(([a], [b]) => a.localeCompare(b))
                    .map(([name, d]) => (
                      <tr key={name} data-dependency={name} data-status={d.status}>
                        <th scope="row">
                          {name}
                          {!d.required && <span className="muted small"> (optional)</span>}
                        </th>
                        <td>
                          <span className={'badge ' + (d.status === 'up' ? 'ok' : d.status === 'down' ? 'bad' : '')}>{d.status}</span>
                          {d.status === 'down' && d.error && <p className="hint">{d.error}</p>}
                        </td>
                        <td>{d.status === 'disabled' ? '—' : d.latency_ms.toFixed(1) + ' ms'}</td>
                        <td>{d.version || '—'}</td>
                        <td><code>{d.target || '—'}</code></td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          )}
          <DoctorReport />
        </>
      )}
    </Page>
  )
}
