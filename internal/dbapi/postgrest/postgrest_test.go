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
		{"data->a", "eq.1", 4, "JSON paths"},
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
	if _, err := ParseLogic("xor", "(a.eq.1)"); err == nil {
		t.Error("xor accepted")
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
	for _, bad := range []string{"id,", "a:*", "id;drop table x", "rel(id", "rel!(id)", "x::", "a->b", "rel!a!b(id)", "(id)", "id)"} {
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
	for _, bad := range []string{"", "id.up", "id.desc.asc", "id;drop", "id,", "a->b", "rel(x)", "id desc"} {
		if _, err := ParseOrder(bad); err == nil {
			t.Errorf("ParseOrder(%q) accepted", bad)
		}
	}
}

// FuzzParseFilter checks that no input panics, that errors point inside the
// input, and that every accepted column is a plain name.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"eq.5", "not.in.(1,\"2,3\")", "fts(english).a", "like(any).{a,b}", "is.null", "in.(", "(a.eq.1,or(b.gt.2))", "not.or(a.eq.\"x\\\"\")"} {
		f.Add("col", s)
		f.Add("or", s)
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
