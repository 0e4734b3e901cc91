package dbapi_test

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// TestEmbeddedFilters: author.name=eq.x filters the embedded rows; with
// !inner it filters the parents too (and their count).
func TestEmbeddedFilters(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	type post struct {
		ID     int `json:"id"`
		Author *struct {
			Name string `json:"name"`
		} `json:"authors"`
		Comments []struct {
			Text string `json:"text"`
		} `json:"comments"`
	}
	get := func(q string, headers ...string) ([]post, response) {
		t.Helper()
		var rows []post
		r := e.must(200, "GET", "/v1/db/posts?"+q, sk, nil, headers...)
		r.json(t, &rows)
		return rows, r
	}
	// Without !inner every post stays; only the embedding is filtered.
	rows, _ := get("select=id,authors(name)&authors.name=eq.Ada&order=id")
	if len(rows) != 4 || rows[0].Author == nil || rows[0].Author.Name != "Ada" || rows[2].Author != nil || rows[3].Author != nil {
		t.Errorf("left embed filter: %+v", rows)
	}
	// With !inner the parents without a matching author go.
	rows, r := get("select=id,authors!inner(name)&authors.name=eq.Ada&order=id", "Prefer", "count=exact")
	if len(rows) != 2 || rows[0].ID != 1 || rows[1].ID != 2 || r.header.Get("Content-Range") != "0-1/2" {
		t.Errorf("inner embed filter: %+v %s", rows, r.header.Get("Content-Range"))
	}
	// One-to-many, with an alias, a logic tree on the embedding and a value that looks like SQL.
	var aliased []struct {
		ID int `json:"id"`
		C  []struct {
			Text string `json:"text"`
		} `json:"c"`
	}
	e.must(200, "GET", "/v1/db/posts?select=id,c:comments!inner(text)&c.or=(text.eq.great,text.eq.woof)&order=id", sk, nil).json(t, &aliased)
	if len(aliased) != 2 || aliased[0].ID != 1 || len(aliased[0].C) != 1 || aliased[0].C[0].Text != "great" || aliased[1].ID != 3 {
		t.Errorf("aliased one-to-many filter: %+v", aliased)
	}
	rows, _ = get("select=id,comments(text)&comments.text=eq." + url.QueryEscape("nice' OR 1=1 --") + "&order=id")
	if len(rows) != 4 || len(rows[0].Comments) != 0 {
		t.Errorf("injection through an embedded filter value: %+v", rows)
	}
	// Nested: authors embedding posts embedding comments.
	var authors []struct {
		Name  string `json:"name"`
		Posts []struct {
			Title    string `json:"title"`
			Comments []struct {
				Text string `json:"text"`
			} `json:"comments"`
		} `json:"posts"`
	}
	e.must(200, "GET", "/v1/db/authors?select=name,posts!inner(title,comments!inner(text))&posts.comments.text=eq.woof", sk, nil).json(t, &authors)
	if len(authors) != 1 || authors[0].Name != "Grace" || len(authors[0].Posts) != 1 || authors[0].Posts[0].Comments[0].Text != "woof" {
		t.Errorf("nested embedded filter: %+v", authors)
	}
	e.wantBadReads(t, sk, "posts", map[string]string{
		"select=id&authors.name=eq.Ada":                          "invalid_query",
		"select=id,authors(name)&authors.nope=eq.1":              "column_not_found",
		"select=id,authors(name)&authors.name=zz.1":              "invalid_query",
		"select=id,a:authors(name)&authors.name=eq.Ada":          "invalid_query",
		"select=id,authors(name)&authors.%22name%3Bdrop%22=eq.1": "column_not_found",
	})
	// rel() without !inner neither outputs nor filters: its filter is checked, then left out.
	rows, _ = get("select=id,comments()&comments.text=eq.nice&order=id")
	if len(rows) != 4 {
		t.Errorf("comments() with a filter: %+v", rows)
	}
	// Writes refuse filters on embedded relations.
	if r := e.do("DELETE", "/v1/db/posts?authors.name=eq.Ada", sk, nil); r.status != 400 {
		t.Errorf("DELETE with an embedded filter: %d %s", r.status, r.body)
	}
}

