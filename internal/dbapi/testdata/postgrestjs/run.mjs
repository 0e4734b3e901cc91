// Drives @supabase/postgrest-js against Truss's /v1/db (see
// internal/dbapi/postgrestjs_test.go, which creates the tables and reads
// this script's output). Every step checks its result; the first failure
// exits 1 naming the step, and the last line is the JSON of all results.
import { PostgrestClient } from '@supabase/postgrest-js'

const url = process.env.TRUSS_URL + '/v1/db'
const db = new PostgrestClient(url, { headers: { apikey: process.env.TRUSS_KEY } })
const out = {}

function eq(a, b) {
  return JSON.stringify(a) === JSON.stringify(b)
}

async function step(name, query, check) {
  const res = await query
  out[name] = { status: res.status, data: res.data, count: res.count ?? null, error: res.error }
  if (res.error) {
    console.error(`${name}: error ${res.status}: ${JSON.stringify(res.error)}`)
    process.exit(1)
  }
  const why = check(res)
  if (why) {
    console.error(`${name}: ${why} (status ${res.status}, data ${JSON.stringify(res.data)}, count ${res.count})`)
    process.exit(1)
  }
}

await step('select with filters',
  db.from('books').select('id, title').gte('year', 2000).ilike('title', '%go%').order('id'),
  (r) => !eq(r.data, [{ id: 2, title: 'Go in Practice' }, { id: 3, title: 'Going Further' }]) && 'wrong rows')

await step('select in, or, not, is, contains, range',
  db.from('books').select('id').in('id', [1, 2, 3, 4]).or('year.lt.1990,tags.cs.{go}').not('title', 'is', null)
    .contains('tags', ['go']).order('id', { ascending: false }).range(0, 0),
  (r) => !eq(r.data, [{ id: 3 }]) && 'wrong rows')

await step('embed many-to-one, single',
  db.from('books').select('title, authors(name)').eq('id', 1).single(),
  (r) => !eq(r.data, { title: 'Old Tales', authors: { name: 'Ann' } }) && 'wrong object')

await step('embed one-to-many with alias and order',
  db.from('authors').select('name, written:books(id)').order('id'),
  (r) => !eq(r.data, [{ name: 'Ann', written: [{ id: 1 }, { id: 2 }] }, { name: 'Bob', written: [{ id: 3 }] }]) && 'wrong rows')

await step('embed order and limit with referencedTable',
  db.from('authors').select('name, books(id)').order('id')
    .order('id', { referencedTable: 'books', ascending: false }).limit(1, { referencedTable: 'books' }),
  (r) => !eq(r.data, [{ name: 'Ann', books: [{ id: 2 }] }, { name: 'Bob', books: [{ id: 3 }] }]) && 'wrong rows')

await step('embed range with referencedTable',
  db.from('authors').select('name, books(id)').eq('id', 1).order('id', { referencedTable: 'books' }).range(1, 1, { referencedTable: 'books' }),
  (r) => !eq(r.data, [{ name: 'Ann', books: [{ id: 2 }] }]) && 'wrong rows')

await step('embed null filter',
  db.from('authors').select('name, books(id)').not('books', 'is', null).lt('books.year', 2000).order('id'),
  (r) => !eq(r.data, [{ name: 'Ann', books: [{ id: 1 }] }]) && 'wrong rows')

await step('spread a many-to-one relation',
  db.from('books').select('id, ...authors(author:name)').order('id'),
  (r) => !eq(r.data, [{ id: 1, author: 'Ann' }, { id: 2, author: 'Ann' }, { id: 3, author: 'Bob' }]) && 'wrong rows')

await step('computed field: select, filter, order',
  db.from('books').select('id, shelf').eq('shelf', 'G').order('shelf').order('id', { ascending: false }),
  (r) => !eq(r.data, [{ id: 3, shelf: 'G' }, { id: 2, shelf: 'G' }]) && 'wrong rows')

await step('csv',
  db.from('books').select('id, title').lt('id', 3).order('id').csv(),
  (r) => r.data !== 'id,title\n1,"Old Tales"\n2,"Go in Practice"' && 'wrong csv')

