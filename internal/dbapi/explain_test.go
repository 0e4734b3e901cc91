package dbapi_test

import (
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// TestExplain: Accept: application/vnd.pgrst.plan answers PostgreSQL's plan
// of the read (JSON or text, with EXPLAIN's options), to service_role keys
// only, for table reads only.
func TestExplain(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	tenant, sk := e.tenantKey(apikey.ServiceRole)
	pk := e.key(tenant, apikey.Anon)

	r := e.must(200, "GET", "/v1/db/posts?select=id,title&views=gt.1&order=id", sk, nil,
		"Accept", `application/vnd.pgrst.plan+json; for="application/json"; options=analyze|buffers`)
	if ct := r.header.Get("Content-Type"); ct != `application/vnd.pgrst.plan+json; for="application/json"; charset=utf-8` {
		t.Errorf("content type %q", ct)
	}
	var plan []struct {
		Plan map[string]any `json:"Plan"`
	}
	r.json(t, &plan)
	if len(plan) != 1 || plan[0].Plan["Node Type"] == nil || plan[0].Plan["Actual Rows"] != 1.0 || plan[0].Plan["Shared Hit Blocks"] == nil {
		t.Errorf("JSON plan with analyze and buffers: %s", r.body)
	}
	// Text, for the CSV answer: the plan of the statement that builds CSV.
	r = e.must(200, "GET", "/v1/db/posts?select=id&id=eq.1", sk, nil, "Accept", `application/vnd.pgrst.plan+text; for="text/csv"`)
	if body := string(r.body); !strings.Contains(body, "cost=") || !strings.Contains(body, "\n") || strings.Contains(body, "actual time") ||
		r.header.Get("Content-Type") != `application/vnd.pgrst.plan+text; for="text/csv"; charset=utf-8` {
		t.Errorf("text plan: %q %s", r.header.Get("Content-Type"), body)
	}
	// A plan of a bad read is the read's error.
	if r := e.do("GET", "/v1/db/posts?select=nope", sk, nil, "Accept", "application/vnd.pgrst.plan+json"); r.status != 400 || r.errCode(t) != "column_not_found" {
		t.Errorf("plan of a bad read: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		method, path, key, accept string
		status                    int
		code                      string
	}{
		{"GET", "/v1/db/posts?select=id", pk, "application/vnd.pgrst.plan+json", 403, "explain_forbidden"},
		{"GET", "/v1/db/posts?select=id", sk, "application/vnd.pgrst.plan+json; options=analyze|drop", 400, "invalid_query"},
		{"DELETE", "/v1/db/canary?id=eq.1", sk, "application/vnd.pgrst.plan+json; options=analyze", 406, "explain_reads_only"},
		{"GET", "/v1/db/rpc/popular?min_views=1", sk, "application/vnd.pgrst.plan+json", 406, "explain_reads_only"},
	} {
		if r := e.do(c.method, c.path, c.key, nil, "Accept", c.accept); r.status != c.status || r.errCode(t) != c.code {
			t.Errorf("%s %s (%s): %d %s, want %d %s", c.method, c.path, c.accept, r.status, r.body, c.status, c.code)
		}
	}
	// The refused DELETE with analyze ran nothing.
	var rows []map[string]any
	e.must(200, "GET", "/v1/db/canary?select=id", sk, nil).json(t, &rows)
	if len(rows) != 1 {
		t.Errorf("canary: %v", rows)
	}
}
