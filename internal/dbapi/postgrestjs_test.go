package dbapi_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/apikey"
)

// nodeDeps returns node and testdata/postgrestjs, with its npm packages
// (@supabase/postgrest-js and typescript, pinned in package-lock.json)
// installed by npm ci when missing.
func nodeDeps(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: this test runs @supabase/postgrest-js with Node.js (>= 20) and npm; install them (e.g. apt-get install nodejs npm)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm is not installed: this test installs @supabase/postgrest-js with npm ci; install npm")
	}
	dir, _ = filepath.Abs(filepath.Join("testdata", "postgrestjs"))
	for _, pkg := range []string{"@supabase/postgrest-js", "@supabase/supabase-js", "ws", "@apidevtools/swagger-parser", "typescript"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
		break
	}
	return node, dir
}

// TestPostgrestJS runs @supabase/postgrest-js (pinned in
// testdata/postgrestjs/package-lock.json) from Node against Truss: selects
// with filters and embeds, count, single, insert and upsert with
// return=representation, update, delete and RPC, with select, filters,
// order, range, count and single on function results
// (testdata/postgrestjs/run.mjs checks each answer). It installs the package with npm ci on first run.
func TestPostgrestJS(t *testing.T) {
	node, dir := nodeDeps(t)

	e := newEnv(t, nil)
	e.exec(`CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
		CREATE TABLE books (id int PRIMARY KEY, title text, author_id int REFERENCES authors(id), year int, tags text[]);
		INSERT INTO authors VALUES (1, 'Ann'), (2, 'Bob');
		INSERT INTO books VALUES (1, 'Old Tales', 1, 1980, '{history}'), (2, 'Go in Practice', 1, 2016, '{go,programming}'),
			(3, 'Going Further', 2, 2021, '{go}');
		CREATE TABLE slots (id int PRIMARY KEY, during int4range NOT NULL, note text);
		INSERT INTO slots VALUES (1, '[1,5)', 'x'), (2, '[5,8)', NULL), (3, '[10,20)', NULL);
		CREATE FUNCTION add_numbers(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
		CREATE FUNCTION shelf(b books) RETURNS text LANGUAGE sql STABLE AS 'SELECT upper(left(b.title, 1))';
		CREATE FUNCTION books_by(author_name text) RETURNS SETOF books LANGUAGE sql STABLE AS
			'SELECT b.* FROM books b JOIN authors a ON a.id = b.author_id WHERE a.name = author_name';
		CREATE FUNCTION book_years(since int) RETURNS TABLE(title text, year int) LANGUAGE sql STABLE AS
			'SELECT b.title, b.year FROM books b WHERE b.year >= since';`)
	_, key := e.tenantKey(apikey.ServiceRole)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TRUSS_URL="+e.url, "TRUSS_KEY="+key)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("postgrest-js against Truss failed: %v\n%s%s", err, stderr.String(), out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var results map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &results); err != nil {
		t.Fatalf("run.mjs output is not JSON: %v\n%s", err, out)
	}
	if len(results) < 42 {
		t.Errorf("only %d steps reported: %s", len(results), out)
	}
	// The writes really happened: 10, 11 and 12 were inserted and deleted.
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM books`).Scan(&n); err != nil || n != 3 {
		t.Errorf("books after the run: %d (%v), want 3", n, err)
	}
}

// TestSupabaseJS runs @supabase/supabase-js's createClient(TRUSS_PUBLIC_URL,
// key) from Node against Truss: its database calls go to /rest/v1, which
// answers like /v1/db (testdata/postgrestjs/supabase.mjs). Then as a
// signed-in user: the anon key with the user's Truss session token as
// supabase-js's access token is role authenticated, and row-level security
// shows the user their own rows only.
func TestSupabaseJS(t *testing.T) {
	node, dir := nodeDeps(t)
	e := newEnv(t, nil)
	e.exec(`CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
		CREATE TABLE books (id int PRIMARY KEY, title text, author_id int REFERENCES authors(id), year int);
		INSERT INTO authors VALUES (1, 'Ann'), (2, 'Bob');
		INSERT INTO books VALUES (1, 'Old Tales', 1, 1980), (2, 'Go in Practice', 1, 2016), (3, 'Going Further', 2, 2021);
		CREATE FUNCTION add_numbers(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
		CREATE TABLE notes (id serial PRIMARY KEY, owner_id uuid NOT NULL DEFAULT truss_api.uid(), body text NOT NULL);
		ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
		CREATE POLICY own ON notes FOR ALL TO authenticated USING (owner_id = truss_api.uid()) WITH CHECK (owner_id = truss_api.uid());
		GRANT SELECT, INSERT ON notes TO authenticated;
		GRANT USAGE ON SEQUENCE notes_id_seq TO authenticated;`)
	tenant, sk := e.tenantKey(apikey.ServiceRole)
	token, userID := e.signUp()
	e.exec(`INSERT INTO notes (owner_id, body) VALUES (gen_random_uuid(), 'someone else''s')`)

	run := func(env ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "supabase.mjs")
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "TRUSS_URL="+e.url), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("supabase-js against Truss failed: %v\n%s", err, out)
		} else if !strings.Contains(string(out), "ok ") {
			t.Fatalf("supabase-js ran no step:\n%s", out)
		}
	}
	run("TRUSS_KEY=" + sk)
	run("TRUSS_KEY="+e.key(tenant, apikey.Anon), "TRUSS_SESSION="+token, "TRUSS_USER="+userID)
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM notes WHERE owner_id = $1`, userID).Scan(&n); err != nil || n != 1 {
		t.Errorf("the user's notes: %d (%v), want 1", n, err)
	}
}