await step('embed !inner',
  db.from('books').select('id, authors!inner(name)').eq('author_id', 2),
  (r) => !eq(r.data, [{ id: 3, authors: { name: 'Bob' } }]) && 'wrong rows')

await step('count exact, head',
  db.from('books').select('*', { count: 'exact', head: true }),
  (r) => r.count !== 3 && 'count is not 3')

await step('maybeSingle of nothing',
  db.from('books').select('id').eq('id', 999).maybeSingle(),
  (r) => r.data !== null && 'expected null')

await step('insert one, return=representation',
  db.from('books').insert({ id: 10, title: 'New Book', author_id: 2, year: 2025, tags: ['new'] }).select(),
  (r) => (r.status !== 201 || !eq(r.data, [{ id: 10, title: 'New Book', author_id: 2, year: 2025, tags: ['new'] }])) && 'wrong insert')

await step('insert many, differing keys',
  db.from('books').insert([{ id: 11, title: 'A', author_id: 1 }, { id: 12, title: 'B', author_id: 1, year: 1999 }]).select('id, year'),
  (r) => !eq(r.data, [{ id: 11, year: null }, { id: 12, year: 1999 }]) && 'wrong insert')

await step('upsert',
  db.from('books').upsert({ id: 12, title: 'B2', author_id: 1, year: 2000 }).select('id, title'),
  (r) => !eq(r.data, [{ id: 12, title: 'B2' }]) && 'wrong upsert')

await step('update',
  db.from('books').update({ year: 2026 }).eq('id', 10).select('id, year'),
  (r) => !eq(r.data, [{ id: 10, year: 2026 }]) && 'wrong update')

await step('update without return',
  db.from('books').update({ title: 'A2' }).eq('id', 11),
  (r) => r.status !== 204 && 'expected 204')

await step('delete',
  db.from('books').delete().in('id', [11, 12]),
  (r) => r.status !== 204 && 'expected 204')

await step('delete with return',
  db.from('books').delete().eq('id', 10).select('id'),
  (r) => !eq(r.data, [{ id: 10 }]) && 'wrong delete')

await step('rpc scalar',
  db.rpc('add_numbers', { a: 2, b: 40 }),
  (r) => r.data !== 42 && 'expected 42')

await step('rpc set of rows',
  db.rpc('books_by', { author_name: 'Ann' }),
  (r) => !eq(r.data.map((b) => b.id).sort(), [1, 2]) && 'wrong rows')

await step('rpc with GET',
  db.rpc('add_numbers', { a: 1, b: 1 }, { get: true }),
  (r) => r.data !== 2 && 'expected 2')

await step('rpc select, order desc, limit',
  db.rpc('books_by', { author_name: 'Ann' }).select('title').order('title', { ascending: false }).limit(1),
  (r) => !eq(r.data, [{ title: 'Old Tales' }]) && 'wrong rows')

await step('rpc eq filter on the result',
  db.rpc('books_by', { author_name: 'Ann' }).select('id, title').eq('year', 2016),
  (r) => !eq(r.data, [{ id: 2, title: 'Go in Practice' }]) && 'wrong rows')

await step('rpc or, contains, order',
  db.rpc('books_by', { author_name: 'Ann' }).select('id').or('year.lt.1990,tags.cs.{programming}').order('id', { ascending: false }),
  (r) => !eq(r.data, [{ id: 2 }, { id: 1 }]) && 'wrong rows')

await step('rpc count exact, range',
  db.rpc('books_by', { author_name: 'Ann' }, { count: 'exact' }).select('id').order('id').range(1, 1),
  (r) => (!eq(r.data, [{ id: 2 }]) || r.count !== 2) && 'wrong rows or count')

await step('rpc embed, single',
  db.rpc('books_by', { author_name: 'Ann' }).select('title, author:authors(name)').eq('id', 1).single(),
  (r) => !eq(r.data, { title: 'Old Tales', author: { name: 'Ann' } }) && 'wrong object')

await step('rpc GET: arguments and filters',
  db.rpc('books_by', { author_name: 'Ann' }, { get: true }).select('id').in('id', [2, 3]),
  (r) => !eq(r.data, [{ id: 2 }]) && 'wrong rows')

