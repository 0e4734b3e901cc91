package dbapi_test

import (
	"testing"
	"time"

	"github.com/trussdev/truss/internal/apikey"
)

func TestSQLOverHTTP(t *testing.T) {
	e := newEnv(t, map[string]string{"DB_API_STATEMENT_TIMEOUT": "2s"})
	_, sk := e.tenantKey(apikey.ServiceRole)
	out := e.sql(sk, "SELECT $1::int AS n, $2::text AS s, $3::jsonb AS j, $4::bool AS b, NULL::int AS z, 1.5::numeric AS d, now() AS t",
		7, "x", map[string]any{"a": 1}, true)
	row := out["rows"].([]any)[0].(map[string]any)
	if row["n"] != float64(7) || row["s"] != "x" || row["j"].(map[string]any)["a"] != float64(1) || row["b"] != true ||
		row["z"] != nil || row["d"] != 1.5 {
		t.Errorf("row: %v", row)
	}
	cols := out["columns"].([]any)
	if cols[0].(map[string]any)["type"] != "int4" || cols[2].(map[string]any)["type"] != "jsonb" || out["command"] != "SELECT" {
		t.Errorf("columns: %v %v", cols, out["command"])
	}
	// DDL and DML through SQL; the new table is found by auto-REST at once.
	e.sql(sk, "CREATE TABLE notes (id serial PRIMARY KEY, body text)")
	out = e.sql(sk, "INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 30) g")
	if out["command"] != "INSERT" || out["rowCount"] != float64(30) {
		t.Errorf("insert: %v", out)
	}
	e.must(200, "GET", "/v1/db/notes?id=eq.1", sk, nil)
	// A column added later appears after the event trigger's notification.
	e.sql(sk, "ALTER TABLE notes ADD COLUMN color text DEFAULT 'red'")
	deadline := time.Now().Add(3 * time.Second)
	for {
		r := e.do("GET", "/v1/db/notes?select=color&id=eq.1", sk, nil)
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new column not visible: %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// row_limit truncates.
	var res map[string]any
	e.must(200, "POST", "/v1/sql", sk, map[string]any{"sql": "SELECT * FROM notes", "row_limit": 5}).json(t, &res)
	if len(res["rows"].([]any)) != 5 || res["truncated"] != true {
		t.Errorf("row_limit: %v", res["truncated"])
	}
	// Transaction: all or nothing, failing statement named.
	r := e.do("POST", "/v1/sql/transaction", sk, map[string]any{"statements": []map[string]any{
		{"sql": "DELETE FROM notes"}, {"sql": "SELECT 1/0"}}})
	var eb struct {
		Error struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	r.json(t, &eb)
	if r.status != 400 || eb.Error.Details["statement"] != float64(1) {
		t.Errorf("failed transaction: %d %s", r.status, r.body)
	}
	out = e.sql(sk, "SELECT count(*) AS n FROM notes")
	if out["rows"].([]any)[0].(map[string]any)["n"] != float64(30) {
		t.Errorf("rolled back transaction deleted rows: %v", out["rows"])
	}
	var tx map[string]any
	e.must(200, "POST", "/v1/sql/transaction", sk, map[string]any{"statements": []map[string]any{
		{"sql": "UPDATE notes SET body = $1 WHERE id = $2", "params": []any{"changed", 1}},
		{"sql": "SELECT body FROM notes WHERE id = 1"}}}).json(t, &tx)
	if len(tx["results"].([]any)) != 2 {
		t.Errorf("transaction: %v", tx)
	}
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = map[string]any{"sql": "SELECT 1"}
	}
	e.must(400, "POST", "/v1/sql/transaction", sk, map[string]any{"statements": many})
	// Transaction control is refused; timeouts are 504 and bounded.
	for _, q := range []string{"COMMIT", "begin", "  -- c\nROLLBACK", "/* x */ SAVEPOINT a"} {
		if r := e.do("POST", "/v1/sql", sk, map[string]any{"sql": q}); r.status != 400 || r.errCode(t) != "transaction_control" {
			t.Errorf("%q: %d %s", q, r.status, r.body)
		}
	}
	start := time.Now()
	if r := e.do("POST", "/v1/sql", sk, map[string]any{"sql": "SELECT pg_sleep(5)", "timeout": "300ms"}); r.status != 504 {
		t.Errorf("timeout: %d %s", r.status, r.body)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("timeout took %s", time.Since(start))
	}
	e.must(400, "POST", "/v1/sql", sk, map[string]any{"sql": "SELECT 1", "timeout": "1h"})
	// The server-wide statement timeout applies to auto-REST too.
	e.sql(sk, "CREATE FUNCTION slow() RETURNS int LANGUAGE sql AS 'SELECT pg_sleep(5)::text::int'")
	if r := e.do("POST", "/v1/db/rpc/slow", sk, nil); r.status != 504 {
		t.Errorf("slow rpc: %d %s", r.status, r.body)
	}
}
