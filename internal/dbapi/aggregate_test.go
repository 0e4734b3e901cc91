package dbapi_test

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/testenv"
)

// TestAggregates: count(), sum(), avg(), max() and min() in select=, named
// after the function unless aliased, grouped by the other columns, after
// the filters, with casts before and after, in embedded relations, in RPC
// results, and counted (Prefer: count) by groups.
func TestAggregates(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	get := func(path string, headers ...string) ([]map[string]any, response) {
		t.Helper()
		var rows []map[string]any
		r := e.must(200, "GET", path, sk, nil, headers...)
		r.json(t, &rows)
		return rows, r
	}
	q := func(s string) string { v, _ := url.ParseQuery(s); return v.Encode() }
	// views: 10 (post 1, author 1), NULL (2, author 1), 30 (3, author 2), 5 (4, no author).
	cases := map[string][]map[string]any{
		"select=count()":                     {{"count": 4.0}},
		"select=count()&published=is.true":   {{"count": 3.0}},
		"select=views.count()":               {{"count": 3.0}}, // NULLs are not counted
		"select=views.sum()":                 {{"sum": 45.0}},
		"select=views.avg()::int":            {{"avg": 15.0}},
		"select=views.max(),views.min()":     {{"max": 30.0, "min": 5.0}},
		"select=views::text.max()":           {{"max": "5"}}, // compared as text
		"select=total:views.sum(),n:count()": {{"total": 45.0, "n": 4.0}},
		"select=views.sum()::text":           {{"sum": "45"}},
		"select=author_id,count(),views.sum()&order=author_id": {
			{"author_id": 1.0, "count": 2.0, "sum": 10.0},
			{"author_id": 2.0, "count": 1.0, "sum": 30.0},
			{"author_id": nil, "count": 1.0, "sum": 5.0},
		},
		"select=published,author_id,count()&published=is.true&order=author_id.desc.nullsfirst&limit=2": {
			{"published": true, "author_id": nil, "count": 1.0},
			{"published": true, "author_id": 2.0, "count": 1.0},
		},
	}
	for query, want := range cases {
		if got, _ := get("/v1/db/posts?" + q(query)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %v\nwant %v", query, got, want)
		}
	}
	// In an embedded relation: per parent row (a one-to-many relation
	// gives one row of aggregates in its array).
	got, _ := get("/v1/db/authors?select=name,posts(count(),views.sum())&order=id")
	want := []map[string]any{
		{"name": "Ada", "posts": []any{map[string]any{"count": 2.0, "sum": 10.0}}},
		{"name": "Grace", "posts": []any{map[string]any{"count": 1.0, "sum": 30.0}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("embedded:\ngot  %v\nwant %v", got, want)
	}
	got, _ = get("/v1/db/authors?select=name,posts(published,count())&order=id&posts.order=published")
	if p := got[0]["posts"].([]any); len(p) != 2 || p[0].(map[string]any)["published"] != false || p[1].(map[string]any)["count"] != 1.0 {
		t.Errorf("embedded and grouped: %v", got)
	}
	// Prefer: count counts the groups; Range pages them.
	r := e.must(206, "GET", "/v1/db/posts?select=author_id,count()&order=author_id", sk, nil, "Prefer", "count=exact", "Range", "0-1")
	if cr := r.header.Get("Content-Range"); cr != "0-1/3" || r.status != 206 {
		t.Errorf("count of groups: %d %q", r.status, cr)
	}
	for _, mode := range []string{"planned", "estimated"} {
		if _, r := get("/v1/db/posts?select=count()", "Prefer", "count="+mode); r.header.Get("Content-Range") != "0-0/1" {
			t.Errorf("count=%s of one group: %q", mode, r.header.Get("Content-Range"))
		}
	}
	// RPC results aggregate like tables, counted by groups too.
	got, r = get("/v1/db/rpc/popular?min_views=1&select=author_id,count()&order=author_id", "Prefer", "count=exact")
	if !reflect.DeepEqual(got, []map[string]any{{"author_id": 1.0, "count": 1.0}, {"author_id": 2.0, "count": 1.0}, {"author_id": nil, "count": 1.0}}) ||
		r.header.Get("Content-Range") != "0-2/3" {
		t.Errorf("rpc: %v %q", got, r.header.Get("Content-Range"))
	}
	// Three rows in one group: the count is of groups, not of the rows.
	got, r = get("/v1/db/rpc/popular?min_views=1&select=published,count()", "Prefer", "count=exact")
	if !reflect.DeepEqual(got, []map[string]any{{"published": true, "count": 3.0}}) || r.header.Get("Content-Range") != "0-0/1" {
		t.Errorf("rpc, one group: %v %q", got, r.header.Get("Content-Range"))
	}
	if r := e.do("GET", "/v1/db/rpc/popular?min_views=1&select=title.sum()", sk, nil); r.status != 400 || r.errCode(t) != "invalid_aggregate" {
		t.Errorf("rpc, sum of text: %d %s", r.status, r.body)
	}
	// A column named like an aggregate is still a column, and rel(count())
	// still embeds.
	e.exec(`CREATE TABLE tallies (id int PRIMARY KEY, count int NOT NULL); INSERT INTO tallies VALUES (1, 7), (2, 8)`)
	if got, _ := get("/v1/db/tallies?select=count&order=id"); !reflect.DeepEqual(got, []map[string]any{{"count": 7.0}, {"count": 8.0}}) {
		t.Errorf("column named count: %v", got)
	}
	if got, _ := get("/v1/db/tallies?select=count.sum()"); !reflect.DeepEqual(got, []map[string]any{{"sum": 15.0}}) {
		t.Errorf("sum of a column named count: %v", got)
	}
}

// TestAggregateBadInput: what cannot be aggregated is a 400 naming the
// problem, and no aggregate name reaches SQL unless it is one of the five.
func TestAggregateBadInput(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	_, sk := e.tenantKey(apikey.ServiceRole)
	e.wantBadReads(t, sk, "posts", map[string]string{
		"select=title.sum()":                                 "invalid_aggregate", // sum(text) does not exist
		"select=tags.avg()":                                  "invalid_aggregate",
		"select=*,count()":                                   "invalid_aggregate",
		"select=count(),authors(name)":                       "invalid_aggregate",
		"select=views.pg_sleep()":                            "invalid_query",
		"select=views.sum":                                   "invalid_query",
		"select=views.sum(views)":                            "invalid_query",
		"select=views.sum()::evil":                           "invalid_cast",
		"select=views::evil.sum()":                           "invalid_cast",
		"select=nope.sum()":                                  "column_not_found",
		"select=author_id,count()&order=title":               "sql_error", // not grouped
		"select=views.sum()%3Bdrop%20table%20canary":         "invalid_query",
		"select=views.sum()::text%3Bdrop%20table%20canary":   "invalid_query",
		`select=views.sum()),(select%201%20from%20canary),(`: "invalid_query",
	})
	// A write's result is its RETURNING list, which cannot aggregate.
	if r := e.do("POST", "/v1/db/canary?select=count()", sk, map[string]any{"id": 2}, "Prefer", "return=representation"); r.status != 400 || r.errCode(t) != "invalid_aggregate" {
		t.Errorf("aggregate on a write: %d %s", r.status, r.body)
	}
	var ae testenv.APIError
	r := e.do("GET", "/v1/db/posts?select=title.sum()", sk, nil)
	r.json(t, &ae)
	if ae.Error.Hint == "" || ae.Error.Details["pg_code"] != "42883" {
		t.Errorf("sum of text: %+v", ae)
	}
	var rows []map[string]any
	e.must(200, "GET", "/v1/db/canary?select=id", sk, nil).json(t, &rows)
	if len(rows) != 1 {
		t.Errorf("canary: %v", rows)
	}
}