// TestJSONPaths: data->key and data->>key in select, filters and order;
// keys travel as parameters.
func TestJSONPaths(t *testing.T) {
	e := newEnv(t, nil)
	e.exec(`CREATE TABLE docs (id int PRIMARY KEY, data jsonb NOT NULL, plain text);
		INSERT INTO docs VALUES
			(1, '{"name": "a", "n": 3, "tags": ["x", "y"], "o": {"k": "v1"}, "it''s": 1}', 't'),
			(2, '{"name": "b", "n": 1, "tags": ["z"], "o": {"k": "v2"}}', 't'),
			(3, '{"name": "c", "n": 2}', 't');`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	var rows []map[string]any
	e.must(200, "GET", "/v1/db/docs?select=id,data->>name,k:data->o->>k,first:data->tags->>0,n:data->>n::int&order=data->>n.desc", sk, nil).json(t, &rows)
	want := []map[string]any{
		{"id": 1.0, "name": "a", "k": "v1", "first": "x", "n": 3.0},
		{"id": 3.0, "name": "c", "k": nil, "first": nil, "n": 2.0},
		{"id": 2.0, "name": "b", "k": "v2", "first": "z", "n": 1.0},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("select and order on JSON paths:\ngot  %v\nwant %v", rows, want)
	}
	ids := func(q string) []float64 {
		t.Helper()
		var rows []map[string]float64
		e.must(200, "GET", "/v1/db/docs?select=id&order=id&"+q, sk, nil).json(t, &rows)
		out := []float64{}
		for _, r := range rows {
			out = append(out, r["id"])
		}
		return out
	}
	for q, want := range map[string][]float64{
		"data->>name=eq.b":                                         {2},
		"data->o->>k=in.(v1,v2)":                                   {1, 2},
		"data->n=gt.1":                                             {1, 3},
		"data->tags=cs." + url.QueryEscape(`["y"]`):                {1},
		"data->tags->>-1=eq.z":                                     {2},
		"or=(data->>name.eq.a,data->>name.eq.c)":                   {1, 3},
		`data->>"it's"=eq.1`:                                       {1},
		"data->>" + url.QueryEscape(`"a' OR '1'='1"`) + "=is.null": {1, 2, 3},
	} {
		if got := ids(q); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	for _, q := range []string{"select=plain->>x", "plain->>x=eq.1", "order=plain->x", "data->=eq.1", "select=nope->>x"} {
		if r := e.do("GET", "/v1/db/docs?"+q, sk, nil); r.status != 400 {
			t.Errorf("%s: %d %s, want 400", q, r.status, r.body)
		}
	}
}

// TestMissingDefault: with Prefer: missing=default, keys a row of a bulk
// insert lacks take the column default (identity included) instead of NULL.
func TestMissingDefault(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`SELECT setval(pg_get_serial_sequence('posts', 'id'), 100)`) // the fixture's ids are explicit
	_, sk := e.tenantKey(apikey.ServiceRole)
	body := []map[string]any{
		{"title": "no id, no flag"},
		{"id": 50, "title": "flag", "published": true},
		{"title": "no id either", "tags": []string{"t"}},
	}
	// Without it, a key missing from one row but present in another is NULL:
	// published is NOT NULL, so the insert fails.
	if r := e.do("POST", "/v1/db/posts?select=id", sk, body, "Prefer", "return=representation"); r.status != 400 || r.errCode(t) != "not_null_violation" {
		t.Fatalf("bulk insert without missing=default: %d %s", r.status, r.body)
	}
	var rows []struct {
		ID        int      `json:"id"`
		Title     string   `json:"title"`
		Published bool     `json:"published"`
		Tags      []string `json:"tags"`
	}
	r := e.must(201, "POST", "/v1/db/posts?select=id,title,published,tags", sk, body,
		"Prefer", "return=representation, missing=default")
	r.json(t, &rows)
	if len(rows) != 3 || r.header.Get("Preference-Applied") != "return=representation, missing=default" {
		t.Fatalf("missing=default: %s %v", r.body, r.header)
	}
	byTitle := map[string]int{}
	for i, row := range rows {
		byTitle[row.Title] = i
		if row.ID == 0 || row.Tags == nil {
			t.Errorf("defaults not applied: %+v", row)
		}
	}
	if p := rows[byTitle["flag"]]; p.ID != 50 || !p.Published {
		t.Errorf("given values lost: %+v", p)
	}
	if p := rows[byTitle["no id either"]]; len(p.Tags) != 1 || p.Published {
		t.Errorf("third row: %+v", p)
	}
	// Minimal return: all rows in one transaction, Content-Range counts them.
	r = e.must(201, "POST", "/v1/db/posts", sk, []map[string]any{{"title": "x"}, {"title": "y", "views": 3}, {"title": "z"}},
		"Prefer", "missing=default")
	if r.header.Get("Content-Range") != "0-2/*" {
		t.Errorf("Content-Range: %q", r.header.Get("Content-Range"))
	}
	// Rows with no keys at all are rows of defaults, as many as sent.
	e.exec(`CREATE TABLE counters (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n int NOT NULL DEFAULT 7)`)
	var counters []map[string]float64
	e.must(201, "POST", "/v1/db/counters", sk, []map[string]any{{}, {}, {"n": 1}}, "Prefer", "missing=default, return=representation").json(t, &counters)
	if len(counters) != 3 || counters[0]["n"] != 7 || counters[1]["n"] != 7 || counters[2]["n"] != 1 {
		t.Errorf("rows of defaults: %v", counters)
	}
	// All or nothing: a failing group rolls the others back.
	if r := e.do("POST", "/v1/db/posts", sk, []map[string]any{{"title": "kept?"}, {"id": 50, "title": "dup"}},
		"Prefer", "missing=default"); r.status != 409 {
		t.Errorf("duplicate in one group: %d %s", r.status, r.body)
	}
	var n []map[string]any
	e.must(200, "GET", "/v1/db/posts?select=id&title=eq.kept%3F", sk, nil).json(t, &n)
	if len(n) != 0 {
		t.Errorf("a failed bulk insert left rows: %v", n)
	}
}

// TestReadCacheShapes: reads of the same shape share their SQL text (see
// sqlcache.go); their values must still be their own.
func TestReadCacheShapes(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	ids := func(q string) []float64 {
		t.Helper()
		var rows []map[string]float64
		e.must(200, "GET", "/v1/db/posts?select=id&order=id&"+q, sk, nil).json(t, &rows)
		out := []float64{}
		for _, r := range rows {
			out = append(out, r["id"])
		}
		return out
	}
	for range 2 { // the second round hits the cache
		for q, want := range map[string][]float64{
			"id=eq.1":                     {1},
			"id=eq.3":                     {3},
			"id=in.(1,2)":                 {1, 2},
			"id=in.(3,4)":                 {3, 4},
			"id=in.(1,2,3)":               {1, 2, 3},
			"views=is.null":               {2},
			"views=not.is.null":           {1, 3, 4},
			"or=(id.eq.1,id.eq.4)":        {1, 4},
			"or=(id.eq.2,id.eq.3)":        {2, 3},
			"and=(id.gt.1,views.lt.20)":   {4},
			"title=like.D*&views=is.null": {2},
			"title=like(any).{D*,H*}":     {1, 2, 3},
			"title=like(any).{Dog*}":      {3},
			"body=fts(english).cats":      {1, 3},
			"body=fts.dogs":               {3},
		} {
			if got := ids(q); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %v, want %v", q, got, want)
			}
		}
	}
	var n []map[string]any
	r := e.must(206, "GET", "/v1/db/posts?select=id&id=gt.1&limit=1", sk, nil, "Prefer", "count=exact")
	r.json(t, &n)
	r2 := e.must(206, "GET", "/v1/db/posts?select=id&id=gt.2&limit=1", sk, nil, "Prefer", "count=exact")
	if r.header.Get("Content-Range") != "0-0/3" || r2.header.Get("Content-Range") != "0-0/2" {
		t.Errorf("counts of one shape: %q %q", r.header.Get("Content-Range"), r2.header.Get("Content-Range"))
	}
}

