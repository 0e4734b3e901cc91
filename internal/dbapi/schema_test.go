package dbapi_test

import (
	"context"
	"testing"

	"github.com/trussdev/truss/internal/dbapi"
	"github.com/trussdev/truss/internal/testenv"
)

func TestLoadSchema(t *testing.T) {
	cfg := testenv.Config(t, nil)
	pool := testenv.Pool(t, cfg)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE items (id int PRIMARY KEY, name text);
		CREATE TABLE parts (id int PRIMARY KEY, item_id int REFERENCES items(id));
		CREATE FUNCTION f(a int, b text DEFAULT 'x') RETURNS TABLE (x int, y text) LANGUAGE sql AS 'SELECT a, b'`); err != nil {
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
	if sc.Tables["truss_internal.api_keys"] != nil {
		t.Fatal("truss_internal in the cache")
	}
}
