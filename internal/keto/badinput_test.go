package keto_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// TestBadInput: malformed tuples and queries are 400s naming the field.
func TestBadInput(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a := newTenant(t, srv.URL)
	both := tup("Project", "p", "viewers", "alice")
	both["subject_set"] = tuple{"namespace": "User", "object": "bob", "relation": ""}
	many := make([]tuple, 51)
	for i := range many {
		many[i] = tup("Project", "p", "view", "alice")
	}
	tooMany := make([]tuple, 501)
	for i := range tooMany {
		tooMany[i] = tup("Project", fmt.Sprint("p", i), "viewers", "alice")
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"unknown namespace", "PUT", "/api/keto/relation-tuples", tup("Nope", "p", "viewers", "alice"), "namespace"},
		{"empty namespace", "PUT", "/api/keto/relation-tuples", tup("", "p", "viewers", "alice"), "namespace"},
		{"empty object", "PUT", "/api/keto/relation-tuples", tup("Project", "", "viewers", "alice"), "object"},
		{"empty relation", "PUT", "/api/keto/relation-tuples", tup("Project", "p", "", "alice"), "relation"},
		{"unknown relation", "PUT", "/api/keto/relation-tuples", tup("Project", "p", "readers", "alice"), "relation"},
		{"permission written as a relation", "PUT", "/api/keto/relation-tuples", tup("Project", "p", "view", "alice"), "relation"},
		{"subject_id and subject_set", "PUT", "/api/keto/relation-tuples", both, "subject_set"},
		{"no subject", "PUT", "/api/keto/relation-tuples", tuple{"namespace": "Project", "object": "p", "relation": "viewers"}, "subject_id"},
		{"subject set in an unknown namespace", "PUT", "/api/keto/relation-tuples", tup("Project", "p", "viewers", "set:Team:x#members"), "subject_set.namespace"},
		{"subject set with an unknown relation", "PUT", "/api/keto/relation-tuples", tup("Project", "p", "viewers", "set:Organization:x#nope"), "subject_set.relation"},
		{"control character", "PUT", "/api/keto/relation-tuples", tup("Project", "p\n1", "viewers", "alice"), "object"},
		{"object too long", "PUT", "/api/keto/relation-tuples", tup("Project", strings.Repeat("x", 300), "viewers", "alice"), "object"},
		{"tenant-prefixed object", "PUT", "/api/keto/relation-tuples", tup("Project", a.ID+":p", "viewers", "alice"), "object"},
		{"unknown JSON field", "PUT", "/api/keto/relation-tuples", tuple{"namespace": "Project", "object": "p", "relation": "viewers", "subject_id": "a", "tenant": "x"}, "tenant"},
		{"check: bad namespace", "POST", "/api/keto/check", tup("Nope", "p", "view", "alice"), "namespace"},
		{"check: empty relation", "POST", "/api/keto/check", tup("Project", "p", "", "alice"), "relation"},
		{"check: both subjects", "POST", "/api/keto/check", both, "subject_id"},
		{"check: max_depth too deep", "POST", "/api/keto/check", tuple{"namespace": "Project", "object": "p", "relation": "view", "subject_id": "a", "max_depth": 99}, "max_depth"},
		{"batch: too many", "POST", "/api/keto/batch-check", map[string]any{"tuples": many}, "tuples"},
		{"batch: empty", "POST", "/api/keto/batch-check", map[string]any{"tuples": []tuple{}}, "tuples"},
		{"batch: one bad tuple", "POST", "/api/keto/batch-check", map[string]any{"tuples": []tuple{many[0], tup("Project", "p", "", "a")}}, "tuples[1].relation"},
		{"import: too many", "POST", "/api/keto/relation-tuples/import", map[string]any{"relation_tuples": tooMany}, "relation_tuples"},
		{"list: unknown parameter", "GET", "/api/keto/relation-tuples?tenant=x", nil, "tenant"},
		{"list: bad namespace", "GET", "/api/keto/relation-tuples?namespace=Nope", nil, "namespace"},
		{"list: both subjects", "GET", "/api/keto/relation-tuples?subject_id=a&subject_set.namespace=User&subject_set.object=b&subject_set.relation=", nil, "subject_id"},
		{"list: incomplete subject set", "GET", "/api/keto/relation-tuples?subject_set.namespace=User", nil, "subject_set.object"},
		{"list: page_size 0", "GET", "/api/keto/relation-tuples?page_size=0", nil, "page_size"},
		{"delete: no namespace", "DELETE", "/api/keto/relation-tuples?object=p", nil, "namespace"},
		{"expand: no relation", "GET", "/api/keto/expand?namespace=Project&object=p", nil, "relation"},
		{"expand: max-depth too deep", "GET", "/api/keto/expand?namespace=Project&object=p&relation=viewers&max-depth=11", nil, "max-depth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			resp := a.Do(tc.method, tc.path, tc.body, &e)
			fields, _ := e.Error.Details["fields"].(map[string]any)
			if resp.StatusCode != 400 || fields[tc.field] == nil || !strings.Contains(e.Error.Message, tc.field) {
				t.Errorf("%s %s = %d %s %q %v, want 400 naming %q", tc.method, tc.path, resp.StatusCode, e.Error.Code, e.Error.Message, fields, tc.field)
			}
		})
	}
}

// TestKetoDown: with Keto unreachable, every endpoint answers 503 naming
// Keto and the variable to fix.
func TestKetoDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	srv, _ := testenv.Server(t, map[string]string{"KETO_READ_URL": dead, "KETO_WRITE_URL": dead, "KETO_OPL_URL": dead})
	a := newTenant(t, srv.URL)
	for _, tc := range []struct {
		method, path string
		body         any
		env          string
	}{
		{"POST", "/api/keto/check", tup("Project", "p", "view", "alice"), "KETO_READ_URL"},
		{"POST", "/api/keto/batch-check", map[string]any{"tuples": []tuple{tup("Project", "p", "view", "alice")}}, "KETO_READ_URL"},
		{"GET", "/api/keto/relation-tuples", nil, "KETO_READ_URL"},
		{"GET", "/api/keto/expand?namespace=Project&object=p&relation=viewers", nil, "KETO_READ_URL"},
		{"DELETE", "/api/keto/relation-tuples?namespace=Project&object=p", nil, "KETO_WRITE_URL"},
		{"POST", "/api/keto/model/check", map[string]any{"opl": "class A implements Namespace {}"}, "KETO_OPL_URL"},
	} {
		var e apiError
		resp := a.Do(tc.method, tc.path, tc.body, &e)
		if resp.StatusCode != 503 || e.Error.Code != "keto_unavailable" || e.Error.Details["env"] != tc.env || !strings.Contains(e.Error.Hint, tc.env) {
			t.Errorf("%s %s = %d %s %v, want 503 keto_unavailable naming %s", tc.method, tc.path, resp.StatusCode, e.Error.Code, e.Error.Details, tc.env)
		}
	}
	var rep struct {
		Status  string   `json:"status"`
		Failing []string `json:"failing"`
	}
	if resp := a.Do("GET", "/api/keto/health", nil, &rep); resp.StatusCode != 503 || rep.Status != "down" || len(rep.Failing) != 2 {
		t.Errorf("health = %d %+v", resp.StatusCode, rep)
	}
}
