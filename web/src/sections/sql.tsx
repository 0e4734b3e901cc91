import { useCallback, useRef, useState, type CSSProperties, type FormEvent, type KeyboardEvent } from 'react'
import { ApiError, api, del, get, post } from '../api'
import { config } from '../config'
import { useSession } from '../session'
import { Button, Empty, ErrorBox, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

// SQL workbench (admins): an editor, results, history, saved queries and a
// schema browser over /api/sql/* (internal/dbapi/workbench*.go). Read-only
// by default (truss_workbench_ro, READ ONLY, rolled back); write mode runs
// as service_role and commits.

interface Column {
  name: string
  type: string
}

interface QueryResult {
  rows: Record<string, unknown>[]
  rowCount: number
  columns: Column[]
  command: string
  truncated: boolean
  write: boolean
  duration_ms: number
}

interface HistoryEntry {
  id: number
  sql: string
  write: boolean
  command: string
  rowCount: number
  error_code?: string
  duration_ms: number
  created_at: string
}

interface SavedQuery {
  id: string
  name: string
  sql: string
  created_by: string | null
  created_at: string
  updated_at: string
}

interface BrowserColumn {
  name: string
  type: string
  nullable: boolean
  default: string | null
  primary_key: boolean
}

interface BrowserTable {
  schema: string
  name: string
  kind: string
  columns: BrowserColumn[]
  primary_key: string[]
  foreign_keys: { name: string; columns: string[]; ref_schema: string; ref_table: string; ref_columns: string[] }[]
  indexes: { name: string; unique: boolean; primary: boolean; definition: string }[]
}

interface BrowserFunction {
  schema: string
  name: string
  arguments: { name: string; type: string }[]
  num_defaults: number
  returns: string
  returns_set: boolean
  volatile: boolean
}

interface SchemaInfo {
  schemas: string[]
  tables: BrowserTable[]
  functions: BrowserFunction[]
}

const mono: CSSProperties = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' }
const layout: CSSProperties = { display: 'grid', gridTemplateColumns: 'minmax(14rem, 18rem) minmax(0, 1fr)', gap: '1rem', alignItems: 'start' }
const listItem: CSSProperties = { padding: '.4rem 0', borderBottom: '1px solid var(--border)' }
const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform)

function asError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'client_error', String(e))
}

export function SqlScreen() {
  const { principal } = useSession()
  if (config.demo || !principal?.is_admin) {
    return (
      <Page title="SQL">
        <div className="notice warn" role="note">
          {config.demo ? 'The SQL workbench is not part of the read-only demo.' : 'The SQL workbench is for admins only.'}
        </div>
      </Page>
    )
  }
  return <Workbench />
}

