package dbapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// Reads may skip the per-request setup on a connection already set up for
// the same caller (internal/dbapi/run.go). With one connection, every
// request shares it: callers alternate, a failed statement rolls settings
// back, and a function that changes the settings at session level is
// caught by the guard; each request must still see exactly its own role,
// claims and timeout.
func TestSessionReuseIsSafe(t *testing.T) {
	e := newEnv(t, map[string]string{"DATABASE_MAX_CONNS": "1"})
	e.exec(`CREATE VIEW whoami WITH (security_invoker = true) AS
		SELECT current_user::text AS role, current_setting('request.jwt.claims', true) AS claims,
		       current_setting('statement_timeout') AS timeout, 1 AS id`)
	e.exec(`GRANT SELECT ON whoami TO anon, authenticated, service_role`)
	e.exec(`CREATE FUNCTION tamper() RETURNS void LANGUAGE plpgsql AS $$ BEGIN
		PERFORM set_config('request.jwt.claims', '{"role":"anon","sub":"00000000-0000-0000-0000-00000000dead"}', false);
		PERFORM set_config('statement_timeout', '0', false);
		END $$`)
	e.exec(`GRANT EXECUTE ON FUNCTION tamper() TO anon`)
	_, anonA := e.tenantKey(apikey.Anon)
	tenantB, anonB := e.tenantKey(apikey.Anon)
	skB := e.key(tenantB, apikey.ServiceRole)

	who := func(key string) (role, tenant, sub, timeout string) {
		t.Helper()
		var rows []struct{ Role, Claims, Timeout string }
		e.must(200, "GET", "/v1/db/whoami", key, nil).json(t, &rows)
		if len(rows) != 1 {
			t.Fatalf("rows %v", rows)
		}
		var c map[string]string
		if err := json.Unmarshal([]byte(rows[0].Claims), &c); err != nil {
			t.Fatalf("claims %q: %v", rows[0].Claims, err)
		}
		return rows[0].Role, c["tenant_id"], c["sub"], rows[0].Timeout
	}
	check := func(step, key, wantRole, wantTenant string) {
		t.Helper()
		role, tenant, sub, timeout := who(key)
		if role != wantRole || tenant != wantTenant || sub != "" || timeout == "0" {
			t.Errorf("%s: role %s tenant %s sub %q timeout %s; want %s, %s, no sub, a timeout", step, role, tenant, sub, timeout, wantRole, wantTenant)
		}
	}
	var tenantA string
	_, tenantA, _, _ = who(anonA)
	for i := range 3 { // the second read of a caller skips the setup
		check("anon A", anonA, "anon", tenantA)
		check("anon A again", anonA, "anon", tenantA)
		check("anon B", anonB, "anon", tenantB)
		check("service B", skB, "service_role", tenantB)
		check("service B again", skB, "service_role", tenantB)
		if i == 1 {
			// A failed read rolls back its transaction; the next read must
			// not trust the connection's settings.
			if r := e.do("GET", "/v1/db/whoami?id=eq.notanumber", anonA, nil); r.status == 200 {
				t.Fatalf("bad filter answered 200")
			}
		}
	}
	// A function changing claims and timeout at session level: the next
	// read by the same caller must not inherit them.
	check("before tamper", anonA, "anon", tenantA)
	e.must(200, "POST", "/v1/db/rpc/tamper", anonA, map[string]any{})
	check("after tamper", anonA, "anon", tenantA)
	check("after tamper, again", anonA, "anon", tenantA)
	if strings.Contains(tenantA, tenantB) {
		t.Fatal("tenants must differ")
	}
}
