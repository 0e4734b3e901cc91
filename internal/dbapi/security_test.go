package dbapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// rlsFixture: anon sees published posts of the key's tenant; authenticated
// users see and write only their own rows.
func (e *env) rlsFixture() {
	e.fixture()
	e.exec(`
		ALTER TABLE posts ENABLE ROW LEVEL SECURITY;
		CREATE POLICY anon_published ON posts FOR SELECT TO anon
			USING (published AND tenant_id = truss_api.tenant_id());
		CREATE POLICY own_rows ON posts FOR ALL TO authenticated
			USING (owner_id = truss_api.uid()) WITH CHECK (owner_id = truss_api.uid());
		GRANT SELECT ON posts, authors, comments TO anon, authenticated;
		GRANT INSERT, UPDATE, DELETE ON posts TO authenticated;
		GRANT EXECUTE ON FUNCTION whoami() TO anon, authenticated;
	`)
}

func TestRLSAndTenants(t *testing.T) {
	e := newEnv(t, nil)
	e.rlsFixture()
	tenantA, anonA := e.tenantKey(apikey.Anon)
	_, anonB := e.tenantKey(apikey.Anon)
	skA := e.key(tenantA, apikey.ServiceRole)
	token, userID := e.signUp()
	other, otherID := e.signUp()
	// Tenant A's published rows, tenant A's draft, user rows.
	e.exec(`UPDATE posts SET tenant_id = $1`, tenantA)
	e.exec(`INSERT INTO posts (id, title, published, tenant_id, owner_id) VALUES
		(20, 'mine', false, $1, $2), (21, 'theirs', false, $1, $3)`, tenantA, userID, otherID)

	count := func(key string, headers ...string) int {
		t.Helper()
		var rows []map[string]any
		e.must(200, "GET", "/v1/db/posts?select=id,title", key, nil, headers...).json(t, &rows)
		return len(rows)
	}
	if n := count(anonA); n != 3 { // 1, 3, 4: published, tenant A
		t.Errorf("anon of tenant A sees %d rows, want 3 published", n)
	}
	if n := count(anonB); n != 0 {
		t.Errorf("anon of tenant B sees %d of tenant A's rows", n)
	}
	if n := count(skA); n != 6 {
		t.Errorf("service_role sees %d rows, want all 6 (bypasses RLS)", n)
	}
	var rows []map[string]any
	e.must(200, "GET", "/v1/db/posts?select=id,title", anonA, nil, "X-Session-Token", token).json(t, &rows)
	if len(rows) != 1 || rows[0]["title"] != "mine" {
		t.Errorf("authenticated sees %v, want only its own row", rows)
	}
	// Authorization: Bearer <session> next to the apikey header works too.
	if n := count(anonA, "Authorization", "Bearer "+other); n != 1 {
		t.Errorf("other user sees %d rows", n)
	}
	var claims map[string]any
	e.must(200, "POST", "/v1/db/rpc/whoami", anonA, nil, "X-Session-Token", token).json(t, &claims)
	if claims["role"] != "authenticated" || claims["sub"] != userID || claims["tenant_id"] != tenantA {
		t.Errorf("claims: %v", claims)
	}
	// A bad session token next to an anon key is refused, not downgraded.
	if r := e.do("GET", "/v1/db/posts", anonA, nil, "X-Session-Token", "nonsense"); r.status != 401 {
		t.Errorf("bad session: %d %s", r.status, r.body)
	}
	// The session cookie is ignored on /v1 (no CSRF protection there).
	if n := count(anonA, "Cookie", "truss_session="+token); n != 3 {
		t.Errorf("cookie made the request authenticated: %d rows", n)
	}
	// Writes: authenticated may insert its own rows only; anon may not write.
	e.must(201, "POST", "/v1/db/posts", anonA, map[string]any{"id": 30, "title": "by user"}, "X-Session-Token", token)
	if r := e.do("POST", "/v1/db/posts", anonA, map[string]any{"id": 31, "title": "forged", "owner_id": otherID},
		"X-Session-Token", token); r.status != 403 || r.errCode(t) != "permission_denied" {
		t.Errorf("forged owner: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/db/posts", anonA, map[string]any{"id": 32, "title": "anon"}); r.status != 403 {
		t.Errorf("anon insert: %d %s", r.status, r.body)
	}
	// PATCH/DELETE by a user touch only its rows.
	e.must(204, "PATCH", "/v1/db/posts?id=in.(20,21)", anonA, map[string]any{"title": "changed"}, "X-Session-Token", token)
	var title string
	if err := e.pool.QueryRow(context.Background(), "SELECT title FROM posts WHERE id = 21").Scan(&title); err != nil || title != "theirs" {
		t.Errorf("user changed another user's row: %q %v", title, err)
	}
	// anon keys cannot use /v1/sql or /v1/keys.
	if r := e.do("POST", "/v1/sql", anonA, map[string]any{"sql": "SELECT 1"}); r.status != 403 || r.errCode(t) != "service_role_required" {
		t.Errorf("anon /v1/sql: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/keys", anonA, nil); r.status != 403 {
		t.Errorf("anon /v1/keys: %d", r.status)
	}
}

// TestInternalUnreachable: no API role, nor the authenticator, can read
// truss_internal; user SQL cannot leave its role.
func TestInternalUnreachable(t *testing.T) {
	e := newEnv(t, nil)
	_, sk := e.tenantKey(apikey.ServiceRole)
	ctx := context.Background()
	for _, role := range []string{"anon", "authenticated", "service_role", "truss_authenticator"} {
		for _, q := range []string{"SELECT count(*) FROM truss_internal.api_keys", "SELECT count(*) FROM truss_internal.tenants",
			"SELECT truss_internal.notify_schema_change()"} {
			tx, err := e.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, "SET LOCAL ROLE "+role+"; "+q)
			_ = tx.Rollback(ctx)
			if err == nil || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("%s: %s: %v, want permission denied", role, q, err)
			}
		}
	}
	for _, q := range []string{
		"SELECT * FROM truss_internal.api_keys",
		"RESET ROLE",
		"SET ROLE postgres",
		"SET SESSION AUTHORIZATION postgres",
		"SELECT set_config('role', 'none', true), (SELECT count(*) FROM truss_internal.api_keys)",
		"CREATE EXTENSION dblink",
		"COPY (SELECT 1) TO PROGRAM 'true'",
		"SELECT pg_read_file('/etc/passwd')",
	} {
		r := e.do("POST", "/v1/sql", sk, map[string]any{"sql": q})
		if q == "RESET ROLE" { // allowed, but lands on truss_authenticator, which has nothing
			if r.status != 200 {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
			continue
		}
		if r.status != 403 && r.status != 400 {
			t.Errorf("%s: %d %s, want a refusal", q, r.status, r.body)
		}
	}
	// After RESET ROLE the session is the authenticator with no privileges,
	// and the pool's next request is clean.
	r := e.do("POST", "/v1/sql/transaction", sk, map[string]any{"statements": []map[string]any{
		{"sql": "RESET ROLE"}, {"sql": "SELECT count(*) FROM truss_internal.api_keys"}}})
	if r.status != 403 {
		t.Errorf("reset role then read: %d %s", r.status, r.body)
	}
	out := e.sql(sk, "SELECT current_user AS u")
	if u := out["rows"].([]any)[0].(map[string]any)["u"]; u != "service_role" {
		t.Errorf("next request runs as %v", u)
	}
	// The roles cannot log in: the Ory databases, on the same cluster, are
	// reachable only through a connection, which they cannot open.
	for _, role := range []string{"anon", "authenticated", "service_role"} {
		var canLogin bool
		if err := e.pool.QueryRow(ctx, "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role).Scan(&canLogin); err != nil || canLogin {
			t.Errorf("%s can log in: %v %v", role, canLogin, err)
		}
	}
	// Auto-REST cannot name truss_internal either.
	if r := e.do("GET", "/v1/db/api_keys", sk, nil); r.status != 404 {
		t.Errorf("api_keys via auto-REST: %d", r.status)
	}
	if r := e.do("POST", "/v1/db/rpc/notify_schema_change", sk, nil, "Content-Profile", "truss_internal"); r.status != 406 {
		t.Errorf("rpc in truss_internal: %d", r.status)
	}
}

func TestInjection(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	payloads := []string{
		`id;DROP TABLE canary`, `"id"; DROP TABLE canary; --`, `id) OR 1=1 --`, `id,(SELECT 1)`, `*,pg_sleep(1)`,
		`id::text;DROP TABLE canary`, `x" OR "1"="1`,
	}
	for _, p := range payloads {
		for _, q := range []string{"select=" + url.QueryEscape(p), "order=" + url.QueryEscape(p), url.QueryEscape(p) + "=eq.1",
			"or=" + url.QueryEscape("("+p+".eq.1)")} {
			if r := e.do("GET", "/v1/db/posts?"+q, sk, nil); r.status != 400 {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
		}
	}
	// Values are parameters: a payload is just a value that matches nothing.
	for _, v := range []string{"1 OR 1=1", "1; DROP TABLE canary", "' OR ''='", `\'; DROP TABLE canary; --`} {
		r := e.do("GET", "/v1/db/posts?title=eq."+url.QueryEscape(v), sk, nil)
		if r.status != 200 || string(r.body) != "[]" {
			t.Errorf("value %q: %d %s", v, r.status, r.body)
		}
		if r := e.do("GET", "/v1/db/posts?id=in.("+url.QueryEscape(v)+")", sk, nil); r.status != 400 && string(r.body) != "[]" {
			t.Errorf("in value %q: %d %s", v, r.status, r.body)
		}
	}
	// Body keys and RPC argument names are checked against the schema.
	if r := e.do("POST", "/v1/db/posts", sk, map[string]any{`title") VALUES ('x'); DROP TABLE canary; --`: 1}); r.status != 400 {
		t.Errorf("body key: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/db/rpc/add", sk, map[string]any{"a": 1, `b => 1); DROP TABLE canary; --`: 2}); r.status != 404 {
		t.Errorf("rpc arg name: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/db/rpc/add", sk, map[string]any{"a": 1, "b": "1); DROP TABLE canary; --"}); r.status != 400 || r.errCode(t) != "invalid_value" {
		t.Errorf("rpc arg value: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/db/"+url.PathEscape(`posts"; DROP TABLE canary; --`), sk, nil); r.status != 404 {
		t.Errorf("table name: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/db/posts?on_conflict="+url.QueryEscape(`id) DO NOTHING; DROP TABLE canary; --`), sk,
		map[string]any{"id": 1, "title": "x"}, "Prefer", "resolution=merge-duplicates"); r.status != 400 {
		t.Errorf("on_conflict: %d %s", r.status, r.body)
	}
	var n int
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM canary").Scan(&n); err != nil || n != 1 {
		t.Fatalf("canary: %d %v", n, err)
	}
}
