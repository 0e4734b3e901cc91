// Drives @supabase/supabase-js against Truss exactly as an app migrating
// from Supabase would: createClient(TRUSS_PUBLIC_URL, key), whose database
// calls go to /rest/v1 (internal/dbapi/postgrestjs_test.go, TestSupabaseJS).
// With TRUSS_SESSION it calls as a signed-in user: the anon key plus the
// user's Truss session token as the access token. Each step checks its
// answer; the first failure exits 1 naming it.
import { createClient } from '@supabase/supabase-js'
// Node 20 has no WebSocket of its own; supabase-js wants one for realtime
// even when it is not used (browsers and Node 22 need nothing).
import { WebSocket } from 'ws'

const options = { realtime: { transport: WebSocket }, auth: { persistSession: false, autoRefreshToken: false } }
if (process.env.TRUSS_SESSION) options.accessToken = async () => process.env.TRUSS_SESSION
const supabase = createClient(process.env.TRUSS_URL, process.env.TRUSS_KEY, options)

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b)
}

async function step(name, query, check) {
  const res = await query
  const why = res.error ? `error ${res.status}: ${JSON.stringify(res.error)}` : check(res)
  if (why) {
    console.error(`${name}: ${why} (status ${res.status}, data ${JSON.stringify(res.data)}, count ${res.count})`)
    process.exit(1)
  }
  console.log(`ok ${name}`)
}

if (process.env.TRUSS_SESSION) {
  await step('insert as the signed-in user',
    supabase.from('notes').insert({ body: 'mine' }).select('body, owner_id').single(),
    (r) => (r.data.body !== 'mine' || r.data.owner_id !== process.env.TRUSS_USER) && 'the row is not the user\'s')
  await step('RLS shows only the user\'s rows',
    supabase.from('notes').select('body').order('id'),
    (r) => !same(r.data, [{ body: 'mine' }]) && 'wrong rows')
} else {
  await step('select, filter, order',
    supabase.from('books').select('id, title').gte('year', 2000).order('id'),
    (r) => !same(r.data, [{ id: 2, title: 'Go in Practice' }, { id: 3, title: 'Going Further' }]) && 'wrong rows')
  await step('embed, single',
    supabase.from('books').select('title, authors(name)').eq('id', 1).single(),
    (r) => !same(r.data, { title: 'Old Tales', authors: { name: 'Ann' } }) && 'wrong object')
  await step('count, head',
    supabase.from('books').select('*', { count: 'exact', head: true }),
    (r) => r.count !== 3 && 'wrong count')
  await step('insert, select',
    supabase.from('books').insert({ id: 20, title: 'New', author_id: 2 }).select('id, title'),
    (r) => !same(r.data, [{ id: 20, title: 'New' }]) && 'wrong insert')
  await step('update',
    supabase.from('books').update({ year: 2030 }).eq('id', 20).select('year'),
    (r) => !same(r.data, [{ year: 2030 }]) && 'wrong update')
  await step('delete',
    supabase.from('books').delete().eq('id', 20),
    (r) => r.status !== 204 && 'expected 204')
  await step('rpc',
    supabase.rpc('add_numbers', { a: 2, b: 40 }),
    (r) => r.data !== 42 && 'expected 42')
}
