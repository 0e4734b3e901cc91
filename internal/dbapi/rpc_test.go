package dbapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// rpcFixture adds functions returning rows of several kinds to fixture:
// RETURNS TABLE, OUT parameters (one row), a table row type (one row), a
// VOLATILE SETOF posts that records its calls, and void.
func (e *env) rpcFixture() {
	e.fixture()
	e.exec(`
		CREATE FUNCTION post_stats(min_views int DEFAULT 0)
			RETURNS TABLE(post_id bigint, heading text, n_comments bigint) LANGUAGE sql STABLE AS
			'SELECT p.id, p.title, (SELECT count(*) FROM comments c WHERE c.post_id = p.id)
			 FROM posts p WHERE coalesce(p.views, 0) >= min_views ORDER BY p.id';
		CREATE FUNCTION pair(a int, OUT doubled int, OUT label text) LANGUAGE sql IMMUTABLE AS
			'SELECT a * 2, ''n'' || a';
		CREATE FUNCTION top_post() RETURNS posts LANGUAGE sql STABLE AS
			'SELECT * FROM posts ORDER BY views DESC NULLS LAST LIMIT 1';
		CREATE TABLE calls (n serial PRIMARY KEY);
		CREATE FUNCTION logged_posts() RETURNS SETOF posts LANGUAGE sql VOLATILE AS
			'INSERT INTO calls DEFAULT VALUES; SELECT * FROM posts ORDER BY id';
		CREATE FUNCTION nothing() RETURNS void LANGUAGE sql AS 'SELECT';
	`)
}

// compact is a JSON body without the whitespace json_agg puts between rows.
func compact(t *testing.T, r response) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, r.body); err != nil {
		t.Fatalf("status %d, body not JSON: %s", r.status, r.body)
	}
	return b.String()
}

// TestRPCReadSetofTable: select, filters, order, limit/offset, Range,
// count and single on a function returning SETOF posts, and embedding
// through posts' foreign keys.
func TestRPCReadSetofTable(t *testing.T) {
	e := newEnv(t, nil)
	e.rpcFixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	args := map[string]any{"min_views": 5} // popular: posts 1, 3, 4 (views 10, 30, 5)
	body := func(status int, q string, headers ...string) response {
		t.Helper()
		return e.must(status, "POST", "/v1/db/rpc/popular?"+q, sk, args, headers...)
	}
	cases := map[string]string{
		"select=id,title&order=views.desc":         `[{"id":3,"title":"Dogs"},{"id":1,"title":"Hello"},{"id":4,"title":"O'Brien, the \"quoted\""}]`,
		"select=id&views=gt.5&order=id":            `[{"id":1},{"id":3}]`,
		"select=id&id=in.(1,4,2)&order=id.desc":    `[{"id":4},{"id":1}]`,
		"select=id&or=(id.eq.1,views.gt.20)":       `[{"id":1},{"id":3}]`,
		"select=id&title=ilike.*o*&views=lt.30":    `[{"id":1},{"id":4}]`,
		"select=id&tags=cs.{go}":                   `[{"id":1}]`,
		"select=id&order=id&limit=2":               `[{"id":1},{"id":3}]`,
		"select=id&order=id&limit=1&offset=2":      `[{"id":4}]`,
		"select=heading:title,views::text&id=eq.1": `[{"heading":"Hello","views":"10"}]`,
		"select=id,authors(name),comments(text)&views=gte.10&order=id": `[{"id":1,"authors":{"name":"Ada"},"comments":[{"text":"nice"},{"text":"great"}]},` +
			`{"id":3,"authors":{"name":"Grace"},"comments":[{"text":"woof"}]}]`,
		"select=id,comments!inner(text)&comments.text=eq.woof": `[{"id":3,"comments":[{"text":"woof"}]}]`,
		"select=id&id=eq.99": `[]`,
	}
	for q, want := range cases {
		u, _ := url.ParseQuery(q)
		if got := compact(t, body(200, u.Encode())); got != want {
			t.Errorf("%s:\n got %s\nwant %s", q, got, want)
		}
	}
	// Without read parameters, every row and column as before.
	var all []map[string]any
	body(200, "").json(t, &all)
	if len(all) != 3 || len(all[0]) != 9 {
		t.Errorf("plain call: %v", all)
	}
	// Count, ranges and Content-Range.
	r := body(206, "select=id&order=id&limit=1&offset=1", "Prefer", "count=exact")
	if compact(t, r) != `[{"id":3}]` || r.header.Get("Content-Range") != "1-1/3" {
		t.Errorf("limit/offset with count: %s %q", r.body, r.header.Get("Content-Range"))
	}
	r = body(206, "select=id&order=id", "Range", "0-1", "Prefer", "count=exact")
	if compact(t, r) != `[{"id":1},{"id":3}]` || r.header.Get("Content-Range") != "0-1/3" {
		t.Errorf("Range: %s %q", r.body, r.header.Get("Content-Range"))
	}
	r = body(200, "select=id&views=gt.5&order=id", "Prefer", "count=exact")
	if r.header.Get("Content-Range") != "0-1/2" || r.header.Get("Preference-Applied") != "count=exact" {
		t.Errorf("filtered count: %q %q", r.header.Get("Content-Range"), r.header.Get("Preference-Applied"))
	}
	r = body(200, "select=id,comments!inner(text)&comments.text=eq.woof", "Prefer", "count=exact")
	if r.header.Get("Content-Range") != "0-0/1" {
		t.Errorf("count with an !inner embed: %q", r.header.Get("Content-Range"))
	}
	// Single object.
	r = body(200, "select=id,title&id=eq.3", "Accept", "application/vnd.pgrst.object+json")
	if string(r.body) != `{"id":3,"title":"Dogs"}` || !strings.HasPrefix(r.header.Get("Content-Type"), "application/vnd.pgrst.object+json") {
		t.Errorf("single: %s %q", r.body, r.header.Get("Content-Type"))
	}
	if r := body(406, "select=id", "Accept", "application/vnd.pgrst.object+json"); r.errCode(t) != "not_single_object" {
		t.Errorf("single of three rows: %s", r.body)
	}
	// Prefer: count runs a VOLATILE function once, not once more to count.
	e.must(206, "POST", "/v1/db/rpc/logged_posts?select=id&id=gt.1&limit=1", sk, map[string]any{}, "Prefer", "count=exact")
	var calls int
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM calls").Scan(&calls); err != nil || calls != 1 {
		t.Errorf("logged_posts ran %d times (%v), want 1", calls, err)
	}
}

