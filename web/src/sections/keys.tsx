import { useRef, useState, type FormEvent } from 'react'
import { del, get, post } from '../api'
import { config } from '../config'
import { useSession } from '../session'
import { Button, Empty, ErrorBox, Field, formatDate, Loading, Page, Success, useAction, useLoad } from '../ui'

// API keys of the database API (/v1): list, create, rotate and revoke over
// /api/keys (internal/apikey/handlers.go). A key's secret is in the create
// and rotate answers only; it is shown once here and forgotten when the
// notice is dismissed or the user leaves the screen.

type KeyType = 'anon' | 'service_role'

interface ApiKey {
  id: string
  tenant_id: string
  key_type: KeyType
  label: string
  prefix: string
  created_by: string | null
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
  rotated_from: string | null
}

/** A key as POST /api/keys and POST /api/keys/{id}/rotate answer: with its secret. */
interface CreatedKey extends ApiKey {
  key: string
}

const typeHelp: Record<KeyType, string> = {
  anon: 'For browsers and apps: requests run as role anon and obey row-level security.',
  service_role: 'For servers only: bypasses row-level security. Never ship it to a browser.',
}

const keyName = (k: ApiKey) => k.label || k.prefix + '…'

export function KeysScreen() {
  const { principal } = useSession()
  const list = useLoad((signal) => get<{ keys: ApiKey[] }>('/api/keys', { signal }), [])
  const [creating, setCreating] = useState(false)
  const [shown, setShown] = useState<{ key: CreatedKey; replaced?: ApiKey } | null>(null)
  const [confirm, setConfirm] = useState<{ id: string; action: 'revoke' | 'rotate' } | null>(null)
  const a = useAction()
  const keys = list.data?.keys ?? []

  const rotate = async (k: ApiKey) => {
    setConfirm(null)
    const r = await a.run(() => post<CreatedKey>('/api/keys/' + encodeURIComponent(k.id) + '/rotate', {}))
    if (r) {
      setShown({ key: r, replaced: k })
      list.reload()
    }
  }
  const revoke = async (k: ApiKey) => {
    setConfirm(null)
    const r = await a.run(() => del<ApiKey>('/api/keys/' + encodeURIComponent(k.id)), `Key “${keyName(k)}” revoked: it no longer works.`)
    if (r !== undefined) {
      if (shown?.key.id === k.id) setShown(null)
      list.reload()
    }
  }

  return (
    <Page
      title="API keys"
      actions={
        <button onClick={() => setCreating(!creating)} aria-expanded={creating} data-testid="key-new">
          New API key
        </button>
      }
    >
      <p className="muted">
        Keys let apps call the database API (<code>/v1</code>). Truss stores only a hash of each key: its secret is shown once, when
        it is created or rotated.
      </p>
      {creating && (
        <CreateKey
          isAdmin={!!principal?.is_admin}
          onCreated={(k) => {
            setCreating(false)
            setShown({ key: k })
            a.setError(null)
            a.setDone(null)
            list.reload()
          }}
        />
      )}
      {shown && <KeySecret created={shown.key} replaced={shown.replaced} onDismiss={() => setShown(null)} />}
      <ErrorBox error={a.error} />
      <Success>{a.done}</Success>
      {list.loading && !list.data ? (
        <Loading label="Loading API keys…" />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : keys.length === 0 ? (
        <Empty>No API keys yet. Create an anon key for your app with “New API key”.</Empty>
      ) : (
        <div className="table-wrap" aria-busy={list.loading}>
          <table data-testid="keys">
            <caption className="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Type</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <KeyRow
                  key={k.id}
                  k={k}
                  replaces={keys.find((o) => o.id === k.rotated_from)}
                  busy={a.busy}
                  confirming={confirm?.id === k.id ? confirm.action : null}
                  onAsk={(action) => setConfirm(action ? { id: k.id, action } : null)}
                  onRevoke={() => void revoke(k)}
                  onRotate={() => void rotate(k)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <HowToUse />
    </Page>
  )
}

function TypeBadge({ type }: { type: KeyType }) {
  return (
    <span className={'badge' + (type === 'service_role' ? ' bad' : '')} title={typeHelp[type]}>
      {type}
    </span>
  )
}

interface KeyRowProps {
  k: ApiKey
  replaces?: ApiKey
  busy: boolean
  confirming: 'revoke' | 'rotate' | null
  onAsk: (action: 'revoke' | 'rotate' | null) => void
  onRevoke: () => void
  onRotate: () => void
}

function KeyRow({ k, replaces, busy, confirming, onAsk, onRevoke, onRotate }: KeyRowProps) {
  const revoked = k.revoked_at !== null
  const name = keyName(k)
  return (
    <tr data-testid="key-row" data-key={k.id} data-label={k.label} data-status={revoked ? 'revoked' : 'active'} className={revoked ? 'revoked' : undefined}>
      <th scope="row">
        {k.label || <span className="muted">(no label)</span>}
        {replaces && <div className="muted small">replaces <code>{replaces.prefix}…</code></div>}
      </th>
      <td>
        <TypeBadge type={k.key_type} />
        <div className="muted small">{k.key_type === 'anon' ? 'browsers, obeys RLS' : 'servers only, bypasses RLS'}</div>
      </td>
      <td><code className="nowrap" data-testid="key-prefix">{k.prefix}…</code></td>
      <td className="small">{formatDate(k.created_at)}</td>
      <td className="small" data-testid="key-last-used">{k.last_used_at ? formatDate(k.last_used_at) : 'never'}</td>
      <td data-testid="key-status">
        {revoked ? (
          <>
            <span className="badge bad">revoked</span>
            <div className="small">{formatDate(k.revoked_at)}</div>
          </>
        ) : (
          <span className="badge ok">active</span>
        )}
      </td>
      <td>
        {!revoked && (confirming ? (
          <div className="confirm" role="group" aria-label={`Confirm ${confirming} of ${name}`} data-testid="key-confirm">
            <p className="small">
              {confirming === 'revoke'
                ? 'Revoke this key? Apps using it get 401 at once.'
                : 'Rotate this key? A new secret replaces it and the old one stops working at once.'}
            </p>
            <div className="actions">
              <Button className="danger small" busy={busy} onClick={confirming === 'revoke' ? onRevoke : onRotate}>
                {confirming === 'revoke' ? 'Yes, revoke' : 'Yes, rotate'}
              </Button>
              <button type="button" className="secondary small" onClick={() => onAsk(null)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <div className="actions nowrap" style={{ marginTop: 0 }}>
            <Button className="secondary small" busy={busy} onClick={() => onAsk('rotate')} aria-label={`Rotate ${name}`}>
              Rotate
            </Button>
            <Button className="danger small" busy={busy} onClick={() => onAsk('revoke')} aria-label={`Revoke ${name}`}>
              Revoke
            </Button>
          </div>
        ))}
      </td>
    </tr>
  )
}

function CreateKey({ isAdmin, onCreated }: { isAdmin: boolean; onCreated: (k: CreatedKey) => void }) {
  const [label, setLabel] = useState('')
  const [type, setType] = useState<KeyType>('anon')
  const a = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const k = await a.run(() => post<CreatedKey>('/api/keys', { key_type: type, label: label.trim() }))
    if (k) onCreated(k)
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="key-create-h" data-testid="key-create">
      <h2 id="key-create-h">Create an API key</h2>
      <ErrorBox error={a.error} shownFields={['label']} />
      <Field label="Label" name="label" value={label} onChange={(e) => setLabel(e.target.value)} errors={a.error?.fields}
        maxLength={200} placeholder="e.g. web app" hint="What uses this key, to recognize it later." autoFocus />
      <fieldset className="field">
        <legend>Type</legend>
        {(['anon', 'service_role'] as const).map((t) => {
          const locked = t === 'service_role' && !isAdmin
          return (
            <div className="checkbox" key={t}>
              <label>
                <input type="radio" name="key_type" value={t} checked={type === t} disabled={locked}
                  onChange={() => setType(t)} aria-describedby={'key-type-' + t + '-hint'} data-testid={'key-type-' + t} />
                <code>{t}</code>
                {locked && <span className="muted small">(admins only)</span>}
              </label>
              <p className="field-hint" id={'key-type-' + t + '-hint'}>{typeHelp[t]}</p>
            </div>
          )
        })}
      </fieldset>
      {a.error?.fields.key_type && <p className="field-error" data-field-error="key_type">Type {a.error.fields.key_type.join('; ')}</p>}
      <Button type="submit" busy={a.busy} busyLabel="Creating…">Create API key</Button>
    </form>
  )
}

function KeySecret({ created, replaced, onDismiss }: { created: CreatedKey; replaced?: ApiKey; onDismiss: () => void }) {
  const input = useRef<HTMLInputElement>(null)
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null)
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard')
      await navigator.clipboard.writeText(created.key)
      setCopied('yes')
    } catch {
      // Without the async clipboard (plain http on another host), select it for Ctrl+C.
      input.current?.select()
      setCopied(document.execCommand?.('copy') ? 'yes' : 'no')
    }
  }
  return (
    <div className="notice warn" role="status" data-testid="key-secret">
      <p>
        <strong>
          {replaced ? 'New secret for the' : 'Your new'} {created.key_type} key{created.label ? ` “${created.label}”` : ''}: copy it now.
        </strong>{' '}
        It will not be shown again: Truss keeps only a hash of it.
        {replaced && <> The previous key <code>{replaced.prefix}…</code> no longer works.</>}
      </p>
      <div className="field" style={{ marginTop: '.75rem' }}>
        <label htmlFor="key-secret-value">API key</label>
        <div style={{ display: 'flex', gap: '.5rem' }}>
          <input id="key-secret-value" ref={input} readOnly value={created.key} data-testid="key-secret-value" className="code"
            spellCheck={false} autoComplete="off" onFocus={(e) => e.target.select()} style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' }} />
          <button type="button" className="secondary" onClick={() => void copy()}>
            {copied === 'yes' ? 'Copied' : 'Copy'}
          </button>
        </div>
        {copied === 'no' && <p className="field-hint">Copying is not available here: the key is selected, press Ctrl+C (⌘C).</p>}
      </div>
      <button type="button" className="link" onClick={onDismiss}>
        I saved it, hide the key
      </button>
    </div>
  )
}

function HowToUse() {
  const origin = config.publicUrl
  return (
    <section className="card" aria-labelledby="key-howto-h" data-testid="key-howto">
      <h2 id="key-howto-h">How to use</h2>
      <p>
        Send the key in the <code>apikey</code> header (or <code>x-api-key</code>) to the database API:
      </p>
      <dl className="kv">
        <dt>Header</dt>
        <dd><code>apikey: &lt;key&gt;</code></dd>
        <dt>Tables</dt>
        <dd><code data-testid="key-base-url">{origin}/v1/db/&lt;table&gt;</code></dd>
        <dt>Functions</dt>
        <dd><code>{origin}/v1/db/rpc/&lt;function&gt;</code></dd>
      </dl>
      <pre className="code" aria-label="curl example">{`curl '${origin}/v1/db/todos?select=*' -H 'apikey: <key>'`}</pre>
      <p className="small muted" style={{ marginBottom: 0 }}>
        With <code>@supabase/postgrest-js</code> (what <code>supabase-js</code> uses for tables):
      </p>
      <pre className="code" aria-label="postgrest-js example" data-testid="key-snippet">{`import { PostgrestClient } from '@supabase/postgrest-js'

const apikey = '<key>' // an anon key in browsers; service_role only on servers
const db = new PostgrestClient('${origin}/v1/db', { headers: { apikey } })
const { data, error } = await db.from('todos').select('*')`}</pre>
      <p className="small muted" style={{ marginBottom: 0 }}>
        Or with <code>supabase-js</code> unchanged: its table and function calls go to <code>{origin}/rest/v1</code>, which
        answers like <code>/v1/db</code> (sign users in with Truss; pass their session token as <code>accessToken</code>):
      </p>
      <pre className="code" aria-label="supabase-js example" data-testid="key-supabase-snippet">{`import { createClient } from '@supabase/supabase-js'

const supabase = createClient('${origin}', '<key>')
const { data, error } = await supabase.from('todos').select('*')`}</pre>
      <p className="small muted">
        Typed queries: <code>truss gen types typescript &gt; database.types.ts</code>, then{' '}
        <code>new PostgrestClient&lt;Database&gt;(…)</code> or <code>createClient&lt;Database&gt;(…)</code>.
      </p>
      <p className="small muted" style={{ marginBottom: 0 }}>
        <code>anon</code> sees only what you <code>GRANT</code> it and what row-level security policies allow; an anon key with a
        signed-in user's session token acts as <code>authenticated</code>.
      </p>
    </section>
  )
}