await step('rpc RETURNS TABLE, gte, order',
  db.rpc('book_years', { since: 2000 }).select('title').gte('year', 2020).order('year'),
  (r) => !eq(r.data, [{ title: 'Going Further' }]) && 'wrong rows')

await step('aggregates grouped by a column, ordered',
  db.from('books').select('author_id, count(), latest:year.max()').order('author_id'),
  (r) => !eq(r.data, [{ author_id: 1, count: 2, latest: 2016 }, { author_id: 2, count: 1, latest: 2021 }]) && 'wrong groups')

await step('aggregate in an embedding, count of rows',
  db.from('authors').select('name, books(count())', { count: 'exact' }).order('id'),
  (r) => (!eq(r.data, [{ name: 'Ann', books: [{ count: 2 }] }, { name: 'Bob', books: [{ count: 1 }] }]) || r.count !== 2) && 'wrong rows or count')

await step('explain: the plan as JSON, with analyze',
  db.from('books').select('id').eq('id', 1).explain({ format: 'json', analyze: true }),
  (r) => !(Array.isArray(r.data) && r.data[0]?.Plan?.['Actual Rows'] === 1) && 'no analyzed plan')

await step('range operators',
  db.from('slots').select('id').rangeLt('during', '[8,10)').rangeAdjacent('during', '[8,10)').order('id'),
  (r) => !eq(r.data, [{ id: 2 }]) && 'wrong rows')

await step('stripNulls',
  db.from('slots').select('id, note').order('id').limit(2).stripNulls(),
  (r) => !eq(r.data, [{ id: 1, note: 'x' }, { id: 2 }]) && 'nulls not stripped')

await step('rollback: the update answers, the row keeps its title',
  db.from('books').update({ title: 'Renamed' }).eq('id', 1).select('title').rollback(),
  (r) => !eq(r.data, [{ title: 'Renamed' }]) && 'wrong answer')

await step('after the rollback',
  db.from('books').select('title').eq('id', 1),
  (r) => !eq(r.data, [{ title: 'Old Tales' }]) && 'the rolled-back update stayed')

await step('maxAffected within the limit',
  db.from('slots').update({ note: 'y' }).in('id', [2, 3]).maxAffected(2),
  (r) => r.status !== 204 && 'expected 204')

// Over the limit: refused, nothing changed.
const over = await db.from('slots').delete().gte('id', 1).maxAffected(2)
const left = await db.from('slots').select('id')
if (over.status !== 400 || over.error?.error?.code !== 'max_affected_exceeded' || left.data?.length !== 3) {
  console.error(`maxAffected over the limit: ${over.status} ${JSON.stringify(over.error)}, ${left.data?.length} rows left`)
  process.exit(1)
}
out['maxAffected over the limit'] = { status: over.status, error: over.error }

await step('spread a one-to-many relation into arrays',
  db.from('authors').select('name, ...books(titles:title)').order('id').order('id', { referencedTable: 'books' }),
  (r) => !eq(r.data, [{ name: 'Ann', titles: ['Old Tales', 'Go in Practice'] }, { name: 'Bob', titles: ['Going Further'] }]) && 'wrong arrays')

// postgrest-js hands over Truss's error body as is: { error: { code, message, hint } }.
const scalarSelect = await db.rpc('add_numbers', { a: 1, b: 2 }).select('x')
if (scalarSelect.status !== 400 || scalarSelect.error?.error?.code !== 'invalid_query') {
  console.error(`select on a scalar rpc: expected a 400 invalid_query, got ${scalarSelect.status} ${JSON.stringify(scalarSelect.error)}`)
  process.exit(1)
}
out['rpc select on a scalar'] = { status: scalarSelect.status, error: scalarSelect.error }

const bad = await db.from('nope').select('*')
if (!bad.error || bad.status !== 404) {
  console.error(`unknown table: expected a 404 error, got ${bad.status} ${JSON.stringify(bad.error)}`)
  process.exit(1)
}
out['unknown table'] = { status: bad.status, error: bad.error }

console.log(JSON.stringify(out))