// TestRPCReadReturnsTable: the result columns of RETURNS TABLE and OUT
// parameters are read from the catalog; a function returning one row
// still answers an object.
func TestRPCReadReturnsTable(t *testing.T) {
	e := newEnv(t, nil)
	e.rpcFixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	cases := []struct{ path, want string }{
		{"post_stats?select=heading&n_comments=gt.0&order=n_comments.desc", `[{"heading":"Hello"},{"heading":"Dogs"}]`},
		{"post_stats?select=post_id,c:n_comments::text&order=post_id.desc&limit=2", `[{"post_id":4,"c":"0"},{"post_id":3,"c":"1"}]`},
		{"post_stats?select=post_id&or=(heading.eq.Draft,n_comments.eq.2)&order=post_id", `[{"post_id":1},{"post_id":2}]`},
		{"pair", `{"doubled":6,"label":"n3"}`},
		{"pair?select=label", `{"label":"n3"}`},
		{"pair?select=label&doubled=eq.5", `null`},
		{"top_post?select=id,title,authors(name)", `{"id":3,"title":"Dogs","authors":{"name":"Grace"}}`},
	}
	for _, c := range cases {
		var args any = map[string]any{}
		if strings.HasPrefix(c.path, "pair") {
			args = map[string]any{"a": 3}
		}
		if got := compact(t, e.must(200, "POST", "/v1/db/rpc/"+c.path, sk, args)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.path, got, c.want)
		}
	}
	r := e.must(200, "POST", "/v1/db/rpc/post_stats?select=post_id&order=post_id", sk, map[string]any{"min_views": 0},
		"Prefer", "count=exact", "Range", "3-3")
	if compact(t, r) != `[{"post_id":4}]` || r.header.Get("Content-Range") != "3-3/4" {
		t.Errorf("Range on POST, counted: %s %q", r.body, r.header.Get("Content-Range"))
	}
	r = e.must(206, "POST", "/v1/db/rpc/post_stats?select=post_id&order=post_id&offset=1&limit=2", sk, map[string]any{},
		"Prefer", "count=exact")
	if compact(t, r) != `[{"post_id":2},{"post_id":3}]` || r.header.Get("Content-Range") != "1-2/4" {
		t.Errorf("offset and limit, counted: %s %q", r.body, r.header.Get("Content-Range"))
	}
	r = e.must(200, "POST", "/v1/db/rpc/post_stats?select=heading&post_id=eq.2", sk, map[string]any{},
		"Accept", "application/vnd.pgrst.object+json")
	if string(r.body) != `{"heading":"Draft"}` {
		t.Errorf("single: %s", r.body)
	}
	// Unknown columns name the function and suggest close names; a
	// synthetic result has no relations to embed.
	for path, want := range map[string]string{
		"post_stats?select=headng":        "heading",
		"post_stats?n_coments=eq.1":       "n_comments",
		"post_stats?order=postid":         "post_id",
		"pair?select=labl":                "label",
		"popular?select=id,titel":         "title",
		"post_stats?select=post_id,x:tag": "heading",
	} {
		args := map[string]any{}
		switch {
		case strings.HasPrefix(path, "pair"):
			args["a"] = 1
		case strings.HasPrefix(path, "popular"):
			args["min_views"] = 1
		}
		r := e.do("POST", "/v1/db/rpc/"+path, sk, args)
		var body struct {
			Error struct{ Code, Message, Hint string } `json:"error"`
		}
		r.json(t, &body)
		if r.status != 400 || body.Error.Code != "column_not_found" || !strings.Contains(body.Error.Hint, want) {
			t.Errorf("%s: %d %+v, want 400 column_not_found suggesting %q", path, r.status, body.Error, want)
		}
		if strings.HasPrefix(path, "post_stats") && !strings.Contains(body.Error.Message, "function public.post_stats") {
			t.Errorf("%s: message does not name the function: %s", path, body.Error.Message)
		}
	}
	if r := e.do("POST", "/v1/db/rpc/post_stats?select=post_id,posts(title)", sk, map[string]any{}); r.status != 400 || r.errCode(t) != "relation_not_found" {
		t.Errorf("embed on a RETURNS TABLE result: %d %s", r.status, r.body)
	}
}

