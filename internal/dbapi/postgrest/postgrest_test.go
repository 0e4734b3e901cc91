package postgrest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		col, val string
		want     Filter
	}{
		{"id", "eq.5", Filter{Column: "id", Op: Eq, Value: "5"}},
		{"name", "eq.a.b.c", Filter{Column: "name", Op: Eq, Value: "a.b.c"}},
		{"name", "eq.", Filter{Column: "name", Op: Eq, Value: ""}},
		{"name", "eq.a,b)(", Filter{Column: "name", Op: Eq, Value: "a,b)("}},
		{"age", "not.gte.18", Filter{Column: "age", Op: Gte, Negate: true, Value: "18"}},
		{"name", "ilike.*smith*", Filter{Column: "name", Op: Ilike, Value: "*smith*"}},
		{"id", "in.(1,2,3)", Filter{Column: "id", Op: In, List: []string{"1", "2", "3"}}},
		{"id", "in.()", Filter{Column: "id", Op: In, List: []string{}}},
		{"name", `in.("a,b","c\"d",e)`, Filter{Column: "name", Op: In, List: []string{"a,b", `c"d`, "e"}}},
		{"x", "is.NULL", Filter{Column: "x", Op: Is, Value: "null"}},
		{"x", "not.is.true", Filter{Column: "x", Op: Is, Negate: true, Value: "true"}},
		{"x", "is.not_null", Filter{Column: "x", Op: Is, Value: "not_null"}},
		{"tags", "cs.{a,b}", Filter{Column: "tags", Op: Cs, Value: "{a,b}"}},
		{"body", "fts(english).cat & dog", Filter{Column: "body", Op: Fts, FTSConfig: "english", Value: "cat & dog"}},
		{"body", "wfts.cat", Filter{Column: "body", Op: Wfts, Value: "cat"}},
		{"name", "like(any).{a*,b*}", Filter{Column: "name", Op: Like, Quant: "any", List: []string{"a*", "b*"}}},
		{"n", "gt(all).{1,2}", Filter{Column: "n", Op: Gt, Quant: "all", List: []string{"1", "2"}}},
		{`"my col"`, "eq.1", Filter{Column: "my col", Op: Eq, Value: "1"}},
		{"x", "isdistinct.3", Filter{Column: "x", Op: IsDistinct, Value: "3"}},
		{"during", "sl.[1,5)", Filter{Column: "during", Op: Sl, Value: "[1,5)"}},
		{"during", "not.adj.(1,5]", Filter{Column: "during", Op: Adj, Negate: true, Value: "(1,5]"}},
		{"during", "nxr.[1,)", Filter{Column: "during", Op: Nxr, Value: "[1,)"}},
		// filters on embedded relations
		{"author.name", "eq.x", Filter{Embed: []string{"author"}, Column: "name", Op: Eq, Value: "x"}},
		{"author.books.title", "like.A*", Filter{Embed: []string{"author", "books"}, Column: "title", Op: Like, Value: "A*"}},
		{`"my rel"."my col"`, "is.null", Filter{Embed: []string{"my rel"}, Column: "my col", Op: Is, Value: "null"}},
		// JSON paths
		{"data->>key", "eq.x", Filter{Column: "data", JSONPath: []JSONStep{{Key: "key", Text: true}}, Op: Eq, Value: "x"}},
		{"data->a->0->>b", "gt.1", Filter{Column: "data", JSONPath: []JSONStep{{Key: "a"}, {Key: "0", Index: true}, {Key: "b", Text: true}}, Op: Gt, Value: "1"}},
		{`data->"a key"->>-1`, "eq.1", Filter{Column: "data", JSONPath: []JSONStep{{Key: "a key"}, {Key: "-1", Index: true, Text: true}}, Op: Eq, Value: "1"}},
		{"author.meta->>x", "eq.1", Filter{Embed: []string{"author"}, Column: "meta", JSONPath: []JSONStep{{Key: "x", Text: true}}, Op: Eq, Value: "1"}},
	}
	for _, tt := range tests {
		got, err := ParseFilter(tt.col, tt.val)
		if err != nil {
			t.Errorf("ParseFilter(%q, %q): %v", tt.col, tt.val, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFilter(%q, %q) = %+v, want %+v", tt.col, tt.val, got, tt.want)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		col, val string
		pos      int
		msg      string
	}{
		{"id", "equals.5", 0, "unknown operator"},
		{"id", "5", 0, "unknown operator"},
		{"id", "", 0, "expected an operator"},
		{"id", "eq5", 0, "unknown operator"},
		{"id", "eq(any)5", 7, "expected a ."},
		{"id", "in.1,2", 3, "expected ("},
		{"id", "in.(1,2", 7, "expected , or )"},
		{"x", "is.maybe", 3, "is. takes"},
		{"x", "eq(some).1", 3, "invalid modifier"},
		{"x", "fts(english.cat", 11, "expected a closing )"},
		{"x", "like(any).a", 10, "expected {"},
		{"data->", "eq.1", 6, "expected a JSON key"},
		{"data->>-", "eq.1", 7, "array index"},
		{"data->1234567890", "eq.1", 6, "array index"},
		{"data->a.b", "eq.1", 7, "unexpected character"},
		{"author.", "eq.1", 7, "expected a column name"},
		{".name", "eq.1", 0, "expected a column name"},
		{"data-a", "eq.1", 4, "unexpected character"},
		{"a;drop", "eq.1", 1, "unexpected character"},
		{"", "eq.1", 0, "expected a column name"},
		{"id", `in.("a)`, 4, "unterminated quoted value"},
	}
	for _, tt := range tests {
		_, err := ParseFilter(tt.col, tt.val)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("ParseFilter(%q, %q): error %v, want *Error", tt.col, tt.val, err)
			continue
		}
		if pe.Pos != tt.pos || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("ParseFilter(%q, %q): pos %d %q, want pos %d containing %q", tt.col, tt.val, pe.Pos, pe.Msg, tt.pos, tt.msg)
		}
	}
}

