package dbapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apierror"
)

// fuzzSchema is posts (→ authors, ← comments) without a database.
func fuzzSchema() *Schema {
	mk := func(name string, pk []string, cols ...string) *Table {
		t := &Table{Schema: "public", Name: name, PrimaryKey: pk, byName: map[string]*Column{}}
		for _, c := range cols {
			col := &Column{Name: c, Type: "text"}
			t.Columns = append(t.Columns, col)
			t.byName[c] = col
		}
		return t
	}
	authors := mk("authors", []string{"id"}, "id", "name")
	posts := mk("posts", []string{"id"}, "id", "title", "views", "author_id", "data")
	comments := mk("comments", []string{"id"}, "id", "post_id", "text")
	link := func(name string, from, to *Table, fromCol string) {
		fk := &ForeignKey{Name: name, From: from, To: to, FromColumns: []string{fromCol}, ToColumns: []string{"id"}}
		from.Out = append(from.Out, fk)
		to.In = append(to.In, fk)
	}
	link("posts_author_id_fkey", posts, authors, "author_id")
	link("comments_post_id_fkey", comments, posts, "post_id")
	return &Schema{Tables: map[string]*Table{"public.authors": authors, "public.posts": posts, "public.comments": comments}}
}

var placeholder = regexp.MustCompile(`\$([0-9]+)`)

// FuzzBuildRead drives any query string through the read parser and SQL
// builder: no input may panic, every refusal must be a 4xx API error, and
// every statement must use exactly the parameters it carries (a value
// spliced into the text, or a parameter numbered wrong, fails here).
func FuzzBuildRead(f *testing.F) {
	for _, q := range []string{
		"select=id,title&id=eq.1", "select=*,authors(name)&authors.name=eq.Ada&order=id.desc&limit=2",
		"select=id,c:comments!inner(text)&c.or=(text.eq.a,text.eq.b)&c.order=text&c.limit=1",
		"or=(id.eq.1,and(views.gt.2,title.like.*x*))&not.views=in.(1,2)", "select=id,authors(name)&authors=not.is.null",
		"data->>k=eq.1&select=data->a->>b&order=data->>k.asc.nullsfirst", "title=fts(english).cat&views=gt(any).{1,2}",
		"select=id,views::text,heading:title&offset=3&limit=0", "select=id,...authors!inner(a:name)&authors.name=eq.x",
		"select=id,comments(id,...posts(title))",
		"select=author_id,n:count(),views::text.max(),data->>k::int.sum()::text&views=gt.1&order=author_id",
		"select=title,comments(count(),id.max())&comments.text=eq.x",
		"select=id,...comments!inner(t:text,id)&comments.text=like.a*&comments.order=id.desc&comments.limit=2",
		"select=c:comments()&c.or=(text.eq.)", // rel() filters nothing: its filter's parameter must not be left over "id=eq.1&offset=1", "select=x", "order=nope", "comments.limit=-1",
	} {
		f.Add(q, false)
		f.Add(q, true)
	}
	sc := fuzzSchema()
	f.Fuzz(func(t *testing.T, rawQuery string, count bool) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodGet, "/v1/db/posts", nil)
		if count {
			r.Header.Set("Prefer", "count=exact")
		}
		req := &restRequest{table: sc.Tables["public.posts"], sc: sc}
		check := func(err error) {
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
				t.Fatalf("%q: not a 4xx API error: %v", rawQuery, err)
			}
		}
		if err := req.parseQuery(r, q, func(k string) bool { return reserved[k] }, true, 10000); err != nil {
			check(err)
			return
		}
		stmts, err := buildRead(req)
		if err != nil {
			check(err)
			return
		}
		for _, st := range stmts {
			used := map[int]bool{}
			for _, m := range placeholder.FindAllStringSubmatch(st.sql, -1) {
				n, _ := strconv.Atoi(m[1])
				used[n] = true
			}
			for n := range used {
				if n < 1 || n > len(st.args) {
					t.Fatalf("%q: $%d in SQL with %d parameters: %s", rawQuery, n, len(st.args), st.sql)
				}
			}
			if len(used) != len(st.args) {
				t.Fatalf("%q: %d parameters, %d used: %s", rawQuery, len(st.args), len(used), st.sql)
			}
			if strings.Count(st.sql, "'")%2 != 0 {
				t.Fatalf("%q: unbalanced quote in SQL: %s", rawQuery, st.sql)
			}
		}
	})
}
