package dbapi_test

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/apikey"
)

// TestOpenAPI: GET /v1/db/ and /rest/v1/ describe, in OpenAPI 2.0, the
// tables, views and functions the key's role may use (what PostgREST serves
// at its root): service_role all of them, anon only what it was granted,
// with the methods it was granted. swagger-parser validates the document.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, nil)
	e.fixture()
	e.exec(`CREATE TYPE mood AS ENUM ('happy', 'sad');
		ALTER TABLE authors ADD COLUMN mood mood;
		CREATE VIEW published AS SELECT id, title FROM posts WHERE published;
		GRANT SELECT ON authors TO anon;
		GRANT EXECUTE ON FUNCTION add(int, int) TO anon;
		REVOKE EXECUTE ON FUNCTION popular(int), titles(), whoami() FROM PUBLIC;
		GRANT EXECUTE ON FUNCTION popular(int) TO service_role;`)
	tenant, sk := e.tenantKey(apikey.ServiceRole)
	pk := e.key(tenant, apikey.Anon)

	type op struct {
		Parameters []map[string]any `json:"parameters"`
	}
	var doc struct {
		Swagger     string                    `json:"swagger"`
		BasePath    string                    `json:"basePath"`
		Paths       map[string]map[string]op  `json:"paths"`
		Definitions map[string]map[string]any `json:"definitions"`
	}
	methods := func(path string) []string {
		var m []string
		for k := range doc.Paths[path] {
			m = append(m, k)
		}
		slices.Sort(m)
		return m
	}
	r := e.must(200, "GET", "/v1/db/", sk, nil)
	r.json(t, &doc)
	if doc.Swagger != "2.0" || doc.BasePath != "/v1/db" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/openapi+json") {
		t.Errorf("document: %q %q %q", doc.Swagger, doc.BasePath, r.header.Get("Content-Type"))
	}
	for path, want := range map[string][]string{
		"/posts": {"delete", "get", "patch", "post"}, "/published": {"get"}, "/rpc/add": {"get", "post"}, "/rpc/popular": {"get", "post"},
	} {
		if got := methods(path); !reflect.DeepEqual(got, want) {
			t.Errorf("service_role: %s has %v, want %v", path, got, want)
		}
	}
	posts := doc.Definitions["posts"]["properties"].(map[string]any)
	id := posts["id"].(map[string]any)
	if id["type"] != "integer" || id["format"] != "bigint" || !strings.Contains(id["description"].(string), "<pk/>") {
		t.Errorf("posts.id: %v", id)
	}
	if fk := posts["author_id"].(map[string]any); !strings.Contains(fk["description"].(string), "<fk table='authors' column='id'/>") {
		t.Errorf("posts.author_id: %v", fk)
	}
	if tags := posts["tags"].(map[string]any); tags["type"] != "array" || tags["items"].(map[string]any)["type"] != "string" {
		t.Errorf("posts.tags: %v", tags)
	}
	if req := doc.Definitions["posts"]["required"]; !reflect.DeepEqual(req, []any{"title"}) {
		t.Errorf("posts required: %v", req)
	}
	if mood := doc.Definitions["authors"]["properties"].(map[string]any)["mood"].(map[string]any); !reflect.DeepEqual(mood["enum"], []any{"happy", "sad"}) {
		t.Errorf("authors.mood: %v", mood)
	}

	// anon: what it was granted, nothing else; /rest/v1/ says so too.
	doc.Paths = nil
	e.must(200, "GET", "/rest/v1/", pk, nil).json(t, &doc)
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if !reflect.DeepEqual(paths, []string{"/", "/authors", "/rpc/add"}) || !reflect.DeepEqual(methods("/authors"), []string{"get"}) || doc.BasePath != "/rest/v1" {
		t.Errorf("anon sees %v (authors: %v), base %q", paths, methods("/authors"), doc.BasePath)
	}
	e.must(401, "GET", "/rest/v1/", "", nil)

	// A real OpenAPI 2.0 validator accepts the document.
	node, dir := nodeDeps(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "openapi.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TRUSS_URL="+e.url, "TRUSS_KEY="+sk)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"/rpc/add"`) {
		t.Errorf("swagger-parser: %v\n%s", err, out)
	}
}
