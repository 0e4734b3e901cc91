package dbapi_test

import (
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// TestTxPreferences: Prefer: tx=rollback runs a write (or a call) and rolls
// it back, answering what it did; max-affected=n refuses a write that
// changes more rows and changes none; handling=strict refuses unknown
// preferences.
func TestTxPreferences(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`CREATE FUNCTION add_canary(n int) RETURNS int LANGUAGE sql VOLATILE AS 'INSERT INTO canary VALUES (n) RETURNING id'`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	title := func(id string) string {
		t.Helper()
		var rows []struct{ Title string }
		e.must(200, "GET", "/v1/db/posts?select=title&id=eq."+id, sk, nil).json(t, &rows)
		if len(rows) != 1 {
			return "<gone>"
		}
		return rows[0].Title
	}
	canaries := func() int {
		var rows []map[string]any
		e.must(200, "GET", "/v1/db/canary?select=id", sk, nil).json(t, &rows)
		return len(rows)
	}

	// tx=rollback: the answer shows the change, the table does not keep it.
	r := e.must(200, "PATCH", "/v1/db/posts?id=eq.1&select=id,title", sk, map[string]any{"title": "Changed"},
		"Prefer", "return=representation, tx=rollback")
	if string(r.body) != `[{"id":1,"title":"Changed"}]` || !strings.Contains(r.header.Get("Preference-Applied"), "tx=rollback") {
		t.Errorf("PATCH with tx=rollback: %s %q", r.body, r.header.Get("Preference-Applied"))
	}
	if got := title("1"); got != "Hello" {
		t.Errorf("after a rolled-back PATCH: %q", got)
	}
	e.must(201, "POST", "/v1/db/canary", sk, map[string]any{"id": 7}, "Prefer", "tx=rollback")
	e.must(204, "DELETE", "/v1/db/posts?id=eq.4", sk, nil, "Prefer", "tx=rollback")
	if canaries() != 1 || title("4") == "<gone>" {
		t.Errorf("rolled-back insert or delete stayed")
	}
	r = e.must(200, "POST", "/v1/db/rpc/add_canary", sk, map[string]any{"n": 8}, "Prefer", "tx=rollback")
	if string(r.body) != "8" || canaries() != 1 || r.header.Get("Preference-Applied") != "tx=rollback" {
		t.Errorf("rolled-back call: %s, %d canaries", r.body, canaries())
	}
	// A failing write with tx=rollback answers its error, and the
	// connection it used serves the next requests.
	if r := e.do("PATCH", "/v1/db/posts?id=eq.1", sk, map[string]any{"title": nil}, "Prefer", "tx=rollback"); r.status != 400 || r.errCode(t) != "not_null_violation" {
		t.Errorf("failing write with tx=rollback: %d %s", r.status, r.body)
	}
	for range 12 {
		if title("1") != "Hello" {
			t.Fatal("a read after the failed transaction")
		}
	}

	// max-affected: posts 1 and 2 are Ada's.
	if r := e.do("DELETE", "/v1/db/posts?author_id=eq.1", sk, nil, "Prefer", "handling=strict, max-affected=1"); r.status != 400 || r.errCode(t) != "max_affected_exceeded" {
		t.Errorf("DELETE over max-affected: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/v1/db/posts?author_id=eq.1&select=id", sk, map[string]any{"views": 1}, "Prefer", "max-affected=1, return=representation"); r.status != 400 || r.errCode(t) != "max_affected_exceeded" {
		t.Errorf("PATCH over max-affected: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/db/canary", sk, []map[string]any{{"id": 30}, {"id": 31}}, "Prefer", "max-affected=1"); r.status != 400 || r.errCode(t) != "max_affected_exceeded" {
		t.Errorf("insert over max-affected: %d %s", r.status, r.body)
	}
	if title("1") != "Hello" || title("2") != "Draft" || canaries() != 1 {
		t.Errorf("a write over max-affected changed rows")
	}
	r = e.must(204, "PATCH", "/v1/db/posts?author_id=eq.1", sk, map[string]any{"title": "Ada's"}, "Prefer", "max-affected=2")
	if title("1") != "Ada's" || title("2") != "Ada's" || r.header.Get("Content-Range") != "0-1/*" || r.header.Get("Preference-Applied") != "max-affected=2" {
		t.Errorf("PATCH within max-affected: %q %q", r.header.Get("Content-Range"), r.header.Get("Preference-Applied"))
	}

	// handling=strict: unknown preferences are refused; lenient (the
	// default) ignores them.
	for _, prefer := range []string{"handling=strict, return=everything", "max-affected=-1", "max-affected=ten", "handling=strict,tx=maybe"} {
		if r := e.do("GET", "/v1/db/posts?select=id", sk, nil, "Prefer", prefer); r.status != 400 || r.errCode(t) != "invalid_preference" {
			t.Errorf("%s: %d %s", prefer, r.status, r.body)
		}
	}
	e.must(200, "GET", "/v1/db/posts?select=id", sk, nil, "Prefer", "return=everything")
	e.must(200, "GET", "/v1/db/posts?select=id", sk, nil, "Prefer", "handling=strict, count=exact, return=minimal")
}
