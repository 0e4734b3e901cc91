package dbapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/dbapi"
	"github.com/trussdev/truss/internal/testenv"
)

func TestLoadSchema(t *testing.T) {
	cfg := testenv.Config(t, nil)
	pool := testenv.Pool(t, cfg)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE items (id int PRIMARY KEY, name text);
		CREATE TABLE parts (id int PRIMARY KEY, item_id int REFERENCES items(id));
		CREATE FUNCTION f(a int, b text DEFAULT 'x') RETURNS TABLE (x int, y text) LANGUAGE sql AS 'SELECT a, b';
		CREATE FUNCTION g() RETURNS SETOF items LANGUAGE sql AS 'SELECT * FROM items';
		CREATE TYPE pt AS (px float8, py float8);
		CREATE FUNCTION h(OUT int, INOUT z jsonb) LANGUAGE sql AS 'SELECT 1, z';
		CREATE FUNCTION k() RETURNS pt LANGUAGE sql AS 'SELECT 1.0, 2.0';
		CREATE FUNCTION s(OUT n int) LANGUAGE sql AS 'SELECT 1';
		CREATE FUNCTION r() RETURNS SETOF record LANGUAGE sql AS 'SELECT 1, 2'`); err != nil {
		t.Fatal(err)
	}
	sc, err := dbapi.LoadSchema(context.Background(), pool, []string{"public"})
	if err != nil {
		t.Fatal(err)
	}
	items := sc.Tables["public.items"]
	if items == nil || len(items.Columns) != 2 || len(items.PrimaryKey) != 1 || len(items.In) != 1 {
		t.Fatalf("items: %+v", items)
	}
	fs := sc.Functions["public.f"]
	if len(fs) != 1 || len(fs[0].ArgNames) != 2 || fs[0].ArgTypes[1] != "text" || fs[0].NumDefaults != 1 || !fs[0].ReturnsSet || !fs[0].ReturnsRow {
		t.Fatalf("f: %+v", fs[0])
	}
	// Result columns: RETURNS TABLE and OUT parameters (an unnamed one is
	// columnN), a table's row type (the table itself), a composite type;
	// none for a scalar (one OUT parameter) or a bare record.
	names := func(t *dbapi.Table) string {
		var out []string
		for _, c := range t.Columns {
			out = append(out, c.Name+" "+c.Type)
		}
		return strings.Join(out, ", ")
	}
	for fn, want := range map[string]string{
		"f": "x integer, y text", "h": "column1 integer, z jsonb", "k": "px double precision, py double precision",
	} {
		if f := sc.Functions["public."+fn][0]; f.Result == nil || names(f.Result) != want {
			t.Errorf("%s: result %+v, want %s", fn, f.Result, want)
		}
	}
	if g := sc.Functions["public.g"][0]; g.Result != items {
		t.Errorf("g: result %+v, want the items table", g.Result)
	}
	for _, fn := range []string{"s", "r"} {
		if f := sc.Functions["public."+fn][0]; f.Result != nil {
			t.Errorf("%s: result %+v, want none", fn, f.Result)
		}
	}
	if sc.Tables["truss_internal.api_keys"] != nil {
		t.Fatal("truss_internal in the cache")
	}
}
