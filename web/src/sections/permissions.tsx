import { useRef, useState, type FormEvent } from 'react'
import { api, get, post } from '../api'
import { Link, useRouter } from '../router'
import { Button, Empty, ErrorBox, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

// Permissions on Keto (internal/keto): the tenant's relation tuples, a check
// playground, the expand tree, and the OPL model editor with its history.

interface SubjectSet {
  namespace: string
  object: string
  relation: string
}

interface Tuple {
  namespace: string
  object: string
  relation: string
  subject_id?: string
  subject_set?: SubjectSet
}

interface NamespaceInfo {
  name: string
  source: string
  relations: { name: string; types: { namespace: string; relation?: string }[] }[]
  permissions: string[]
  loaded: boolean
}

interface ExpandNode {
  type: string
  tuple?: Tuple
  children?: ExpandNode[]
}

function subjectText(t: { subject_id?: string; subject_set?: SubjectSet }): string {
  if (t.subject_set) {
    const s = t.subject_set
    return `${s.namespace}:${s.object}${s.relation ? '#' + s.relation : ''}`
  }
  return t.subject_id ?? ''
}

/**
 * A subject as typed: "Namespace:object#relation" (a subject set, when the
 * namespace is one of the model's) or anything else as a subject id.
 */
function parseSubject(s: string, namespaces: string[]): Pick<Tuple, 'subject_id' | 'subject_set'> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):([^#]+)(?:#(.*))?$/.exec(s.trim())
  if (m && namespaces.includes(m[1])) return { subject_set: { namespace: m[1], object: m[2], relation: m[3] ?? '' } }
  return { subject_id: s.trim() }
}

function tupleQuery(t: Tuple): string {
  const q = new URLSearchParams({ namespace: t.namespace, object: t.object, relation: t.relation })
  if (t.subject_id !== undefined) q.set('subject_id', t.subject_id)
  if (t.subject_set) {
    q.set('subject_set.namespace', t.subject_set.namespace)
    q.set('subject_set.object', t.subject_set.object)
    q.set('subject_set.relation', t.subject_set.relation)
  }
  return q.toString()
}

function useNamespaces() {
  return useLoad((signal) => get<{ model_version: number; namespaces: NamespaceInfo[] }>('/api/keto/namespaces', { signal }), [])
}

export function PermissionsScreen() {
  const ns = useNamespaces()
  const [tick, setTick] = useState(0)
  return (
    <Page title="Permissions" actions={<Link to="/permissions/model">Permission model (OPL)</Link>}>
      {ns.loading && !ns.data ? (
        <Loading label="Loading your namespaces…" />
      ) : ns.error ? (
        <ErrorBox error={ns.error} />
      ) : (
        <div className="grid">
          <Tuples namespaces={ns.data!.namespaces} tick={tick} onChange={() => setTick((t) => t + 1)} />
          <CheckPlayground namespaces={ns.data!.namespaces} />
          <Expand namespaces={ns.data!.namespaces} />
        </div>
      )}
    </Page>
  )
}

/** Namespace, object, relation (or permission) and subject inputs. */
function TupleInputs({ idPrefix, namespaces, value, onChange, permissions, errors, subjectOptional }: {
  idPrefix: string
  namespaces: NamespaceInfo[]
  value: { namespace: string; object: string; relation: string; subject: string }
  onChange: (v: { namespace: string; object: string; relation: string; subject: string }) => void
  permissions: boolean
  errors?: Record<string, string[]>
  subjectOptional?: boolean
}) {
  const cur = namespaces.find((n) => n.name === value.namespace)
  const rels = cur ? [...cur.relations.map((r) => r.name), ...(permissions ? cur.permissions : [])] : []
  const err = (k: string) =>
    errors?.[k]?.length ? <p className="field-error" data-field-error={k}>{errors[k].join('; ')}</p> : null
  return (
    <div className="row">
      <div className="field">
        <label htmlFor={idPrefix + '-ns'}>Namespace</label>
        <select id={idPrefix + '-ns'} name="namespace" value={value.namespace}
          onChange={(e) => onChange({ ...value, namespace: e.target.value, relation: '' })}>
          {namespaces.map((n) => <option key={n.name} value={n.name}>{n.name}</option>)}
        </select>
        {err('namespace')}
      </div>
      <div className="field">
        <label htmlFor={idPrefix + '-obj'}>Object</label>
        <input id={idPrefix + '-obj'} name="object" value={value.object} onChange={(e) => onChange({ ...value, object: e.target.value })}
          placeholder="acme" aria-invalid={errors?.object ? true : undefined} />
        {err('object')}
      </div>
      <div className="field">
        <label htmlFor={idPrefix + '-rel'}>{permissions ? 'Relation or permission' : 'Relation'}</label>
        <select id={idPrefix + '-rel'} name="relation" value={value.relation} onChange={(e) => onChange({ ...value, relation: e.target.value })}>
          <option value="">Choose…</option>
          {cur && <optgroup label="Relations">{cur.relations.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}</optgroup>}
          {cur && permissions && cur.permissions.length > 0 && (
            <optgroup label="Permissions">{cur.permissions.map((p) => <option key={p} value={p}>{p}</option>)}</optgroup>
          )}
        </select>
        {rels.length === 0 && <p className="field-hint">This namespace has no {permissions ? 'relations or permissions' : 'relations'}.</p>}
        {err('relation')}
      </div>
      <div className="field">
        <label htmlFor={idPrefix + '-sub'}>Subject{subjectOptional ? ' (optional)' : ''}</label>
        <input id={idPrefix + '-sub'} name="subject" value={value.subject} onChange={(e) => onChange({ ...value, subject: e.target.value })}
          placeholder="alice or Organization:acme#members" aria-describedby={idPrefix + '-sub-hint'} />
        <p className="field-hint" id={idPrefix + '-sub-hint'}>A user id, or a subject set <code>Namespace:object#relation</code>.</p>
        {err('subject_id')}
        {err('subject_set.object')}
        {err('subject_set.namespace')}
        {err('subject_set.relation')}
      </div>
    </div>
  )
}

function Tuples({ namespaces, tick, onChange }: { namespaces: NamespaceInfo[]; tick: number; onChange: () => void }) {
  const names = namespaces.map((n) => n.name)
  // A namespace without relations (User) can hold no tuples: start on the first that can.
  const first = namespaces.find((n) => n.relations.length > 0)?.name ?? names[0] ?? ''
  const [filter, setFilter] = useState(first)
  const [tokens, setTokens] = useState<string[]>([''])
  const page = tokens[tokens.length - 1]
  const list = useLoad((signal) => {
    const q = new URLSearchParams({ page_size: '50' })
    if (filter) q.set('namespace', filter)
    if (page) q.set('page_token', page)
    return get<{ relation_tuples: Tuple[]; next_page_token: string }>('/api/keto/relation-tuples?' + q, { signal })
  }, [filter, page, tick])
  const [form, setForm] = useState({ namespace: first, object: '', relation: '', subject: '' })
  const add = useAction()
  const a = useAction()

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const t: Tuple = { namespace: form.namespace, object: form.object, relation: form.relation, ...parseSubject(form.subject, names) }
    const r = await add.run(() => api<Tuple>('PUT', '/api/keto/relation-tuples', { body: t }), `Added ${form.namespace}:${form.object}#${form.relation}@${form.subject}.`)
    if (r) {
      setForm({ ...form, object: '', subject: '' })
      setFilter(t.namespace)
      setTokens([''])
      onChange()
    }
  }
  const remove = async (t: Tuple) => {
    if ((await a.run(() => api('DELETE', '/api/keto/relation-tuples?' + tupleQuery(t)), 'Tuple deleted.')) !== undefined) onChange()
  }

  return (
    <section className="card wide" aria-labelledby="tuples-h">
      <h2 id="tuples-h">Relation tuples</h2>
      <form onSubmit={submit} noValidate aria-labelledby="tuple-add-h" data-testid="tuple-add">
        <h3 id="tuple-add-h">Add a tuple</h3>
        <ErrorBox error={add.error} shownFields={['namespace', 'object', 'relation', 'subject_id', 'subject_set.object', 'subject_set.namespace', 'subject_set.relation']} />
        <Success>{add.done}</Success>
        <TupleInputs idPrefix="add" namespaces={namespaces} value={form} onChange={setForm} permissions={false} errors={add.error?.fields} />
        <Button type="submit" busy={add.busy} busyLabel="Adding…">Add tuple</Button>
      </form>
      <div className="page-head">
        <h3>Stored tuples</h3>
        <div className="actions">
          <label htmlFor="tuple-filter">Namespace</label>
          <select id="tuple-filter" value={filter} onChange={(e) => { setTokens(['']); setFilter(e.target.value) }}>
            {names.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </div>
      </div>
      <ErrorBox error={a.error} />
      <Success>{a.done}</Success>
      {list.loading && !list.data ? (
        <Loading label="Loading tuples…" />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data?.relation_tuples.length ? (
        <Empty>{list.data?.next_page_token ? 'Nothing on this page: try the next one.' : `No tuples in ${filter} yet.`}</Empty>
      ) : (
        <div className="table-wrap" aria-busy={list.loading}>
          <table data-testid="tuples">
            <caption className="sr-only">Relation tuples in {filter}</caption>
            <thead><tr><th scope="col">Object</th><th scope="col">Relation</th><th scope="col">Subject</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.data.relation_tuples.map((t) => {
                const label = `${t.namespace}:${t.object}#${t.relation}@${subjectText(t)}`
                return (
                  <tr key={label} data-tuple={label}>
                    <td><code>{t.namespace}:{t.object}</code></td>
                    <td>{t.relation}</td>
                    <td><code>{subjectText(t)}</code></td>
                    <td><Button className="secondary small" busy={a.busy} onClick={() => void remove(t)} aria-label={'Delete ' + label}>Delete</Button></td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (tokens.length > 1 || list.data.next_page_token) && (
        <nav className="pager" aria-label="Tuple pages">
          <button className="secondary" disabled={tokens.length === 1} onClick={() => setTokens(tokens.slice(0, -1))}>Previous</button>
          <button className="secondary" disabled={!list.data.next_page_token} onClick={() => setTokens([...tokens, list.data!.next_page_token])}>Next</button>
        </nav>
      )}
    </section>
  )
}

function CheckPlayground({ namespaces }: { namespaces: NamespaceInfo[] }) {
  const names = namespaces.map((n) => n.name)
  const [form, setForm] = useState({ namespace: names[0] ?? '', object: '', relation: '', subject: '' })
  const [result, setResult] = useState<{ allowed: boolean; asked: string } | null>(null)
  const a = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setResult(null)
    const asked = `${form.namespace}:${form.object}#${form.relation}@${form.subject}`
    const r = await a.run(() => post<{ allowed: boolean }>('/api/keto/check', { namespace: form.namespace, object: form.object, relation: form.relation, ...parseSubject(form.subject, names) }))
    if (r) setResult({ allowed: r.allowed, asked })
  }
  return (
    <form className="card wide" onSubmit={submit} noValidate aria-labelledby="check-h" data-testid="check">
      <h2 id="check-h">Check playground</h2>
      <p className="muted small">Asks Keto whether the subject has the relation or permission on the object, following the model.</p>
      <TupleInputs idPrefix="check" namespaces={namespaces} value={form} onChange={(v) => { setForm(v); setResult(null) }} permissions errors={a.error?.fields} />
      <ErrorBox error={a.error} shownFields={['namespace', 'object', 'relation', 'subject_id', 'subject_set.object', 'subject_set.namespace', 'subject_set.relation']} />
      <Button type="submit" busy={a.busy} busyLabel="Checking…">Check</Button>
      <div aria-live="polite">
        {result && (
          <p className={'notice ' + (result.allowed ? 'success' : 'error')} data-testid="check-result" data-allowed={result.allowed}>
            <strong>{result.allowed ? 'Allowed' : 'Denied'}</strong>: <code>{result.asked}</code>
          </p>
        )}
      </div>
    </form>
  )
}

function Expand({ namespaces }: { namespaces: NamespaceInfo[] }) {
  const [form, setForm] = useState({ namespace: namespaces[0]?.name ?? '', object: '', relation: '', subject: '' })
  const [depth, setDepth] = useState('5')
  const [tree, setTree] = useState<ExpandNode | null>(null)
  const a = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setTree(null)
    const q = new URLSearchParams({ namespace: form.namespace, object: form.object, relation: form.relation, 'max-depth': depth })
    const r = await a.run(() => get<ExpandNode>('/api/keto/expand?' + q))
    if (r) setTree(r)
  }
  return (
    <form className="card wide" onSubmit={submit} noValidate aria-labelledby="expand-h">
      <h2 id="expand-h">Expand</h2>
      <p className="muted small">Who has a relation on an object: the tree of subjects and subject sets, as stored (up to 10 levels).</p>
      <div className="row">
        <ExpandInputs namespaces={namespaces} value={form} onChange={setForm} errors={a.error?.fields} />
        <div className="field">
          <label htmlFor="expand-depth">Max depth</label>
          <input id="expand-depth" type="number" min={1} max={10} value={depth} onChange={(e) => setDepth(e.target.value)} />
        </div>
      </div>
      <ErrorBox error={a.error} shownFields={['namespace', 'object', 'relation']} />
      <Button type="submit" busy={a.busy} busyLabel="Expanding…">Expand</Button>
      {tree && (
        <ul className="tree" role="tree" aria-label="Expand tree" data-testid="expand-tree">
          <TreeNode node={tree} />
        </ul>
      )}
    </form>
  )
}

function ExpandInputs({ namespaces, value, onChange, errors }: {
  namespaces: NamespaceInfo[]
  value: { namespace: string; object: string; relation: string; subject: string }
  onChange: (v: { namespace: string; object: string; relation: string; subject: string }) => void
  errors?: Record<string, string[]>
}) {
  const cur = namespaces.find((n) => n.name === value.namespace)
  const err = (k: string) => (errors?.[k]?.length ? <p className="field-error" data-field-error={k}>{errors[k].join('; ')}</p> : null)
  return (
    <>
      <div className="field">
        <label htmlFor="expand-ns">Namespace</label>
        <select id="expand-ns" value={value.namespace} onChange={(e) => onChange({ ...value, namespace: e.target.value, relation: '' })}>
          {namespaces.map((n) => <option key={n.name} value={n.name}>{n.name}</option>)}
        </select>
        {err('namespace')}
      </div>
      <div className="field">
        <label htmlFor="expand-obj">Object</label>
        <input id="expand-obj" value={value.object} onChange={(e) => onChange({ ...value, object: e.target.value })} />
        {err('object')}
      </div>
      <div className="field">
        <label htmlFor="expand-rel">Relation</label>
        <select id="expand-rel" value={value.relation} onChange={(e) => onChange({ ...value, relation: e.target.value })}>
          <option value="">Choose…</option>
          {cur?.relations.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
        </select>
        {err('relation')}
      </div>
    </>
  )
}

function TreeNode({ node }: { node: ExpandNode }) {
  const [open, setOpen] = useState(true)
  const t = node.tuple
  const label = !t
    ? node.type
    : node.type === 'leaf'
      ? subjectText(t) || `${t.namespace}:${t.object}`
      : `${t.namespace ? t.namespace + ':' : ''}${t.object}${t.relation ? '#' + t.relation : ''}`
  const kids = node.children ?? []
  return (
    <li role="treeitem" aria-expanded={kids.length ? open : undefined} data-node-type={node.type}>
      {kids.length ? (
        <button type="button" className="link" onClick={() => setOpen(!open)} aria-label={(open ? 'Collapse ' : 'Expand ') + label}>
          {open ? '▾' : '▸'}
        </button>
      ) : (
        <span aria-hidden="true">•</span>
      )}{' '}
      <span className="badge small">{node.type}</span> <code>{label}</code>
      {kids.length > 0 && open && (
        <ul role="group">
          {kids.map((c, i) => <TreeNode key={i} node={c} />)}
        </ul>
      )}
    </li>
  )
}

// --- the OPL model ---

interface ModelVersion {
  version: number
  opl?: string
  namespaces: string[]
  default: boolean
  created_by?: string
  restored_from?: number
  created_at: string
  active: boolean
  loaded?: boolean
}

interface ModelError {
  message: string
  start: { line: number; column: number }
  end: { line: number; column: number }
  source: string
}

export function ModelScreen() {
  const { navigate } = useRouter()
  const model = useLoad((signal) => get<ModelVersion>('/api/keto/model', { signal }), [])
  const versions = useLoad((signal) => get<{ versions: ModelVersion[] }>('/api/keto/model/versions', { signal }), [])
  const [text, setText] = useState<string | null>(null)
  const [errors, setErrors] = useState<ModelError[] | null>(null)
  const [viewing, setViewing] = useState<ModelVersion | null>(null)
  const area = useRef<HTMLTextAreaElement>(null)
  const a = useAction()
  const src = text ?? model.data?.opl ?? ''

  const showErrors = (e: unknown) => {
    const errs = (e as { details?: { errors?: ModelError[] } } | undefined)?.details?.errors
    if (Array.isArray(errs)) setErrors(errs)
  }
  const validate = async () => {
    setErrors(null)
    const r = await a.run(() => post<{ valid: boolean; errors: ModelError[]; namespaces: string[] }>('/api/keto/model/check', { opl: src }))
    if (r) {
      setErrors(r.errors ?? [])
      if (r.valid) a.setDone(r.namespaces.length ? `Valid OPL: namespaces ${r.namespaces.join(', ')}.` : 'Valid (empty: the default model).')
    }
  }
  const save = async () => {
    setErrors(null)
    const r = await a.run(async () => {
      try {
        return await api<ModelVersion>('PUT', '/api/keto/model', { body: { opl: src } })
      } catch (e) {
        showErrors(e)
        throw e
      }
    })
    if (r) {
      a.setDone(`Saved as version ${r.version}${r.loaded === false ? '; Keto loads it in a moment' : '; Keto uses it now'}.`)
      setText(null)
      model.reload()
      versions.reload()
    }
  }
  const restore = async (v: number) => {
    if (!window.confirm(`Restore version ${v}? It becomes a new version and takes effect at once.`)) return
    const r = await a.run(async () => {
      try {
        return await post<ModelVersion>(`/api/keto/model/versions/${v}/restore`, {})
      } catch (e) {
        showErrors(e)
        throw e
      }
    })
    if (r) {
      a.setDone(`Version ${v} restored as version ${r.version}.`)
      setText(null)
      setViewing(null)
      model.reload()
      versions.reload()
    }
  }
  const view = async (v: number) => {
    const r = await a.run(() => get<ModelVersion>(`/api/keto/model/versions/${v}`))
    if (r) setViewing(r)
  }
  /** Puts the cursor at an error (line from 1, column from 0). */
  const jump = (e: ModelError) => {
    const el = area.current
    if (!el) return
    const lines = src.split('\n')
    let pos = 0
    for (let i = 0; i < e.start.line - 1 && i < lines.length; i++) pos += lines[i].length + 1
    pos += e.start.column
    el.focus()
    el.setSelectionRange(pos, pos)
  }

  return (
    <Page title="Permission model" actions={<Link to="/permissions">Tuples and checks</Link>}>
      <div className="grid">
        <section className="card wide" aria-labelledby="opl-h">
          <h2 id="opl-h">OPL</h2>
          {model.loading && !model.data ? (
            <Loading label="Loading the model…" />
          ) : model.error ? (
            <ErrorBox error={model.error} />
          ) : (
            <>
              <p className="muted small">
                {model.data!.default
                  ? 'Your tenant uses Truss’s default model (User, Organization, Project). Classes you write here add namespaces or replace default ones for your tenant only; empty returns to the default.'
                  : <>Active: version {model.data!.version} ({model.data!.namespaces.join(', ') || 'no classes'}), saved {formatDate(model.data!.created_at)}.</>}
              </p>
              <div className="field">
                <label htmlFor="opl-text">Model source (Ory Permission Language)</label>
                <textarea id="opl-text" ref={area} className="code" rows={18} spellCheck={false} value={src}
                  onChange={(e) => { setText(e.target.value); setErrors(null) }}
                  aria-invalid={errors?.length ? true : undefined} aria-describedby={errors?.length ? 'opl-errors' : undefined}
                  placeholder={'class Document implements Namespace {\n  related: {\n    owners: User[]\n  }\n}'} />
              </div>
              {errors && errors.length > 0 && (
                <div className="notice error" role="alert" id="opl-errors" data-testid="opl-errors">
                  <strong>The model is not valid.</strong>
                  <ul>
                    {errors.map((e, i) => (
                      <li key={i} data-line={e.start.line} data-column={e.start.column}>
                        <button type="button" className="link" onClick={() => jump(e)}>Line {e.start.line}, column {e.start.column}</button>: {e.message}
                        {e.source === 'truss' && <span className="muted small"> (Truss’s naming rules)</span>}
                      </li>
                    ))}
                  </ul>
                </div>
              )}
              {a.error?.code !== 'invalid_opl' && <ErrorBox error={a.error} />}
              <Success>{a.done}</Success>
              <div className="actions">
                <Button type="button" className="secondary" busy={a.busy} onClick={() => void validate()}>Validate</Button>
                <Button type="button" busy={a.busy} busyLabel="Saving… (Keto reloads it)" onClick={() => void save()}>Save as new version</Button>
                {text !== null && <button type="button" className="link" onClick={() => { setText(null); setErrors(null) }}>Discard changes</button>}
              </div>
            </>
          )}
        </section>
        <section className="card wide" aria-labelledby="versions-h">
          <h2 id="versions-h">History</h2>
          {versions.loading && !versions.data ? (
            <Loading />
          ) : versions.error ? (
            <ErrorBox error={versions.error} />
          ) : !versions.data?.versions.length ? (
            <Empty>No versions yet: saving a model creates version 1.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Model versions, newest first</caption>
                <thead><tr><th scope="col">Version</th><th scope="col">Saved</th><th scope="col">Namespaces</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {versions.data.versions.map((v) => (
                    <tr key={v.version} data-version={v.version}>
                      <th scope="row">
                        {v.version} {v.active && <span className="badge ok small">active</span>}
                        {v.restored_from && <span className="muted small"> (restored from {v.restored_from})</span>}
                      </th>
                      <td>{formatDate(v.created_at)}</td>
                      <td>{v.namespaces.join(', ') || <span className="muted">default model</span>}</td>
                      <td>
                        <div className="actions">
                          <Button className="secondary small" busy={a.busy} onClick={() => void view(v.version)} aria-label={`View version ${v.version}`}>View</Button>
                          {!v.active && <Button className="small" busy={a.busy} onClick={() => void restore(v.version)} aria-label={`Restore version ${v.version}`}>Restore</Button>}
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {viewing && (
            <div className="notice" role="region" aria-label={`Version ${viewing.version}`}>
              <p><strong>Version {viewing.version}</strong> <button type="button" className="link" onClick={() => setViewing(null)}>Close</button>{' '}
                <button type="button" className="link" onClick={() => { setText(viewing.opl ?? ''); setViewing(null); navigate('/permissions/model') }}>Edit from this version</button></p>
              <pre className="code small">{viewing.opl || '(empty: the default model)'}</pre>
            </div>
          )}
        </section>
      </div>
    </Page>
  )
}