// TestEmbeddedOrderLimit: comments.order=, comments.limit= and
// comments.offset= order and page the embedded rows of each parent (what
// postgrest-js sends for .order/.limit/.range with {referencedTable}).
func TestEmbeddedOrderLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`INSERT INTO comments (post_id, text) VALUES (1, 'zesty'), (3, 'bark')`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	texts := func(q string) [][]string {
		t.Helper()
		var rows []struct {
			C []struct {
				Text string `json:"text"`
			} `json:"c"`
		}
		e.must(200, "GET", "/v1/db/posts?select=id,c:comments(text)&id=in.(1,3)&order=id&"+q, sk, nil).json(t, &rows)
		out := [][]string{}
		for _, r := range rows {
			ts := []string{}
			for _, c := range r.C {
				ts = append(ts, c.Text)
			}
			out = append(out, ts)
		}
		return out
	}
	for q, want := range map[string][][]string{
		"c.order=text":                           {{"great", "nice", "zesty"}, {"bark", "woof"}},
		"c.order=text.desc":                      {{"zesty", "nice", "great"}, {"woof", "bark"}},
		"c.order=text.desc&c.limit=1":            {{"zesty"}, {"woof"}},
		"c.order=text&c.limit=2&c.offset=1":      {{"nice", "zesty"}, {"woof"}},
		"c.order=text&c.offset=5":                {{}, {}},
		"c.order=text&c.text=neq.nice&c.limit=1": {{"great"}, {"bark"}},
	} {
		if got := texts(q); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", q, got, want)
		}
	}
	// Nested: authors → posts (ordered, limited) → comments (ordered).
	var authors []struct {
		Name  string `json:"name"`
		Posts []struct {
			ID       int `json:"id"`
			Comments []struct {
				Text string `json:"text"`
			} `json:"comments"`
		} `json:"posts"`
	}
	e.must(200, "GET", "/v1/db/authors?select=name,posts(id,comments(text))&order=id&posts.order=id.desc&posts.limit=1&posts.comments.order=text.desc", sk, nil).json(t, &authors)
	if len(authors) != 2 || len(authors[0].Posts) != 1 || authors[0].Posts[0].ID != 2 || len(authors[1].Posts) != 1 ||
		authors[1].Posts[0].ID != 3 || len(authors[1].Posts[0].Comments) != 2 || authors[1].Posts[0].Comments[0].Text != "woof" {
		t.Errorf("nested order/limit: %+v", authors)
	}
	e.wantBadReads(t, sk, "posts", map[string]string{
		"select=id&comments.order=text":                                                       "invalid_query",
		"select=id,comments(text)&comments.order=nope":                                        "column_not_found",
		"select=id,comments(text)&comments.order=text.sideways":                               "invalid_query",
		"select=id,comments(text)&comments.limit=-1":                                          "invalid_query",
		"select=id,comments(text)&comments.limit=x":                                           "invalid_query",
		"select=id,authors(name)&authors.limit=1":                                             "invalid_query",
		"select=id,comments(text)&comments.order=" + url.QueryEscape(`text;drop table posts`): "invalid_query",
	})
	// A many-to-one embedding takes an order (one row either way).
	e.must(200, "GET", "/v1/db/posts?select=id,authors(name)&authors.order=name", sk, nil)
	if r := e.do("PATCH", "/v1/db/posts?id=eq.1&comments.order=text", sk, map[string]any{"views": 1}); r.status != 400 {
		t.Errorf("PATCH with an embedded order: %d %s", r.status, r.body)
	}
}