function Workbench() {
  const [sql, setSql] = useState('select 1 as one')
  const [write, setWrite] = useState(false)
  const [rowLimit, setRowLimit] = useState('')
  const [result, setResult] = useState<QueryResult | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [ranSql, setRanSql] = useState('')
  const [busy, setBusy] = useState(false)
  const editor = useRef<HTMLTextAreaElement>(null)

  const history = useLoad((signal) => get<{ history: HistoryEntry[] }>('/api/sql/history', { signal }), [])
  const saved = useLoad((signal) => get<{ saved: SavedQuery[] }>('/api/sql/saved', { signal }), [])
  const schema = useLoad((signal) => get<SchemaInfo>('/api/sql/schema', { signal }), [])

  const run = useCallback(async () => {
    if (busy || !sql.trim()) return
    setBusy(true)
    setError(null)
    setRanSql(sql)
    const body: Record<string, unknown> = { sql, write }
    if (rowLimit) body.row_limit = Number(rowLimit)
    try {
      const r = await post<QueryResult>('/api/sql/query', body)
      setResult(r)
      // DDL in write mode changes the schema; the cache reloads on a notification.
      if (write) window.setTimeout(schema.reload, 300)
    } catch (e) {
      setResult(null)
      setError(asError(e))
    } finally {
      setBusy(false)
      history.reload()
    }
  }, [busy, sql, write, rowLimit, history.reload, schema.reload])

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault()
      void run()
    }
  }

  const load = (text: string) => {
    setSql(text)
    editor.current?.focus()
  }

  const goTo = (pos: number) => {
    const el = editor.current
    if (!el) return
    // PostgreSQL's position counts characters from 1.
    const chars = [...ranSql]
    const offset = chars.slice(0, pos - 1).join('').length
    el.focus()
    el.setSelectionRange(offset, Math.min(offset + 1, el.value.length))
  }

  return (
    <Page title="SQL">
      <div style={layout}>
        <SchemaBrowser schema={schema} onQuery={load} />
        <div style={{ minWidth: 0 }}>
          <section className="card" aria-labelledby="sql-editor-h">
            <h2 id="sql-editor-h">Query</h2>
            <div className="field">
              <label htmlFor="sql-editor">SQL (one statement)</label>
              <textarea
                id="sql-editor"
                ref={editor}
                className="code"
                style={{ ...mono, minHeight: '9rem', resize: 'vertical' }}
                rows={8}
                spellCheck={false}
                autoCapitalize="off"
                autoCorrect="off"
                value={sql}
                onChange={(e) => setSql(e.target.value)}
                onKeyDown={onKeyDown}
                aria-describedby="sql-editor-hint"
              />
              <p className="field-hint" id="sql-editor-hint">
                {isMac ? '⌘' : 'Ctrl'}+Enter runs the query. Read-only mode runs as <code>truss_workbench_ro</code> in a READ ONLY
                transaction that is rolled back.
              </p>
            </div>
            <div style={{ display: 'flex', gap: '1rem', alignItems: 'center', flexWrap: 'wrap' }}>
              <label className="inline" htmlFor="sql-write" style={{ fontWeight: 600, color: write ? 'var(--bad)' : undefined }}>
                <input id="sql-write" type="checkbox" role="switch" checked={write} onChange={(e) => setWrite(e.target.checked)} aria-describedby={write ? 'sql-write-warning' : undefined} />
                Write mode
                <span className={write ? 'badge bad' : 'badge'} data-testid="sql-mode">
                  {write ? 'WRITE' : 'read-only'}
                </span>
              </label>
              <label className="inline" htmlFor="sql-limit">
                Row limit
                <select id="sql-limit" value={rowLimit} onChange={(e) => setRowLimit(e.target.value)}>
                  <option value="">default (1000)</option>
                  <option value="10">10</option>
                  <option value="100">100</option>
                  <option value="500">500</option>
                </select>
              </label>
              <Button type="button" onClick={() => void run()} busy={busy} busyLabel="Running…" disabled={!sql.trim()} className={write ? 'danger' : undefined} data-testid="sql-run">
                Run
              </Button>
            </div>
            {write && (
              <div className="notice warn" role="alert" id="sql-write-warning" data-testid="sql-write-warning" style={{ marginTop: '.75rem', marginBottom: 0, borderColor: 'var(--bad)' }}>
                <strong>Write mode is on.</strong> Queries run as <code>service_role</code> and are committed: INSERT, UPDATE, DELETE
                and DDL change your database for real. Switch it off when you are done.
              </div>
            )}
          </section>

          <section aria-labelledby="sql-result-h" aria-live="polite" aria-busy={busy}>
            <h2 id="sql-result-h" className="sr-only">
              Result
            </h2>
            {busy && <Loading label="Running…" />}
            {error && <SqlError error={error} sql={ranSql} onGoTo={goTo} />}
            {result && !error && <ResultView result={result} />}
          </section>

          <div className="grid">
            <SavedPanel saved={saved} sql={sql} onLoad={load} />
            <HistoryPanel history={history} onLoad={load} />
          </div>
        </div>
      </div>
    </Page>
  )
}

