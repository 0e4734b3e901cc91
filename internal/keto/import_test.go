package keto_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// TestImportAllOrNothing: one bad tuple among 500 imports nothing; 500
// good ones import in one transaction; importing them again duplicates
// nothing; export gives them back.
func TestImportAllOrNothing(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a := newTenant(t, srv.URL)
	tuples := make([]tuple, 500)
	for i := range tuples {
		tuples[i] = tup("Project", fmt.Sprintf("p%03d", i), "viewers", "alice")
	}
	bad := append([]tuple{}, tuples...)
	bad[499] = tup("Project", "p499", "view", "alice") // a permission, not a relation
	var e apiError
	if resp := a.Do("POST", "/api/keto/relation-tuples/import", map[string]any{"relation_tuples": bad}, &e); resp.StatusCode != 400 ||
		e.Error.Details["fields"].(map[string]any)["relation_tuples[499].relation"] == nil {
		t.Fatalf("import with a bad tuple = %d %+v", resp.StatusCode, e.Error)
	}
	if got := a.list(t, url.Values{"namespace": {"Project"}}); len(got) != 0 {
		t.Fatalf("a refused import wrote %d tuples", len(got))
	}
	var res struct{ Imported, Existing int }
	if resp := a.Do("POST", "/api/keto/relation-tuples/import", map[string]any{"relation_tuples": tuples}, &res); resp.StatusCode != 200 || res.Imported != 500 {
		t.Fatalf("import = %d %+v", resp.StatusCode, res)
	}
	if resp := a.Do("POST", "/api/keto/relation-tuples/import", map[string]any{"relation_tuples": tuples[:10]}, &res); resp.StatusCode != 200 || res.Imported != 0 || res.Existing != 10 {
		t.Errorf("re-import = %d %+v", resp.StatusCode, res)
	}
	var exp page
	if resp := a.Do("GET", "/api/keto/relation-tuples/export", nil, &exp); resp.StatusCode != 200 || len(exp.RelationTuples) != 500 {
		t.Errorf("export = %d, %d tuples", resp.StatusCode, len(exp.RelationTuples))
	}
	if !a.allowed(t, tup("Project", "p123", "view", "alice")) {
		t.Error("imported grant does not hold")
	}
	// Page through them 7 at a time: every tuple exactly once.
	seen := map[string]bool{}
	for _, tp := range a.list(t, url.Values{"namespace": {"Project"}, "page_size": {"7"}}) {
		seen[tp["object"].(string)] = true
	}
	if len(seen) != 500 {
		t.Errorf("paging saw %d distinct tuples, want 500", len(seen))
	}
}

// TestKetoPatchIsTransactional checks the property import relies on, on
// Keto itself: PATCH /admin/relation-tuples with a failing insert after a
// good one writes neither.
func TestKetoPatchIsTransactional(t *testing.T) {
	t.Parallel()
	testenv.Require(t)
	obj := "patch-" + fmt.Sprint(t.Name(), len(t.Name()))
	good := map[string]any{"namespace": "Project", "object": obj, "relation": "viewers", "subject_id": "x"}
	bad := map[string]any{"namespace": "NoSuchNamespace", "object": obj, "relation": "viewers", "subject_id": "x"}
	status := ketoDirect(t, "PATCH", "write", "/admin/relation-tuples", []map[string]any{
		{"action": "insert", "relation_tuple": good}, {"action": "insert", "relation_tuple": bad}}, nil)
	if status < 400 {
		t.Fatalf("PATCH with an unknown namespace = %d, want an error", status)
	}
	var p page
	ketoDirect(t, "GET", "read", "/relation-tuples?namespace=Project&object="+url.QueryEscape(obj), nil, &p)
	if len(p.RelationTuples) != 0 {
		t.Errorf("Keto kept %v from a failed PATCH", p.RelationTuples)
	}
}