func TestParseLogic(t *testing.T) {
	got, err := ParseLogic("or", `(age.lt.18,age.gt.65,and(name.eq."a,b",id.not.in.(1,2)),not.or(x.is.null,y.eq.2))`)
	if err != nil {
		t.Fatal(err)
	}
	want := Logic{Or: true, Children: []Condition{
		{Filter: &Filter{Column: "age", Op: Lt, Value: "18"}},
		{Filter: &Filter{Column: "age", Op: Gt, Value: "65"}},
		{Logic: &Logic{Children: []Condition{
			{Filter: &Filter{Column: "name", Op: Eq, Value: "a,b"}},
			{Filter: &Filter{Column: "id", Op: In, Negate: true, List: []string{"1", "2"}}},
		}}},
		{Logic: &Logic{Or: true, Negate: true, Children: []Condition{
			{Filter: &Filter{Column: "x", Op: Is, Value: "null"}},
			{Filter: &Filter{Column: "y", Op: Eq, Value: "2"}},
		}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	if l, err := ParseLogic("not.and", "(a.eq.1)"); err != nil || !l.Negate || l.Or {
		t.Errorf("not.and: %+v %v", l, err)
	}
	if l, err := ParseLogic("author.books.not.or", "(data->>k.eq.1,id.gt.2)"); err != nil || !l.Negate || !l.Or ||
		!reflect.DeepEqual(l.Embed, []string{"author", "books"}) ||
		!reflect.DeepEqual(l.Children[0].Filter.JSONPath, []JSONStep{{Key: "k", Text: true}}) {
		t.Errorf("embedded not.or: %+v %v", l, err)
	}
	if l, err := ParseLogic("author.and", "(a.eq.1)"); err != nil || l.Negate || l.Or || !reflect.DeepEqual(l.Embed, []string{"author"}) {
		t.Errorf("embedded and: %+v %v", l, err)
	}
	// a column named "and" is still a column when not followed by (
	if l, err := ParseLogic("or", "(and.eq.1)"); err != nil || l.Children[0].Filter.Column != "and" {
		t.Errorf("column named and: %+v %v", l, err)
	}
}

func TestParseLogicErrors(t *testing.T) {
	tests := []struct {
		key, val string
		pos      int
		msg      string
	}{
		{"or", "a.eq.1", 0, "expected ("},
		{"or", "(a.eq.1", 7, "expected , or )"},
		{"or", "(a.eq.1))", 8, "unexpected text"},
		{"or", "(a.eq.1,)", 8, "expected a column name"},
		{"or", "(a.zz.1)", 3, "unknown operator"},
		{"or", "(a.eq.f(x))", 7, "unexpected ("},
		{"or", "(a)", 2, "expected a ."},
		{"or", "(" + strings.Repeat("and(", 20) + "a.eq.1" + strings.Repeat(")", 21), 0, "nest too deeply"},
	}
	for _, tt := range tests {
		_, err := ParseLogic(tt.key, tt.val)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("ParseLogic(%q, %q): error %v, want *Error", tt.key, tt.val, err)
			continue
		}
		if !strings.Contains(pe.Msg, tt.msg) || (tt.pos != 0 && pe.Pos != tt.pos) {
			t.Errorf("ParseLogic(%q, %q): pos %d %q, want pos %d containing %q", tt.key, tt.val, pe.Pos, pe.Msg, tt.pos, tt.msg)
		}
	}
	for _, bad := range []string{"xor", "author.xor", ".or", "author..or", "a;b.or"} {
		if _, err := ParseLogic(bad, "(a.eq.1)"); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseSelect(t *testing.T) {
	got, err := ParseSelect("id, name,total::text,writer:author_id,author:authors!inner(id,name),comments!comments_post_fk(*,user:users())")
	if err != nil {
		t.Fatal(err)
	}
	want := []SelectItem{
		{Column: "id"}, {Column: "name"}, {Column: "total", Cast: "text"}, {Alias: "writer", Column: "author_id"},
		{Alias: "author", Embed: &Embed{Relation: "authors", Inner: true, Items: []SelectItem{{Column: "id"}, {Column: "name"}}}},
		{Embed: &Embed{Relation: "comments", Hint: "comments_post_fk", Items: []SelectItem{{Column: "*"},
			{Alias: "user", Embed: &Embed{Relation: "users"}}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	if got, _ := ParseSelect(""); !reflect.DeepEqual(got, []SelectItem{{Column: "*"}}) {
		t.Errorf("empty select: %#v", got)
	}
	got, err = ParseSelect(`data->>name,k:data->a->0::int,"x"->"y z"`)
	if err != nil {
		t.Fatal(err)
	}
	want = []SelectItem{
		{Column: "data", JSONPath: []JSONStep{{Key: "name", Text: true}}},
		{Alias: "k", Column: "data", Cast: "int", JSONPath: []JSONStep{{Key: "a"}, {Key: "0", Index: true}}},
		{Column: "x", JSONPath: []JSONStep{{Key: "y z"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON paths: got %#v\nwant %#v", got, want)
	}
	got, err = ParseSelect("id,...authors!inner(name,...countries(country:name))")
	if err != nil {
		t.Fatal(err)
	}
	want = []SelectItem{{Column: "id"}, {Embed: &Embed{Relation: "authors", Inner: true, Spread: true, Items: []SelectItem{{Column: "name"},
		{Embed: &Embed{Relation: "countries", Spread: true, Items: []SelectItem{{Alias: "country", Column: "name"}}}}}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spread: got %#v\nwant %#v", got, want)
	}
	got, err = ParseSelect("count(),n:count()::text,amount.sum(),total:amount::int.avg()::text,data->>x::numeric.max(),category,count(*),rel(count())")
	if err != nil {
		t.Fatal(err)
	}
	want = []SelectItem{{Aggregate: "count"}, {Alias: "n", Aggregate: "count", Cast: "text"}, {Column: "amount", Aggregate: "sum"},
		{Alias: "total", Column: "amount", Aggregate: "avg", InputCast: "int", Cast: "text"},
		{Column: "data", JSONPath: []JSONStep{{Key: "x", Text: true}}, Aggregate: "max", InputCast: "numeric"},
		{Column: "category"}, {Embed: &Embed{Relation: "count", Items: []SelectItem{{Column: "*"}}}},
		{Embed: &Embed{Relation: "rel", Items: []SelectItem{{Aggregate: "count"}}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("aggregates: got %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{"id,", "a:*", "id;drop table x", "rel(id", "rel!(id)", "x::", "a->", "a->b(id)", "a->b!inner(id)", "rel!a!b(id)", "(id)", "id)",
		"...title", "a:...rel(id)", "...a:rel(id)", "....rel(id)", "...", "...*",
		"a.sum", "a.sum(", "a.sum(b)", "a.pg_sleep()", "a.", "a.sum()::", "a.sum().max()", "count()()", "*.count()", "a.SUM()"} {
		if _, err := ParseSelect(bad); err == nil {
			t.Errorf("ParseSelect(%q) accepted", bad)
		}
	}
}

func TestParseOrder(t *testing.T) {
	got, err := ParseOrder("created_at.desc.nullslast,id,name.nullsfirst")
	if err != nil {
		t.Fatal(err)
	}
	want := []OrderTerm{{Column: "created_at", Desc: true, Nulls: "last"}, {Column: "id"}, {Column: "name", Nulls: "first"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	got, err = ParseOrder("data->>k.desc,data->a->1")
	if err != nil {
		t.Fatal(err)
	}
	want = []OrderTerm{{Column: "data", JSONPath: []JSONStep{{Key: "k", Text: true}}, Desc: true},
		{Column: "data", JSONPath: []JSONStep{{Key: "a"}, {Key: "1", Index: true}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON paths: got %+v", got)
	}
	for _, bad := range []string{"", "id.up", "id.desc.asc", "id;drop", "id,", "a->", "a-b", "a->b->", "rel(x)", "id desc"} {
		if _, err := ParseOrder(bad); err == nil {
			t.Errorf("ParseOrder(%q) accepted", bad)
		}
	}
}

// FuzzParseFilter checks that no input panics, that errors point inside the
// input, and that every accepted column is a plain name.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"eq.5", "not.in.(1,\"2,3\")", "fts(english).a", "like(any).{a,b}", "is.null", "in.(", "(a.eq.1,or(b.gt.2))", "not.or(a.eq.\"x\\\"\")",
		"(data->>k.eq.1,data->0.gt.2)", "data->>a,b:c->\"d e\"->-1::text", "data->>k.desc,x->1"} {
		f.Add("col", s)
		f.Add("or", s)
	}
	for _, k := range []string{"author.name", "author.books.title", "data->>key", "data->a->0->>b", `"a b"."c"->"d"`, "a.", "data->", "author.or", "a.b.not.and", "data->-"} {
		f.Add(k, "eq.1")
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		check := func(err error) {
			if err == nil {
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if pe.Pos < 0 || pe.Pos > len(pe.Input) {
				t.Fatalf("position %d outside input of %d bytes", pe.Pos, len(pe.Input))
			}
			_ = pe.Near()
		}
		fl, err := ParseFilter(key, value)
		check(err)
		if err == nil && fl.Column == "" {
			t.Fatalf("accepted an empty column: %q", key)
		}
		if err == nil {
			for _, e := range fl.Embed {
				if e == "" {
					t.Fatalf("accepted an empty embedded relation: %q", key)
				}
			}
			for _, st := range fl.JSONPath {
				if st.Key == "" {
					t.Fatalf("accepted an empty JSON key: %q", key)
				}
			}
		}
		if IsLogicKey(key) {
			lg, err := ParseLogic(key, value)
			check(err)
			if err == nil {
				walk(t, lg)
			}
		}
		lg, err := ParseLogic("or", value)
		check(err)
		if err == nil {
			walk(t, lg)
		}
		_, err = ParseSelect(value)
		check(err)
		_, err = ParseOrder(value)
		check(err)
	})
}

func walk(t *testing.T, l Logic) {
	for _, c := range l.Children {
		if (c.Filter == nil) == (c.Logic == nil) {
			t.Fatal("condition with neither or both of filter and logic")
		}
		if c.Filter != nil && c.Filter.Column == "" {
			t.Fatal("empty column in a logic tree")
		}
		if c.Logic != nil {
			walk(t, *c.Logic)
		}
	}
}
