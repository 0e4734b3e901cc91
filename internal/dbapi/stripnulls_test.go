package dbapi_test

import (
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// TestStripNulls: Accept: application/vnd.pgrst.array+json;nulls=stripped
// (postgrest-js .stripNulls()) leaves null fields out of reads (embedded
// rows too), single objects, RPC results and write results; the SQL cache
// keeps stripped and plain answers apart.
func TestStripNulls(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	const arr, obj = "application/vnd.pgrst.array+json;nulls=stripped", "application/vnd.pgrst.object+json;nulls=stripped"
	for _, c := range []struct{ method, path, accept, want string }{
		{"GET", "/v1/db/posts?select=id,views,authors(name)&id=in.(2,4)&order=id", "", `[{"id":2,"views":null,"authors":{"name":"Ada"}}, ` + "\n " + `{"id":4,"views":5,"authors":null}]`},
		{"GET", "/v1/db/posts?select=id,views,authors(name)&id=in.(2,4)&order=id", arr, `[{"id":2,"authors":{"name":"Ada"}},{"id":4,"views":5}]`},
		{"GET", "/v1/db/posts?select=id,views&id=eq.2", obj, `{"id":2}`},
		{"GET", "/v1/db/posts?select=id,views&id=eq.2", "", `[{"id":2,"views":null}]`},
		{"GET", "/v1/db/rpc/popular?min_views=1&select=id,author_id&order=id.desc&limit=1", arr, `[{"id":4}]`},
		{"PATCH", "/v1/db/posts?id=eq.2&select=id,views,body", arr, `[{"id":2,"body":"unfinished"}]`},
	} {
		headers := []string{"Prefer", "return=representation"}
		if c.accept != "" {
			headers = append(headers, "Accept", c.accept)
		}
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"title": "Draft 2"}
		}
		if r := e.must(200, c.method, c.path, sk, body, headers...); string(r.body) != c.want {
			t.Errorf("%s %s (%s):\ngot  %s\nwant %s", c.method, c.path, c.accept, r.body, c.want)
		}
	}
}