/** A PostgreSQL error: message, SQLSTATE, hint, and a caret under the position. */
function SqlError({ error, sql, onGoTo }: { error: ApiError; sql: string; onGoTo: (pos: number) => void }) {
  const pgCode = typeof error.details.pg_code === 'string' ? error.details.pg_code : undefined
  const pgDetail = typeof error.details.pg_detail === 'string' ? error.details.pg_detail : undefined
  const position = typeof error.details.position === 'number' ? error.details.position : undefined
  let caret: { line: number; column: number; text: string } | null = null
  if (position && position > 0) {
    const before = [...sql].slice(0, position - 1).join('')
    const lines = before.split('\n')
    const line = lines.length
    const column = [...lines[lines.length - 1]].length + 1
    caret = { line, column, text: sql.split('\n')[line - 1] ?? '' }
  }
  if (!pgCode) return <ErrorBox error={error} />
  return (
    <div className="notice error" role="alert" data-testid="sql-error" data-error-code={error.code} data-pg-code={pgCode}>
      <strong>{error.message}</strong>
      <p className="small">
        <span className="badge bad" data-testid="sql-error-code">
          {error.code}
        </span>
        <span className="badge" data-testid="sql-pg-code">
          SQLSTATE {pgCode}
        </span>
        {caret && (
          <>
            {' '}
            <button type="button" className="link small" onClick={() => position && onGoTo(position)}>
              Line {caret.line}, column {caret.column}
            </button>
          </>
        )}
      </p>
      {caret && (
        <pre className="code" data-testid="sql-error-caret" aria-label={`Error at line ${caret.line}, column ${caret.column}`} style={{ ...mono, whiteSpace: 'pre', overflowX: 'auto' }}>
          {caret.text}
          {'\n'}
          {' '.repeat(Math.max(0, caret.column - 1))}^
        </pre>
      )}
      {pgDetail && <p className="small">{pgDetail}</p>}
      {error.hint && (
        <p className="hint" data-testid="sql-error-hint">
          {error.hint}
        </p>
      )}
      {error.requestId && <p className="muted small">Request ID: {error.requestId}</p>}
    </div>
  )
}

function cell(v: unknown) {
  if (v === null || v === undefined) return <span className="muted">NULL</span>
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return <code>{JSON.stringify(v)}</code>
}