// TestEmbeddedNullFilter: authors=not.is.null keeps the rows that have a
// related row (passing the embedding's filters), authors=is.null the rows
// that have none; the same in logic trees and in the count.
func TestEmbeddedNullFilter(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	ids := func(q string) (string, string) {
		t.Helper()
		var rows []struct {
			ID int `json:"id"`
		}
		r := e.must(200, "GET", "/v1/db/posts?order=id&"+q, sk, nil, "Prefer", "count=exact")
		r.json(t, &rows)
		var s []string
		for _, row := range rows {
			s = append(s, itoa(row.ID))
		}
		return strings.Join(s, ","), r.header.Get("Content-Range")
	}
	for q, want := range map[string][2]string{
		"select=id,authors(name)&authors=not.is.null":                       {"1,2,3", "0-2/3"},
		"select=id,authors(name)&authors=is.null":                           {"4", "0-0/1"},
		"select=id,authors(name)&authors=not.is.null&authors.name=eq.Grace": {"3", "0-0/1"},
		"select=id,authors(name)&authors=is.null&authors.name=eq.Grace":     {"1,2,4", "0-2/3"},
		"select=id,comments(text)&comments=not.is.null":                     {"1,3", "0-1/2"},
		"select=id,c:comments(text)&c=is.null":                              {"2,4", "0-1/2"},
		"select=id,comments(text)&or=(comments.not.is.null,views.is.null)":  {"1,2,3", "0-2/3"},
		"select=id,comments()&comments=not.is.null":                         {"1,3", "0-1/2"},
	} {
		got, rng := ids(q)
		if got != want[0] || rng != want[1] {
			t.Errorf("%s: got [%s] %s, want [%s] %s", q, got, rng, want[0], want[1])
		}
	}
	// The same on a function's rows, with the embedding ordered and limited.
	var rows []struct {
		ID       int `json:"id"`
		Comments []struct {
			Text string `json:"text"`
		} `json:"comments"`
	}
	e.must(200, "GET", "/v1/db/rpc/popular?min_views=0&select=id,comments(text)&comments=not.is.null&comments.order=text.desc&comments.limit=1&order=id", sk, nil).json(t, &rows)
	if len(rows) != 2 || rows[0].ID != 1 || len(rows[0].Comments) != 1 || rows[0].Comments[0].Text != "nice" || rows[1].ID != 3 || rows[1].Comments[0].Text != "woof" {
		t.Errorf("rpc with an embedded null filter, order and limit: %+v", rows)
	}
	// Not an embedding of select= (or not a null test): still an unknown column.
	e.wantBadReads(t, sk, "posts", map[string]string{
		"select=id&authors=not.is.null":        "column_not_found",
		"select=id,authors(name)&authors=eq.1": "column_not_found",
	})
}

