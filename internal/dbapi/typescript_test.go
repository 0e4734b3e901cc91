package dbapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/dbapi"
)

// TestTypeScriptTypes generates the Database type of a schema with tables,
// a view, an enum and functions, and type-checks with the TypeScript
// compiler a program that uses it through @supabase/postgrest-js: correct
// uses compile, and each wrong use marked @ts-expect-error must be an
// error (so the types are precise, not any).
func TestTypeScriptTypes(t *testing.T) {
	node, dir := nodeDeps(t)
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`CREATE TYPE mood AS ENUM ('happy', 'sad');
		ALTER TABLE authors ADD COLUMN mood mood, ADD COLUMN born date;
		CREATE VIEW public_posts AS SELECT id, title, author_id FROM posts WHERE published;
		CREATE TABLE "odd names" ("it's" int PRIMARY KEY, total numeric(10,2) GENERATED ALWAYS AS ("it's" * 2) STORED);`)
	sc, err := dbapi.LoadSchema(context.Background(), e.pool, []string{"public"})
	if err != nil {
		t.Fatal(err)
	}
	types := dbapi.TypeScript(sc, []string{"public"})
	for _, want := range []string{
		"views: number | null", "tags?: string[]", "title: string\n", `mood: Database["public"]["Enums"]["mood"] | null`,
		`mood: "happy" | "sad"`, `"it's": number`, "total?: never", `referencedRelation: "authors"`, "public_posts: {",
		"| { Args: { a: number; b?: number }; Returns: number }", "| { Args: { min_views: number }; Returns: { id: number | null;",
		"__InternalSupabase: {\n    PostgrestVersion: \"13\"",
	} {
		if !strings.Contains(types, want) {
			t.Errorf("generated types lack %q", want)
		}
	}
	if t.Failed() {
		t.Log(types)
	}

	work, err := os.MkdirTemp(dir, "typecheck-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	program := `import { PostgrestClient } from '@supabase/postgrest-js'
import type { Database } from './database.types'

const db = new PostgrestClient<Database>('http://localhost/v1/db')

export async function uses() {
  const { data } = await db.from('posts').select('id, title, views, authors(name, mood)').eq('id', 1).single()
  if (data) {
    const id: number = data.id
    const title: string = data.title
    const views: number | null = data.views
    // @ts-expect-error views may be null
    const strictViews: number = data.views
    const mood: 'happy' | 'sad' | null | undefined = data.authors?.mood
    void [id, title, views, strictViews, mood]
  }
  await db.from('posts').insert({ title: 'x' })
  // @ts-expect-error title is required
  await db.from('posts').insert({ body: 'x' })
  // @ts-expect-error views is a number
  await db.from('posts').update({ views: 'many' }).eq('id', 1)
  const row = await db.from('public_posts').select('title').limit(1)
  const first: string | null | undefined = row.data?.[0]?.title
  const sum = await db.rpc('add', { a: 1 })
  const n: number | null = sum.data
  // @ts-expect-error a is required
  await db.rpc('add', { b: 2 })
  const odd = await db.from('odd names').select('*')
  const it: number | undefined = odd.data?.[0]?.["it's"]
  // PostgREST 13 features, typed through __InternalSupabase.
  const del = await db.from('posts').delete().eq('author_id', 1).maxAffected(5)
  const delStatus: number = del.status
  const flat = await db.from('authors').select('name, ...posts(titles:title)')
  const titles: string[] | undefined = flat.data?.[0]?.titles
  // @ts-expect-error a one-to-many spread gives arrays
  const oneTitle: string | undefined = flat.data?.[0]?.titles
  const agg = await db.from('posts').select('count(), views.sum()')
  const count: number | undefined = agg.data?.[0]?.count
  void [first, n, it, titles, oneTitle, count, delStatus]
}
`
	if err := os.WriteFile(filepath.Join(work, "database.types.ts"), []byte(types), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "check.ts"), []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "node_modules", "typescript", "bin", "tsc"),
		"--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
		"check.ts")
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s\n--- database.types.ts ---\n%s", err, out, types)
	}
}