function ResultView({ result }: { result: QueryResult }) {
  const n = result.rowCount
  return (
    <div data-testid="sql-result" data-command={result.command} data-row-count={n}>
      <p className="small" data-testid="sql-result-meta">
        <strong>{result.command || 'OK'}</strong> · {n} {n === 1 ? 'row' : 'rows'} · {result.duration_ms.toFixed(1)} ms ·{' '}
        {result.write ? <span className="badge bad">committed (write mode)</span> : <span className="badge">read-only, rolled back</span>}
      </p>
      {result.truncated && (
        <div className="notice warn" role="note" data-testid="sql-truncated">
          Showing the first {result.rows.length} of {n} rows: the row limit cut the rest. Narrow the query or raise the row limit.
        </div>
      )}
      {result.columns.length === 0 ? (
        <Empty>The statement returned no columns.</Empty>
      ) : (
        <div className="table-wrap" style={{ maxHeight: '28rem', overflow: 'auto' }}>
          <table data-testid="sql-result-table">
            <caption className="sr-only">Query result</caption>
            <thead>
              <tr>
                {result.columns.map((c, i) => (
                  <th key={i} scope="col" data-column={c.name}>
                    <span style={{ color: 'var(--fg)' }}>{c.name}</span>{' '}
                    <span className="muted small" style={mono}>
                      {c.type}
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.rows.length === 0 ? (
                <tr>
                  <td colSpan={result.columns.length} className="muted">
                    No rows.
                  </td>
                </tr>
              ) : (
                result.rows.map((r, i) => (
                  <tr key={i}>
                    {result.columns.map((c, j) => (
                      <td key={j} style={{ ...mono, fontSize: '.85rem', whiteSpace: 'pre-wrap' }}>
                        {cell(r[c.name])}
                      </td>
                    ))}
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

type Loaded<T> = ReturnType<typeof useLoad<T>>

function SavedPanel({ saved, sql, onLoad }: { saved: Loaded<{ saved: SavedQuery[] }>; sql: string; onLoad: (sql: string) => void }) {
  const [name, setName] = useState('')
  const a = useAction()
  const save = async (e: FormEvent) => {
    e.preventDefault()
    const q = await a.run(() => post<SavedQuery>('/api/sql/saved', { name: name.trim(), sql }), `Saved “${name.trim()}”.`)
    if (q) {
      setName('')
      saved.reload()
    }
  }
  const update = async (q: SavedQuery) => {
    if (await a.run(() => api<SavedQuery>('PUT', '/api/sql/saved/' + q.id, { body: { name: q.name, sql } }), `Updated “${q.name}” with the editor’s SQL.`)) saved.reload()
  }
  const remove = async (q: SavedQuery) => {
    if (!window.confirm(`Delete the saved query “${q.name}”?`)) return
    if (await a.run(() => del('/api/sql/saved/' + q.id), `Deleted “${q.name}”.`)) saved.reload()
  }
  const list = saved.data?.saved ?? []
  return (
    <section className="card" aria-labelledby="sql-saved-h" data-testid="sql-saved">
      <h2 id="sql-saved-h">Saved queries</h2>
      <form onSubmit={save} style={{ display: 'flex', gap: '.5rem', marginBottom: '.75rem' }}>
        <label htmlFor="sql-save-name" className="sr-only">
          Name of the saved query
        </label>
        <input id="sql-save-name" name="name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        <Button type="submit" busy={a.busy} busyLabel="Saving…" disabled={!name.trim() || !sql.trim()}>
          Save query
        </Button>
      </form>
      <ErrorBox error={a.error} />
      <Success>{a.done}</Success>
      {saved.loading && !saved.data ? (
        <Loading label="Loading saved queries…" />
      ) : saved.error ? (
        <ErrorBox error={saved.error} />
      ) : list.length === 0 ? (
        <p className="muted small">No saved queries yet. Saved queries are shared by your tenant’s admins.</p>
      ) : (
        <ul className="plain">
          {list.map((q) => (
            <li key={q.id} style={listItem} data-saved={q.name}>
              <div style={{ display: 'flex', justifyContent: 'space-between', gap: '.5rem', alignItems: 'baseline' }}>
                <strong>{q.name}</strong>
                <span className="muted small">{formatDate(q.updated_at)}</span>
              </div>
              <code className="small muted" style={{ display: 'block', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }} title={q.sql}>
                {q.sql}
              </code>
              <div className="actions" style={{ marginTop: '.3rem' }}>
                <button type="button" className="secondary small" onClick={() => onLoad(q.sql)}>
                  Load
                </button>
                <button type="button" className="secondary small" onClick={() => void update(q)} disabled={!sql.trim() || sql === q.sql}>
                  Update
                </button>
                <button type="button" className="danger small" onClick={() => void remove(q)}>
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function HistoryPanel({ history, onLoad }: { history: Loaded<{ history: HistoryEntry[] }>; onLoad: (sql: string) => void }) {
  const list = history.data?.history ?? []
  return (
    <section className="card" aria-labelledby="sql-history-h" data-testid="sql-history">
      <h2 id="sql-history-h">History</h2>
      {history.loading && !history.data ? (
        <Loading label="Loading history…" />
      ) : history.error ? (
        <ErrorBox error={history.error} />
      ) : list.length === 0 ? (
        <p className="muted small">Your last 100 queries show here. Click one to load it into the editor.</p>
      ) : (
        <ul className="plain" style={{ maxHeight: '24rem', overflowY: 'auto' }}>
          {list.map((h) => (
            <li key={h.id} style={listItem}>
              <button
                type="button"
                className="link"
                style={{ ...mono, fontSize: '.85rem', textAlign: 'left', textDecoration: 'none', display: 'block', width: '100%', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }}
                title={'Load into the editor:\n' + h.sql}
                onClick={() => onLoad(h.sql)}
                data-history-sql={h.sql}
              >
                {h.sql}
              </button>
              <span className="muted small">
                {formatDate(h.created_at)} · {h.error_code ? <span className="badge bad">{h.error_code}</span> : <>{h.command} · {h.rowCount} {h.rowCount === 1 ? 'row' : 'rows'}</>} ·{' '}
                {h.duration_ms.toFixed(1)} ms{h.write && <> <span className="badge bad">write</span></>}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function ident(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) ? s : '"' + s.replace(/"/g, '""') + '"'
}

function SchemaBrowser({ schema, onQuery }: { schema: Loaded<SchemaInfo>; onQuery: (sql: string) => void }) {
  const [filter, setFilter] = useState('')
  const f = filter.trim().toLowerCase()
  const tables = (schema.data?.tables ?? []).filter((t) => !f || (t.schema + '.' + t.name).toLowerCase().includes(f))
  const functions = (schema.data?.functions ?? []).filter((fn) => !f || (fn.schema + '.' + fn.name).toLowerCase().includes(f))
  return (
    <aside className="card" aria-labelledby="sql-schema-h" data-testid="sql-schema" style={{ margin: 0, position: 'sticky', top: '1rem', maxHeight: 'calc(100vh - 2rem)', overflowY: 'auto' }}>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'baseline' }}>
        <h2 id="sql-schema-h">Schema</h2>
        <Button type="button" className="secondary small" onClick={schema.reload} busy={schema.loading} busyLabel="…">
          Refresh
        </Button>
      </div>
      <label htmlFor="sql-schema-filter" className="sr-only">
        Filter tables and functions
      </label>
      <input id="sql-schema-filter" type="search" placeholder="Filter…" value={filter} onChange={(e) => setFilter(e.target.value)} style={{ marginBottom: '.5rem' }} />
      {schema.error ? (
        <ErrorBox error={schema.error} />
      ) : !schema.data ? (
        <Loading label="Loading schema…" />
      ) : (
        <>
          <p className="muted small" style={{ margin: '0 0 .5rem' }}>
            Schemas: {schema.data.schemas.map((s) => <code key={s}>{s} </code>)}
          </p>
          <h3>Tables</h3>
          {tables.length === 0 ? (
            <p className="muted small">{f ? 'No table matches.' : 'No tables yet.'}</p>
          ) : (
            <ul className="plain">
              {tables.map((t) => (
                <TableItem key={t.schema + '.' + t.name} t={t} onQuery={onQuery} />
              ))}
            </ul>
          )}
          <h3>Functions</h3>
          {functions.length === 0 ? (
            <p className="muted small">{f ? 'No function matches.' : 'No functions.'}</p>
          ) : (
            <ul className="plain small">
              {functions.map((fn, i) => (
                <li key={i} style={{ ...mono, padding: '.2rem 0', overflowWrap: 'anywhere' }} data-function={fn.schema + '.' + fn.name}>
                  {fn.schema}.{fn.name}(
                  {fn.arguments.map((a, j) => (
                    <span key={j}>
                      {j > 0 && ', '}
                      {a.name && <>{a.name} </>}
                      <span className="muted">{a.type}</span>
                    </span>
                  ))}
                  ) → <span className="muted">{fn.returns_set ? 'setof ' : ''}{fn.returns || '?'}</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </aside>
  )
}

function TableItem({ t, onQuery }: { t: BrowserTable; onQuery: (sql: string) => void }) {
  const fk = new Map<string, string>()
  for (const k of t.foreign_keys) k.columns.forEach((c, i) => fk.set(c, `${k.ref_schema}.${k.ref_table}(${k.ref_columns[i] ?? ''})`))
  const full = t.schema + '.' + t.name
  return (
    <li data-table={full} style={{ padding: '.15rem 0' }}>
      <details>
        <summary style={{ cursor: 'pointer', ...mono, fontSize: '.9rem' }}>
          {t.schema === 'public' ? t.name : full}
          {t.kind && t.kind !== 'table' && <span className="badge">{t.kind.replace('_', ' ')}</span>}
        </summary>
        <ul className="plain small" style={{ paddingLeft: '1rem', margin: '.25rem 0' }}>
          {t.columns.map((c) => (
            <li key={c.name} data-column={c.name} style={{ ...mono, padding: '.1rem 0', overflowWrap: 'anywhere' }}>
              {c.name} <span className="muted">{c.type}</span>
              {c.primary_key && <span className="badge ok" title="primary key">PK</span>}
              {fk.has(c.name) && (
                <span className="badge" title={'references ' + fk.get(c.name)}>
                  FK → {fk.get(c.name)}
                </span>
              )}
              {!c.nullable && !c.primary_key && <span className="badge">not null</span>}
              {c.default && <span className="muted" title="default"> = {c.default}</span>}
            </li>
          ))}
        </ul>
        {t.indexes.filter((ix) => !ix.primary).length > 0 && (
          <ul className="plain small muted" style={{ paddingLeft: '1rem', margin: '.25rem 0' }}>
            {t.indexes
              .filter((ix) => !ix.primary)
              .map((ix) => (
                <li key={ix.name} title={ix.definition} style={{ ...mono, overflowWrap: 'anywhere' }}>
                  {ix.unique ? 'unique ' : ''}index {ix.name}
                </li>
              ))}
          </ul>
        )}
        <button type="button" className="link small" style={{ marginLeft: '1rem' }} onClick={() => onQuery(`select * from ${ident(t.schema)}.${ident(t.name)} limit 100`)}>
          Query {t.name}
        </button>
      </details>
    </li>
  )
}
