package dbapi

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseExplain(t *testing.T) {
	cases := []struct {
		accept string
		want   *explainOpts
		bad    bool
	}{
		{"application/json", nil, false},
		{"application/vnd.pgrst.plan", &explainOpts{}, false},
		{"application/vnd.pgrst.plan+text; for=\"text/csv\"", &explainOpts{}, false},
		{"application/vnd.pgrst.plan+json; for=\"application/json\"; options=analyze|verbose|settings|buffers|wal;",
			&explainOpts{json: true, options: []string{"ANALYZE", "VERBOSE", "SETTINGS", "BUFFERS", "WAL"}}, false},
		{"application/vnd.pgrst.plan+json; options=analyze", &explainOpts{json: true, options: []string{"ANALYZE"}}, false},
		{"application/vnd.pgrst.plan+json; options=analyze|ANALYZE", nil, true},
		{"application/vnd.pgrst.plan+json; options=analyze) ; DROP TABLE x", nil, true},
		{"application/vnd.pgrst.plan+json; options=", nil, true},
	}
	for _, c := range cases {
		got, err := parseExplain(c.accept)
		if (err != nil) != c.bad || !c.bad && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, %v", c.accept, got, err)
		}
	}
}

// FuzzParseExplain: any Accept header parses without panic, and whatever
// reaches the EXPLAIN text is one of the fixed options.
func FuzzParseExplain(f *testing.F) {
	f.Add(`application/vnd.pgrst.plan+json; for="application/json"; options=analyze|buffers`)
	f.Add(`application/vnd.pgrst.plan; options=wal|x`)
	f.Fuzz(func(t *testing.T, accept string) {
		e, err := parseExplain(accept)
		if err != nil || e == nil {
			return
		}
		sql := e.statement(stmt{sql: "SELECT 1"}).sql
		rest := strings.TrimPrefix(sql, "EXPLAIN (")
		opts, tail, ok := strings.Cut(rest, ") ")
		if !ok || tail != "SELECT 1" {
			t.Fatalf("EXPLAIN text %q", sql)
		}
		for _, o := range strings.Split(opts, ", ") {
			switch o {
			case "FORMAT JSON", "FORMAT TEXT", "ANALYZE", "VERBOSE", "SETTINGS", "BUFFERS", "WAL":
			default:
				t.Fatalf("option %q from %q", o, accept)
			}
		}
		if ct := e.contentType(accept); strings.ContainsAny(ct, "\r\n") {
			t.Fatalf("content type %q", ct)
		}
	})
}
