package dbapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/testenv"
)

// wbUser is a signed-in dashboard user (cookie auth, CSRF header).
type wbUser struct {
	*testenv.Browser
	t        *testing.T
	email    string
	identity string
	tenant   string
}

type wbAnswer struct {
	status int
	body   map[string]any
	raw    []byte
}

func (a wbAnswer) code() string {
	e, _ := a.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (a wbAnswer) details() map[string]any {
	e, _ := a.body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	return d
}

func (u *wbUser) call(method, path string, body any) wbAnswer {
	u.t.Helper()
	var raw json.RawMessage
	resp := u.Do(method, path, body, &raw)
	a := wbAnswer{status: resp.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// query runs POST /api/sql/query and checks the status.
func (u *wbUser) query(status int, body map[string]any) wbAnswer {
	u.t.Helper()
	a := u.call("POST", "/api/sql/query", body)
	if a.status != status {
		u.t.Fatalf("query %v: %d, want %d: %s", body, a.status, status, a.raw)
	}
	return a
}

// newWBUser registers an account; admin makes it a Truss admin and signs in
// again (a fresh session, so the admin flag is not a cached one).
func (e *env) newWBUser(admin bool) *wbUser {
	e.t.Helper()
	b := testenv.NewBrowser(e.t, e.url)
	u := &wbUser{Browser: b, t: e.t, email: randomEmail()}
	b.Do("GET", "/api/auth/login", nil, nil)
	var p struct {
		IdentityID string `json:"identity_id"`
		TenantID   string `json:"tenant_id"`
		IsAdmin    bool   `json:"is_admin"`
	}
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": u.email, "password": "a long passphrase 12345"}, &p); resp.StatusCode != 200 {
		e.t.Fatalf("register: %d", resp.StatusCode)
	}
	if admin {
		e.exec("INSERT INTO truss_internal.admins (identity_id) VALUES ($1)", p.IdentityID)
		if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": u.email, "password": "a long passphrase 12345"}, &p); resp.StatusCode != 200 || !p.IsAdmin {
			e.t.Fatalf("login as admin: %d %+v", resp.StatusCode, p)
		}
	}
	u.identity, u.tenant = p.IdentityID, p.TenantID
	return u
}

func (e *env) wbFixture() {
	e.exec(`
		CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'x', price numeric);
		CREATE TABLE reviews (id bigint PRIMARY KEY, item_id int REFERENCES items(id), body text);
		CREATE INDEX reviews_item_idx ON reviews (item_id);
		INSERT INTO items (name, price) SELECT 'item ' || g, g FROM generate_series(1, 50) g;
		ALTER TABLE items ENABLE ROW LEVEL SECURITY;
		CREATE FUNCTION item_count(min_price numeric DEFAULT 0) RETURNS bigint LANGUAGE sql STABLE
			AS 'SELECT count(*) FROM items WHERE price >= min_price';
	`)
}

func TestWorkbenchReadOnly(t *testing.T) {
	e := newEnv(t, map[string]string{"TRUSS_AUTH_REQUIRED": "true", "DB_API_STATEMENT_TIMEOUT": "2s"})
	e.wbFixture()
	admin := e.newWBUser(true)

	// Reads work, as truss_workbench_ro, in a read-only transaction, despite
	// RLS without policies (the role bypasses it), with params and a row cap.
	a := admin.query(200, map[string]any{"sql": "SELECT id, name, current_user AS who, current_setting('transaction_read_only') AS ro FROM items WHERE price > $1 ORDER BY id", "params": []any{10}, "row_limit": 5})
	rows := a.body["rows"].([]any)
	if len(rows) != 5 || a.body["truncated"] != true || a.body["rowCount"] != float64(40) || a.body["command"] != "SELECT" {
		t.Errorf("read: %s", a.raw)
	}
	r0 := rows[0].(map[string]any)
	if r0["who"] != "truss_workbench_ro" || r0["ro"] != "on" || r0["id"] != float64(11) {
		t.Errorf("row: %v", r0)
	}
	if _, ok := a.body["duration_ms"].(float64); !ok || a.body["columns"] == nil {
		t.Errorf("duration_ms/columns missing: %s", a.raw)
	}
	// A table created after startup (by service_role, through /v1/sql) is
	// readable too.
	_, sk := e.tenantKey(apikey.ServiceRole)
	e.sql(sk, "CREATE TABLE later (id int)")
	e.sql(sk, "INSERT INTO later VALUES (1)")
	admin.query(200, map[string]any{"sql": "SELECT * FROM later"})

	// Writes and DDL are refused with a clear error, and nothing changed.
	for _, q := range []string{
		"INSERT INTO items (name) VALUES ('ro')",
		"UPDATE items SET name = 'ro'",
		"DELETE FROM items",
		"CREATE TABLE evil (id int)",
		"DROP TABLE items",
		"CREATE TEMP TABLE t (id int)",
		"SELECT nextval('items_id_seq')",
		"WITH d AS (DELETE FROM items RETURNING 1) SELECT count(*) FROM d",
		"DO $$ BEGIN INSERT INTO items (name) VALUES ('do'); END $$",
		"DO $$ BEGIN SET TRANSACTION READ WRITE; INSERT INTO items (name) VALUES ('do'); END $$",
		"SET TRANSACTION READ WRITE",
		"SET transaction_read_only = off",
		"SELECT set_config('transaction_read_only', 'off', true)",
	} {
		a := admin.call("POST", "/api/sql/query", map[string]any{"sql": q})
		if a.status < 400 || a.status >= 500 {
			t.Errorf("%q in read-only mode: %d %s", q, a.status, a.raw)
			continue
		}
		if code := a.code(); code != "read_only" && code != "permission_denied" && code != "database_error" {
			t.Errorf("%q: code %q: %s", q, code, a.raw)
		}
	}
	a = admin.query(403, map[string]any{"sql": "INSERT INTO items (name) VALUES ('ro')"})
	if a.code() != "read_only" || a.details()["pg_code"] != "25006" || !strings.Contains(string(a.raw), `\"write\": true`) {
		t.Errorf("insert refusal is not clear: %s", a.raw)
	}
	var n int
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM items").Scan(&n); err != nil || n != 50 {
		t.Errorf("items changed in read-only mode: %d %v", n, err)
	}
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE tablename = 'evil'").Scan(&n); err != nil || n != 0 {
		t.Errorf("DDL ran in read-only mode")
	}

	// Errors carry the SQLSTATE and the position in the user's statement.
	a = admin.query(400, map[string]any{"sql": "SELECT nosuchcolumn FROM items"})
	if a.details()["pg_code"] != "42703" || a.details()["position"] != float64(8) {
		t.Errorf("error details: %s", a.raw)
	}
	// Timeout and bounded parameters.
	a = admin.query(504, map[string]any{"sql": "SELECT pg_sleep(3)", "timeout": "200ms"})
	admin.query(400, map[string]any{"sql": "SELECT 1", "timeout": "1h"})
	admin.query(422, map[string]any{"sql": "SELECT '" + strings.Repeat("x", 101<<10) + "'"})
}

