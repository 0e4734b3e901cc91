package dbapi_test

import (
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

// TestStaleSchemaWithoutEventTrigger: on a database where Truss could not
// create its event trigger (migrated without a superuser), DDL sends no
// notification. A request naming a column or relation added since the
// schema cache was read still succeeds: the cache is read again (at most
// once a second) and the request answered from the new schema, with its
// body replayed for writes. A name that really does not exist still gets
// column_not_found.
func TestStaleSchemaWithoutEventTrigger(t *testing.T) {
	e := newEnv(t, nil)
	e.exec(`DROP EVENT TRIGGER truss_schema_change;
		CREATE TABLE notes (id int PRIMARY KEY, body text);
		INSERT INTO notes VALUES (1, 'a');`)
	_, sk := e.tenantKey(apikey.ServiceRole)
	e.must(200, "GET", "/v1/db/notes?select=id,body", sk, nil) // the cache now knows notes(id, body)

	e.exec(`CREATE TABLE tags (id int PRIMARY KEY, name text);
		INSERT INTO tags VALUES (7, 'red');
		ALTER TABLE notes ADD COLUMN color text DEFAULT 'blue', ADD COLUMN tag_id int REFERENCES tags(id);
		UPDATE notes SET tag_id = 7;`)
	var rows []map[string]any
	e.must(200, "GET", "/v1/db/notes?select=id,color&id=eq.1", sk, nil).json(t, &rows)
	if len(rows) != 1 || rows[0]["color"] != "blue" {
		t.Errorf("new column: %v", rows)
	}
	rows = nil
	e.must(200, "GET", "/v1/db/notes?select=id,tags(name)", sk, nil).json(t, &rows)
	if len(rows) != 1 || rows[0]["tags"].(map[string]any)["name"] != "red" {
		t.Errorf("new relation: %v", rows)
	}

	// A write naming a newer column: its body reaches the second attempt.
	e.exec(`ALTER TABLE notes ADD COLUMN pinned boolean NOT NULL DEFAULT false`)
	rows = nil
	e.must(201, "POST", "/v1/db/notes?select=id,pinned", sk, map[string]any{"id": 2, "body": "b", "pinned": true},
		"Prefer", "return=representation").json(t, &rows)
	if len(rows) != 1 || rows[0]["pinned"] != true {
		t.Errorf("insert with a new column: %v", rows)
	}
	if r := e.do("GET", "/v1/db/notes?select=colour", sk, nil); r.status != 400 || r.errCode(t) != "column_not_found" {
		t.Errorf("a column that does not exist: %d %s", r.status, r.body)
	}
}