// TestRPCGetArgumentsAndFilters: on GET, query parameters named like the
// function's arguments are arguments, select/order/limit/offset read
// parameters, and the rest filters on the result.
func TestRPCGetArgumentsAndFilters(t *testing.T) {
	e := newEnv(t, nil)
	e.rpcFixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	for q, want := range map[string]string{
		"popular?min_views=10&select=id&order=id":                   `[{"id":1},{"id":3}]`,
		"popular?min_views=10&select=id&views=gt.10":                `[{"id":3}]`,
		"popular?select=id,title&min_views=1&title=like.D*&limit=5": `[{"id":3,"title":"Dogs"}]`,
		"post_stats?select=post_id&n_comments=eq.1":                 `[{"post_id":3}]`, // min_views has a default
		"post_stats?min_views=20&select=post_id":                    `[{"post_id":3}]`,
		"post_stats?select=post_id&or=(post_id.eq.1,post_id.eq.4)":  `[{"post_id":1},{"post_id":4}]`,
		"add?a=5&b=5":             `10`,
		"add?a=5&select=*":        `6`,
		"pair?a=4&select=doubled": `{"doubled":8}`,
		"popular?min_views=10&select=id&order=views.desc&limit=1":          `[{"id":3}]`,
		"popular?min_views=0&select=id&id=not.in.(1,2,3)&offset=0":         `[{"id":4}]`,
		"popular?min_views=10&select=id,authors(name)&authors.name=eq.Ada": `[{"id":1,"authors":{"name":"Ada"}},{"id":3,"authors":null}]`,
	} {
		u, _ := url.Parse("/v1/db/rpc/" + q)
		u.RawQuery = u.Query().Encode()
		if got := compact(t, e.must(200, "GET", u.String(), sk, nil)); got != want {
			t.Errorf("GET %s:\n got %s\nwant %s", q, got, want)
		}
	}
	// A required argument missing is still function_not_found, and an
	// argument's value is not a filter (min_views=gt.1 is not an int).
	if r := e.do("GET", "/v1/db/rpc/popular?select=id&views=gt.1", sk, nil); r.status != 404 || r.errCode(t) != "function_not_found" {
		t.Errorf("missing argument: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/db/rpc/popular?min_views=gt.1", sk, nil); r.status != 400 || r.errCode(t) != "invalid_value" {
		t.Errorf("argument value: %d %s", r.status, r.body)
	}
	// POST: the query string carries no arguments.
	if r := e.do("POST", "/v1/db/rpc/popular?min_views=10", sk, map[string]any{}); r.status != 404 || r.errCode(t) != "function_not_found" {
		t.Errorf("POST argument in the query: %d %s", r.status, r.body)
	}
	// VOLATILE functions still refuse GET.
	if r := e.do("GET", "/v1/db/rpc/logged_posts?select=id", sk, nil); r.status != 405 {
		t.Errorf("GET of a VOLATILE function: %d %s", r.status, r.body)
	}
}

// TestRPCReadParamsOnScalars: read parameters on a scalar, a set of
// scalars or void are a 400 naming the parameter.
func TestRPCReadParamsOnScalars(t *testing.T) {
	e := newEnv(t, nil)
	e.rpcFixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	cases := []struct {
		method, path string
		body         any
		headers      []string
		want         []string // in the message
	}{
		{"POST", "add?select=x", map[string]any{"a": 1}, nil, []string{"select=", "returns integer"}},
		{"POST", "add?order=a", map[string]any{"a": 1}, nil, []string{"order="}},
		{"POST", "add?limit=1", map[string]any{"a": 1}, nil, []string{"limit="}},
		{"GET", "add?a=1&offset=1", nil, nil, []string{"offset="}},
		{"GET", "add?a=1&views=eq.1", nil, nil, []string{`"views"`, "not an argument of add(a, b)"}},
		{"POST", "add?a=eq.1", map[string]any{"a": 1}, nil, []string{`"a"`}},
		{"POST", "titles?order=title", map[string]any{}, nil, []string{"order=", "set of text"}},
		{"GET", "titles?titles=eq.Hello", nil, nil, []string{`"titles"`}},
		{"POST", "nothing?limit=1", map[string]any{}, nil, []string{"limit=", "returns void"}},
		{"POST", "whoami", map[string]any{}, []string{"Range", "0-1"}, []string{"Range"}},
	}
	for _, c := range cases {
		r := e.do(c.method, "/v1/db/rpc/"+c.path, sk, c.body, c.headers...)
		var body struct {
			Error struct{ Code, Message, Hint string } `json:"error"`
		}
		r.json(t, &body)
		ok := r.status == 400 && body.Error.Code == "invalid_query" && strings.Contains(body.Error.Hint, "functions returning rows")
		for _, w := range c.want {
			ok = ok && strings.Contains(body.Error.Message, w)
		}
		if !ok {
			t.Errorf("%s %s: %d %+v, want 400 invalid_query mentioning %q", c.method, c.path, r.status, body.Error, c.want)
		}
	}
	// on_conflict= and columns= are for table writes.
	if r := e.do("POST", "/v1/db/rpc/popular?on_conflict=id", sk, map[string]any{"min_views": 1}); r.status != 400 || r.errCode(t) != "invalid_query" {
		t.Errorf("on_conflict on rpc: %d %s", r.status, r.body)
	}
}

// TestRPCReadInjection: names in select, order and filters of an RPC read
// must be result columns (quoted); values and arguments are parameters.
func TestRPCReadInjection(t *testing.T) {
	e := newEnv(t, nil)
	e.rpcFixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	drop := "; DROP TABLE canary; --"
	for _, q := range []string{
		"select=" + url.QueryEscape(`id,"title; DROP TABLE canary; --"`),
		"select=" + url.QueryEscape("id FROM posts"+drop),
		"select=" + url.QueryEscape("id::text"+drop),
		"select=" + url.QueryEscape(`x:"id) _r;--"`),
		"order=" + url.QueryEscape("id"+drop),
		"order=" + url.QueryEscape(`"id; DROP TABLE canary"`),
		url.QueryEscape(`"id; DROP TABLE canary"`) + "=eq.1",
		url.QueryEscape("id)"+drop) + "=eq.1",
		"or=" + url.QueryEscape("(id.eq.1"+drop+")"),
		"select=id,authors(" + url.QueryEscape(`"name; DROP TABLE canary"`) + ")",
	} {
		if r := e.do("POST", "/v1/db/rpc/popular?"+q, sk, map[string]any{"min_views": 1}); r.status != 400 {
			t.Errorf("%s: %d %s, want 400", q, r.status, r.body)
		}
		if r := e.do("GET", "/v1/db/rpc/popular?min_views=1&"+q, sk, nil); r.status != 400 {
			t.Errorf("GET %s: %d %s, want 400", q, r.status, r.body)
		}
	}
	// Values are parameters: they match nothing or fail as values.
	for q, status := range map[string]int{
		"select=id&title=eq." + url.QueryEscape("x' OR '1'='1"):           200,
		"select=id&title=in.(" + url.QueryEscape("\"a') OR (1=1\"") + ")": 200,
		"select=id&id=eq." + url.QueryEscape("1"+drop):                    400,
	} {
		r := e.must(status, "GET", "/v1/db/rpc/popular?min_views=1&"+q, sk, nil)
		if status == 200 && string(r.body) != "[]" {
			t.Errorf("%s: %s, want []", q, r.body)
		}
	}
	// Argument values too, and an argument name that is no argument is a
	// filter, refused as an unknown column.
	e.must(400, "GET", "/v1/db/rpc/popular?min_views="+url.QueryEscape("1)"+drop), sk, nil)
	if r := e.do("GET", "/v1/db/rpc/popular?min_views=1&"+url.QueryEscape("min_views) =>"+drop)+"=eq.1", sk, nil); r.status != 400 {
		t.Errorf("argument-like name: %d %s", r.status, r.body)
	}
	var n int
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM canary").Scan(&n); err != nil || n != 1 {
		t.Fatalf("canary: %d %v", n, err)
	}
}