// wantBadReads checks that each GET /v1/db/{table}?query answers 400 with
// the error code given.
func (e *env) wantBadReads(t *testing.T, key, table string, cases map[string]string) {
	t.Helper()
	for q, code := range cases {
		r := e.do("GET", "/v1/db/"+table+"?"+q, key, nil)
		if r.status != 400 || r.errCode(t) != code {
			t.Errorf("%s: %d %s, want 400 %s", q, r.status, r.body, code)
		}
	}
}

// TestSpread: ...authors(name) puts the author's columns into each post
// (NULL without an author); with !inner posts without one go; nested
// spreads and spreads inside embeddings work; a one-to-many spread makes
// arrays of its columns.
func TestSpread(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`CREATE TABLE countries (id int PRIMARY KEY, name text NOT NULL);
		INSERT INTO countries VALUES (1, 'UK');
		ALTER TABLE authors ADD COLUMN country_id int REFERENCES countries(id);
		UPDATE authors SET country_id = 1 WHERE id = 1;`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	var rows []map[string]any
	e.must(200, "GET", "/v1/db/posts?select=id,...authors(author:name,...countries(country:name))&order=id", sk, nil).json(t, &rows)
	want := []map[string]any{
		{"id": 1.0, "author": "Ada", "country": "UK"},
		{"id": 2.0, "author": "Ada", "country": "UK"},
		{"id": 3.0, "author": "Grace", "country": nil},
		{"id": 4.0, "author": nil, "country": nil},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("spread:\ngot  %v\nwant %v", rows, want)
	}
	r := e.must(200, "GET", "/v1/db/posts?select=id,...authors!inner(author:name)&authors.name=eq.Grace", sk, nil, "Prefer", "count=exact")
	rows = nil
	r.json(t, &rows)
	if !reflect.DeepEqual(rows, []map[string]any{{"id": 3.0, "author": "Grace"}}) || r.header.Get("Content-Range") != "0-0/1" {
		t.Errorf("spread !inner with a filter: %v %s", rows, r.header.Get("Content-Range"))
	}
	// Inside a one-to-many embedding: each post of the author carries its author's name.
	var authors []struct {
		Posts []map[string]any `json:"posts"`
	}
	e.must(200, "GET", "/v1/db/authors?select=posts(id,...authors(by:name))&id=eq.2", sk, nil).json(t, &authors)
	if len(authors) != 1 || !reflect.DeepEqual(authors[0].Posts, []map[string]any{{"id": 3.0, "by": "Grace"}}) {
		t.Errorf("spread inside an embedding: %+v", authors)
	}
	// One-to-many (PostgREST 13): each column becomes an array over the
	// related rows, in their order, [] without any; !inner drops the
	// parents without one.
	rows = nil
	e.must(200, "GET", "/v1/db/posts?select=id,...comments(notes:text,comment_id:id)&id=in.(1,2)&order=id&comments.order=id.desc", sk, nil).json(t, &rows)
	want = []map[string]any{
		{"id": 1.0, "notes": []any{"great", "nice"}, "comment_id": []any{2.0, 1.0}},
		{"id": 2.0, "notes": []any{}, "comment_id": []any{}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("one-to-many spread:\ngot  %v\nwant %v", rows, want)
	}
	rows = nil
	e.must(200, "GET", "/v1/db/authors?select=name,...posts!inner(title)&posts.published=is.true&order=id", sk, nil).json(t, &rows)
	if !reflect.DeepEqual(rows, []map[string]any{{"name": "Ada", "title": []any{"Hello"}}, {"name": "Grace", "title": []any{"Dogs"}}}) {
		t.Errorf("one-to-many spread with !inner and a filter: %v", rows)
	}
	e.wantBadReads(t, sk, "posts", map[string]string{
		"select=id,...comments(text,posts(id))":  "invalid_query",
		"select=id,...comments(count())":         "invalid_query",
		"select=id,...comments(id,text,x:id,id)": "invalid_query",
		"select=id,...title":                     "invalid_query",
		"select=id,x:...authors(name)":           "invalid_query",
		"select=id,...authors(nope)":             "column_not_found",
	})
	e.wantBadReads(t, sk, "authors", map[string]string{"select=....posts(id)": "invalid_query"})
	if r := e.do("POST", "/v1/db/posts?select=id,...authors(name)", sk, map[string]any{"title": "x"}, "Prefer", "return=representation"); r.status != 400 {
		t.Errorf("spread in a write's select: %d %s", r.status, r.body)
	}
}

// TestComputedFields: a function of one argument of a table's row type is
// a computed field of that table: it can be selected, filtered and ordered
// on like a column, in embeddings and on function results too. A real
// column of the same name wins; functions of unexposed schemas are not
// fields.
func TestComputedFields(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`CREATE FUNCTION title_length(p posts) RETURNS int LANGUAGE sql STABLE AS 'SELECT length(p.title)';
		CREATE FUNCTION shout(a authors) RETURNS text LANGUAGE sql STABLE AS 'SELECT upper(a.name) || ''!''';
		CREATE FUNCTION title(p posts) RETURNS text LANGUAGE sql STABLE AS 'SELECT ''not the column''';
		CREATE SCHEMA hidden;
		CREATE FUNCTION hidden.secret(p posts) RETURNS text LANGUAGE sql STABLE AS 'SELECT ''no''';`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	var rows []map[string]any
	e.must(200, "GET", "/v1/db/posts?select=id,title,title_length,n:title_length,authors(shout)&title_length=gte.5&order=title_length.desc,id", sk, nil).json(t, &rows)
	want := []map[string]any{
		{"id": 4.0, "title": `O'Brien, the "quoted"`, "title_length": 21.0, "n": 21.0, "authors": nil},
		{"id": 1.0, "title": "Hello", "title_length": 5.0, "n": 5.0, "authors": map[string]any{"shout": "ADA!"}},
		{"id": 2.0, "title": "Draft", "title_length": 5.0, "n": 5.0, "authors": map[string]any{"shout": "ADA!"}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("computed fields:\ngot  %v\nwant %v", rows, want)
	}
	rows = nil
	e.must(200, "GET", "/v1/db/rpc/popular?min_views=20&select=id,title_length", sk, nil).json(t, &rows)
	if !reflect.DeepEqual(rows, []map[string]any{{"id": 3.0, "title_length": 4.0}}) {
		t.Errorf("computed field on a function's rows: %v", rows)
	}
	e.wantBadReads(t, sk, "posts", map[string]string{
		"select=id,secret":            "column_not_found",
		"select=id,title_length->>x":  "invalid_query",
		"select=id&title_lenght=eq.5": "column_not_found",
	})
	// A write cannot set a computed field.
	if r := e.do("POST", "/v1/db/posts", sk, map[string]any{"title": "x", "title_length": 1}); r.status != 400 || r.errCode(t) != "column_not_found" {
		t.Errorf("insert into a computed field: %d %s", r.status, r.body)
	}
}

// TestEmbeddingThroughViews: a view that shows a table's key columns under
// their names gets the table's foreign keys, on either side (PostgREST's
// inference); renamed key columns give no relation; the table's own key
// still wins for author_id(...).
func TestEmbeddingThroughViews(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`CREATE VIEW public_posts AS SELECT id, title, author_id FROM posts WHERE published;
		CREATE VIEW author_names AS SELECT id, name FROM authors;
		CREATE VIEW renamed AS SELECT id, author_id AS writer FROM posts;
		CREATE VIEW joined AS SELECT p.id, p.author_id, a.name FROM posts p JOIN authors a ON a.id = p.author_id;`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	get := func(path string) []map[string]any {
		t.Helper()
		var rows []map[string]any
		e.must(200, "GET", path, sk, nil).json(t, &rows)
		return rows
	}
	check := func(name string, got, want []map[string]any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %v\nwant %v", name, got, want)
		}
	}
	ada, grace := map[string]any{"name": "Ada"}, map[string]any{"name": "Grace"}
	check("view to table", get("/v1/db/public_posts?select=id,authors(name)&order=id"),
		[]map[string]any{{"id": 1.0, "authors": ada}, {"id": 3.0, "authors": grace}, {"id": 4.0, "authors": nil}})
	check("table to view", get("/v1/db/posts?select=id,author_names(name)&id=in.(2,3)&order=id"),
		[]map[string]any{{"id": 2.0, "author_names": ada}, {"id": 3.0, "author_names": grace}})
	check("view to view", get("/v1/db/public_posts?select=id,author_names(name)&id=eq.3"),
		[]map[string]any{{"id": 3.0, "author_names": grace}})
	check("one-to-many into a view", get("/v1/db/authors?select=name,public_posts(id)&order=id"),
		[]map[string]any{{"name": "Ada", "public_posts": []any{map[string]any{"id": 1.0}}}, {"name": "Grace", "public_posts": []any{map[string]any{"id": 3.0}}}})
	check("view over a join", get("/v1/db/joined?select=id,authors(name)&order=id&limit=1"),
		[]map[string]any{{"id": 1.0, "authors": ada}})
	check("the table's own key wins", get("/v1/db/posts?select=id,author_id(name)&id=eq.1"),
		[]map[string]any{{"id": 1.0, "author_id": ada}})
	e.wantBadReads(t, sk, "renamed", map[string]string{"select=id,authors(name)": "relation_not_found"})
}

// TestCSV: Accept: text/csv answers a read as CSV (a header of the column
// names, then one line a row: values quoted where needed, NULL empty);
// writes and RPC refuse it with 406.
func TestCSV(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	r := e.must(200, "GET", "/v1/db/posts?select=id,title,views,tags&order=id", sk, nil, "Accept", "text/csv")
	want := "id,title,views,tags\n" +
		"1,Hello,10,\"{go,sql}\"\n" +
		"2,Draft,,{go}\n" +
		"3,Dogs,30,{pets}\n" +
		`4,"O'Brien, the ""quoted""",5,{}`
	if got := string(r.body); got != want || r.header.Get("Content-Type") != "text/csv; charset=utf-8" || r.header.Get("Content-Range") != "0-3/*" {
		t.Errorf("csv:\n%s\nwant\n%s\n(%s, %s)", got, want, r.header.Get("Content-Type"), r.header.Get("Content-Range"))
	}
	if r := e.must(200, "GET", "/v1/db/posts?select=id&id=eq.99", sk, nil, "Accept", "text/csv"); string(r.body) != "\n" {
		t.Errorf("csv of no rows: %q", r.body)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/db/posts"}, {"GET", "/v1/db/rpc/popular?min_views=1"},
	} {
		if r := e.do(c.method, c.path, sk, map[string]any{"title": "x"}, "Accept", "text/csv"); r.status != 406 || r.errCode(t) != "csv_reads_only" {
			t.Errorf("%s %s with text/csv: %d %s", c.method, c.path, r.status, r.body)
		}
	}
}

// TestCountModes: Prefer: count=exact counts; count=planned answers the
// planner's estimate (no scan of the rows); count=estimated counts exactly
// up to DB_API_MAX_ROWS and estimates past it.
func TestCountModes(t *testing.T) {
	e := newEnv(t, map[string]string{"DB_API_MAX_ROWS": "100"})
	// The statistics say half the rows have g < 500; since the UPDATE all
	// do, so an estimate (about 10000) and a count (20000) differ.
	e.exec(`CREATE TABLE big (id int PRIMARY KEY, g int NOT NULL) WITH (autovacuum_enabled = false);
		INSERT INTO big SELECT i, i % 1000 FROM generate_series(1, 20000) i;
		ANALYZE big;
		UPDATE big SET g = 0 WHERE g >= 500;`)
	e.exec(`VACUUM big`) // row count and pages current again; g's statistics stay stale
	_, sk := e.tenantKey(apikey.ServiceRole)
	total := func(q, mode string) int {
		t.Helper()
		r := e.must(206, "GET", "/v1/db/big?select=id&limit=1&"+q, sk, nil, "Prefer", "count="+mode)
		if got := r.header.Get("Preference-Applied"); got != "count="+mode {
			t.Errorf("Preference-Applied %q, want count=%s", got, mode)
		}
		rng := r.header.Get("Content-Range")
		_, after, _ := strings.Cut(rng, "/")
		n, err := strconv.Atoi(after)
		if err != nil {
			t.Fatalf("Content-Range %q", rng)
		}
		return n
	}
	near := func(got, want int) bool { return got > want*8/10 && got < want*12/10 }
	if n := total("g=lt.500", "exact"); n != 20000 {
		t.Errorf("exact: %d, want 20000", n)
	}
	if n := total("g=lt.500", "planned"); !near(n, 10000) {
		t.Errorf("planned: %d, want about 10000", n)
	}
	if n := total("g=gt.0&g=lt.3", "estimated"); n != 40 {
		t.Errorf("estimated under DB_API_MAX_ROWS: %d, want exactly 40", n)
	}
	if n := total("g=lt.500", "estimated"); !near(n, 10000) {
		t.Errorf("estimated over DB_API_MAX_ROWS: %d, want about 10000", n)
	}
	// The estimate still honours the filters' parameters and the SQL cache
	// keeps the modes apart.
	if n := total("g=gt.0&g=lt.3", "exact"); n != 40 {
		t.Errorf("exact after estimated: %d", n)
	}
}