// TestWorkbenchEscapes: neither mode reaches truss_internal, another role,
// the server's files or another database, whatever the SQL tries.
func TestWorkbenchEscapes(t *testing.T) {
	e := newEnv(t, map[string]string{"TRUSS_AUTH_REQUIRED": "true"})
	e.wbFixture()
	admin := e.newWBUser(true)
	for _, write := range []bool{false, true} {
		mode := fmt.Sprintf("write=%v", write)
		refused := func(q string) {
			t.Helper()
			a := admin.call("POST", "/api/sql/query", map[string]any{"sql": q, "write": write})
			if a.status < 400 || a.status >= 500 {
				t.Errorf("%s %q: %d %s", mode, q, a.status, a.raw)
			}
			if strings.Contains(string(a.raw), admin.email) || strings.Contains(string(a.raw), "key_hash") {
				t.Errorf("%s %q leaked internal data: %s", mode, q, a.raw)
			}
		}
		for _, q := range []string{
			"SELECT * FROM truss_internal.tenants",
			"SELECT * FROM truss_internal.api_keys",
			"SELECT * FROM truss_internal.sql_history",
			"TABLE truss_internal.admins",
			"SELECT count(*) FROM truss_internal.sql_saved",
			"SET ROLE truss",
			"SET ROLE postgres",
			"SET SESSION AUTHORIZATION truss",
			"SELECT set_config('role', 'truss', true)",
			"SELECT set_config('role', 'truss_authenticator', false), (SELECT count(*) FROM truss_internal.tenants)",
			"DO $$ BEGIN RESET ROLE; PERFORM * FROM truss_internal.tenants; END $$",
			"DO $$ BEGIN SET LOCAL ROLE truss; END $$",
			"DO $$ BEGIN EXECUTE 'SELECT * FROM truss_internal.tenants'; END $$",
			"RESET ROLE; SELECT * FROM truss_internal.tenants",
			"SELECT 1; DELETE FROM items",
			"SELECT pg_read_file('/etc/passwd')",
			"SELECT pg_read_file('postgresql.conf')",
			"SELECT pg_ls_dir('.')",
			"SELECT lo_import('/etc/passwd')",
			"COPY items TO STDOUT",
			"copy (SELECT * FROM truss_internal.tenants) TO '/tmp/x'",
			"DO $$ BEGIN EXECUTE 'COPY items TO ''/tmp/truss_wb_x'''; END $$",
			"SELECT * FROM kratos.public.identities",
			"ALTER ROLE truss_workbench_ro SUPERUSER",
			"GRANT USAGE ON SCHEMA truss_internal TO PUBLIC",
			"SELECT truss_internal.notify_schema_change()",
			"COMMIT",
			"/* x */ ROLLBACK",
		} {
			refused(q)
		}
		// SET ROLE / RESET ROLE alone neither fail the server nor leak
		// into the next query on the same connections.
		for range 3 {
			admin.call("POST", "/api/sql/query", map[string]any{"sql": "RESET ROLE", "write": write})
			admin.call("POST", "/api/sql/query", map[string]any{"sql": "SET ROLE anon", "write": write})
			admin.call("POST", "/api/sql/query", map[string]any{"sql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "write": write})
		}
		want := "truss_workbench_ro"
		if write {
			want = "service_role"
		}
		for range 4 {
			a := admin.query(200, map[string]any{"sql": "SELECT current_user AS u, current_setting('transaction_read_only') AS ro", "write": write})
			row := a.body["rows"].([]any)[0].(map[string]any)
			if row["u"] != want || (row["ro"] == "on") == write {
				t.Errorf("%s: state leaked between queries: %v", mode, row)
			}
		}
	}
	// The read-only role cannot become service_role (it is a member of no role).
	a := admin.query(403, map[string]any{"sql": "SET ROLE service_role"})
	if a.details()["pg_code"] != "42501" {
		t.Errorf("SET ROLE service_role: %s", a.raw)
	}
	var n int
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM items").Scan(&n); err != nil || n != 50 {
		t.Errorf("items changed: %d %v", n, err)
	}
	// Nothing private slipped into error messages: the error names only the
	// user's own statement.
	a = admin.query(403, map[string]any{"sql": "SELECT * FROM truss_internal.tenants"})
	if a.code() != "permission_denied" || a.details()["pg_code"] != "42501" {
		t.Errorf("truss_internal: %s", a.raw)
	}
}

func TestWorkbenchWriteMode(t *testing.T) {
	e := newEnv(t, map[string]string{"TRUSS_AUTH_REQUIRED": "true"})
	e.wbFixture()
	admin := e.newWBUser(true)
	a := admin.query(200, map[string]any{"sql": "INSERT INTO items (name, price) VALUES ($1, $2) RETURNING id, current_user AS who", "params": []any{"new", 3}, "write": true})
	if a.body["command"] != "INSERT" || a.body["rowCount"] != float64(1) || a.body["write"] != true ||
		a.body["rows"].([]any)[0].(map[string]any)["who"] != "service_role" {
		t.Errorf("insert: %s", a.raw)
	}
	admin.query(200, map[string]any{"sql": "CREATE TABLE made_here (id int PRIMARY KEY)", "write": true})
	admin.query(200, map[string]any{"sql": "INSERT INTO made_here VALUES (1), (2)", "write": true})
	// Committed, and readable in read-only mode.
	a = admin.query(200, map[string]any{"sql": "SELECT count(*) AS n FROM made_here"})
	if a.body["rows"].([]any)[0].(map[string]any)["n"] != float64(2) {
		t.Errorf("made_here: %s", a.raw)
	}
	// A failing statement is rolled back; constraint errors keep their code.
	a = admin.query(409, map[string]any{"sql": "INSERT INTO made_here VALUES (1)", "write": true})
	if a.code() != "unique_violation" || a.details()["pg_code"] != "23505" {
		t.Errorf("unique: %s", a.raw)
	}
}

func TestWorkbenchHistorySavedSchema(t *testing.T) {
	e := newEnv(t, map[string]string{"TRUSS_AUTH_REQUIRED": "true"})
	e.wbFixture()
	a1, a2 := e.newWBUser(true), e.newWBUser(true)
	user := e.newWBUser(false)

	// Non-admins: 403 on every endpoint; anonymous: 401.
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/sql/query"}, {"GET", "/api/sql/history"}, {"GET", "/api/sql/saved"}, {"POST", "/api/sql/saved"},
		{"PUT", "/api/sql/saved/00000000-0000-0000-0000-000000000000"}, {"DELETE", "/api/sql/saved/00000000-0000-0000-0000-000000000000"},
		{"GET", "/api/sql/schema"},
	} {
		var body any
		if c.method == "POST" || c.method == "PUT" {
			body = map[string]any{"sql": "SELECT 1", "name": "x"}
		}
		if a := user.call(c.method, c.path, body); a.status != 403 || a.code() != "forbidden" {
			t.Errorf("non-admin %s %s: %d %s", c.method, c.path, a.status, a.raw)
		}
		anon := &wbUser{Browser: testenv.NewBrowser(t, e.url), t: t}
		anon.Do("GET", "/api/auth/login", nil, nil)
		if a := anon.call(c.method, c.path, body); a.status != 401 {
			t.Errorf("anonymous %s %s: %d %s", c.method, c.path, a.status, a.raw)
		}
	}

	// History: every query, failed ones too, newest first, last 100, per admin.
	for i := range 103 {
		a1.query(200, map[string]any{"sql": fmt.Sprintf("SELECT %d", i)})
	}
	a1.query(403, map[string]any{"sql": "DELETE FROM items"})
	a2.query(200, map[string]any{"sql": "SELECT 'a2'"})
	var h struct {
		History []struct {
			SQL       string `json:"sql"`
			ErrorCode string `json:"error_code"`
			Command   string `json:"command"`
			Write     bool   `json:"write"`
		} `json:"history"`
	}
	a1.Do("GET", "/api/sql/history", nil, &h)
	if len(h.History) != 100 || h.History[0].SQL != "DELETE FROM items" || h.History[0].ErrorCode != "read_only" ||
		h.History[1].SQL != "SELECT 102" || h.History[1].Command != "SELECT" || h.History[99].SQL != "SELECT 4" {
		t.Errorf("history of a1: %d entries, first %+v", len(h.History), h.History[:min(2, len(h.History))])
	}
	a2.Do("GET", "/api/sql/history", nil, &h)
	if len(h.History) != 1 || h.History[0].SQL != "SELECT 'a2'" {
		t.Errorf("history of a2: %+v", h.History)
	}

	// Saved queries: CRUD, validation, tenant scoping.
	a := a1.call("POST", "/api/sql/saved", map[string]any{"name": "cheap items", "sql": "SELECT * FROM items WHERE price < 5"})
	if a.status != 201 || a.body["id"] == nil || a.body["name"] != "cheap items" || a.body["created_by"] != a1.identity {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	id := a.body["id"].(string)
	for _, bad := range []map[string]any{
		{"name": "", "sql": "SELECT 1"},
		{"name": strings.Repeat("n", 201), "sql": "SELECT 1"},
		{"name": "x", "sql": ""},
		{"name": "x", "sql": strings.Repeat("x", 100<<10+1)},
	} {
		if a := a1.call("POST", "/api/sql/saved", bad); a.status != 422 || a.code() != "validation_failed" {
			t.Errorf("invalid saved query accepted: %d %.200s", a.status, a.raw)
		}
	}
	a1.call("POST", "/api/sql/saved", map[string]any{"name": strings.Repeat("é", 200), "sql": strings.Repeat("x", 100<<10)})
	a = a1.call("PUT", "/api/sql/saved/"+id, map[string]any{"name": "renamed", "sql": "SELECT 2"})
	if a.status != 200 || a.body["name"] != "renamed" || a.body["sql"] != "SELECT 2" {
		t.Errorf("update: %d %s", a.status, a.raw)
	}
	var list struct {
		Saved []map[string]any `json:"saved"`
	}
	a1.Do("GET", "/api/sql/saved", nil, &list)
	if len(list.Saved) != 2 || list.Saved[0]["id"] != id {
		t.Errorf("list a1: %v", len(list.Saved))
	}
	a2.Do("GET", "/api/sql/saved", nil, &list)
	if len(list.Saved) != 0 {
		t.Errorf("a2 sees a1's saved queries: %v", list.Saved)
	}
	if a := a2.call("PUT", "/api/sql/saved/"+id, map[string]any{"name": "stolen", "sql": "SELECT 3"}); a.status != 404 {
		t.Errorf("a2 updated a1's query: %d %s", a.status, a.raw)
	}
	if a := a2.call("DELETE", "/api/sql/saved/"+id, nil); a.status != 404 {
		t.Errorf("a2 deleted a1's query: %d %s", a.status, a.raw)
	}
	if a := a1.call("PUT", "/api/sql/saved/not-a-uuid", map[string]any{"name": "x", "sql": "SELECT 1"}); a.status != 404 {
		t.Errorf("bad id: %d %s", a.status, a.raw)
	}
	if a := a1.call("DELETE", "/api/sql/saved/"+id, nil); a.status != 204 {
		t.Errorf("delete: %d %s", a.status, a.raw)
	}
	if a := a1.call("DELETE", "/api/sql/saved/"+id, nil); a.status != 404 {
		t.Errorf("delete twice: %d %s", a.status, a.raw)
	}

	// Schema browser: tables with columns, defaults, keys, indexes; functions;
	// nothing of truss_internal or truss_api.
	var sc struct {
		Tables []struct {
			Schema, Name, Kind string
			Columns            []struct {
				Name, Type string
				Nullable   bool
				Default    *string
				PrimaryKey bool `json:"primary_key"`
			}
			PrimaryKey  []string `json:"primary_key"`
			ForeignKeys []struct {
				Columns    []string
				RefTable   string   `json:"ref_table"`
				RefColumns []string `json:"ref_columns"`
			} `json:"foreign_keys"`
			Indexes []struct {
				Name       string
				Unique     bool
				Primary    bool
				Definition string
			}
		}
		Functions []struct {
			Schema, Name, Returns string
			Arguments             []struct{ Name, Type string }
			NumDefaults           int `json:"num_defaults"`
		}
	}
	if resp := a1.Do("GET", "/api/sql/schema", nil, &sc); resp.StatusCode != 200 {
		t.Fatalf("schema: %d", resp.StatusCode)
	}
	found := 0
	for _, tb := range sc.Tables {
		if tb.Schema != "public" {
			t.Errorf("schema browser shows %s.%s", tb.Schema, tb.Name)
		}
		switch tb.Name {
		case "items":
			found++
			c := tb.Columns
			if tb.Kind != "table" || len(c) != 3 || !c[0].PrimaryKey || c[0].Nullable || c[0].Default == nil ||
				!strings.HasPrefix(*c[0].Default, "nextval(") || c[1].Type != "text" || c[1].Nullable || *c[1].Default != "'x'::text" ||
				!c[2].Nullable || c[2].Default != nil || len(tb.PrimaryKey) != 1 {
				t.Errorf("items: %+v", tb)
			}
		case "reviews":
			found++
			if len(tb.ForeignKeys) != 1 || tb.ForeignKeys[0].RefTable != "items" || tb.ForeignKeys[0].Columns[0] != "item_id" ||
				len(tb.Indexes) != 2 || tb.Indexes[1].Name != "reviews_pkey" || !tb.Indexes[1].Primary ||
				tb.Indexes[0].Name != "reviews_item_idx" || !strings.Contains(tb.Indexes[0].Definition, "(item_id)") {
				t.Errorf("reviews: %+v", tb)
			}
		}
	}
	if found != 2 {
		t.Errorf("tables: %+v", sc.Tables)
	}
	okFn := false
	for _, f := range sc.Functions {
		if f.Schema != "public" {
			t.Errorf("schema browser shows function %s.%s", f.Schema, f.Name)
		}
		if f.Name == "item_count" && f.Returns == "bigint" && len(f.Arguments) == 1 && f.Arguments[0].Name == "min_price" &&
			f.Arguments[0].Type == "numeric" && f.NumDefaults == 1 {
			okFn = true
		}
	}
	if !okFn {
		t.Errorf("functions: %+v", sc.Functions)
	}
}
