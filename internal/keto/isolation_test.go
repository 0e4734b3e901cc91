package keto_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// TestCrossTenantIsolation plays a hostile tenant B against tenant A: every
// way of reading, writing, deleting, checking or expanding A's tuples, or
// of pointing a subject set at them, is refused or sees nothing.
func TestCrossTenantIsolation(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a, b := newTenant(t, srv.URL), newTenant(t, srv.URL)
	a.put(t,
		tup("Organization", "acme", "members", "carol"),
		tup("Project", "p1", "viewers", "alice"),
		tup("Project", "p1", "organization", "set:Organization:acme"),
	)
	aTuples := func() int { return len(a.list(t, url.Values{})) }
	if n := aTuples(); n != 3 {
		t.Fatalf("A sees %d tuples, want 3", n)
	}
	aPrefixed := a.ID + ":p1"

	// Stored in Keto under A's tenant id, shown to A without it.
	var raw page
	ketoDirect(t, "GET", "read", "/relation-tuples?namespace=Project&object="+url.QueryEscape(aPrefixed), nil, &raw)
	if len(raw.RelationTuples) != 2 {
		t.Fatalf("Keto holds %v under %s", raw.RelationTuples, aPrefixed)
	}
	for _, tp := range a.list(t, url.Values{"namespace": {"Project"}}) {
		if tp["object"] != "p1" {
			t.Errorf("A sees object %v, want the clean name p1", tp["object"])
		}
	}

	t.Run("read: B lists nothing of A", func(t *testing.T) {
		for _, q := range []url.Values{{}, {"namespace": {"Project"}}, {"namespace": {"Project"}, "object": {"p1"}},
			{"subject_id": {"alice"}}, {"namespace": {"Project"}, "subject_set.namespace": {"Organization"},
				"subject_set.object": {"acme"}, "subject_set.relation": {""}}} {
			if got := b.list(t, q); len(got) != 0 {
				t.Errorf("B lists %v with %v", got, q)
			}
		}
		var e apiError
		for _, q := range []string{"object=" + url.QueryEscape(aPrefixed), "namespace=Project&object=" + url.QueryEscape(aPrefixed),
			"subject_set.namespace=Project&subject_set.object=" + url.QueryEscape(aPrefixed) + "&subject_set.relation="} {
			if resp := b.Do("GET", "/api/keto/relation-tuples?"+q, nil, &e); resp.StatusCode != 400 {
				t.Errorf("B listing %s = %d, want 400", q, resp.StatusCode)
			}
		}
		var exp page
		if resp := b.Do("GET", "/api/keto/relation-tuples/export", nil, &exp); resp.StatusCode != 200 || len(exp.RelationTuples) != 0 {
			t.Errorf("B export = %d %v", resp.StatusCode, exp.RelationTuples)
		}
	})
	t.Run("check: B's checks never see A's grants", func(t *testing.T) {
		if b.allowed(t, tup("Project", "p1", "view", "alice")) {
			t.Error("B's check sees A's grant to alice")
		}
		if b.allowed(t, tup("Organization", "acme", "members", "carol")) {
			t.Error("B's check sees A's acme member")
		}
		var e apiError
		if resp := b.Do("POST", "/api/keto/check", tup("Project", aPrefixed, "view", "alice"), &e); resp.StatusCode != 400 || !strings.Contains(e.Error.Message, "object") {
			t.Errorf("B checking A's prefixed object = %d %q", resp.StatusCode, e.Error.Message)
		}
	})
	t.Run("write: B's tuples stay B's", func(t *testing.T) {
		b.put(t, tup("Project", "p1", "viewers", "mallory"))
		if a.allowed(t, tup("Project", "p1", "view", "mallory")) {
			t.Error("B's write granted mallory A's p1")
		}
		var e apiError
		if resp := b.Do("PUT", "/api/keto/relation-tuples", tup("Project", aPrefixed, "viewers", "mallory"), &e); resp.StatusCode != 400 {
			t.Errorf("B writing A's prefixed object = %d", resp.StatusCode)
		}
	})
	t.Run("subject sets cannot point into A", func(t *testing.T) {
		var e apiError
		hostile := tup("Project", "bp", "viewers", "set:Organization:"+a.ID+":acme#members")
		if resp := b.Do("PUT", "/api/keto/relation-tuples", hostile, &e); resp.StatusCode != 400 || e.Error.Details["fields"].(map[string]any)["subject_set.object"] == nil {
			t.Errorf("subject set into A = %d %+v", resp.StatusCode, e.Error)
		}
		// The same clean name is B's own acme: A's members get nothing.
		b.put(t, tup("Project", "bp", "viewers", "set:Organization:acme#members"))
		if b.allowed(t, tup("Project", "bp", "view", "carol")) {
			t.Error("A's acme member views B's project through a subject set")
		}
		var imp apiError
		if resp := b.Do("POST", "/api/keto/relation-tuples/import", map[string]any{"relation_tuples": []tuple{hostile}}, &imp); resp.StatusCode != 400 {
			t.Errorf("import of a subject set into A = %d", resp.StatusCode)
		}
	})
	t.Run("expand: B cannot expand A's objects", func(t *testing.T) {
		var e apiError
		if resp := b.Do("GET", "/api/keto/expand?namespace=Organization&object=acme&relation=members", nil, &e); resp.StatusCode != 404 {
			t.Errorf("B expanding acme = %d", resp.StatusCode)
		}
		if resp := b.Do("GET", "/api/keto/expand?namespace=Organization&object="+url.QueryEscape(a.ID+":acme")+"&relation=members", nil, &e); resp.StatusCode != 400 {
			t.Errorf("B expanding A's prefixed acme = %d", resp.StatusCode)
		}
		var tree map[string]any
		if resp := a.Do("GET", "/api/keto/expand?namespace=Organization&object=acme&relation=members", nil, &tree); resp.StatusCode != 200 {
			t.Errorf("A expanding its acme = %d", resp.StatusCode)
		}
	})
	t.Run("delete: B deletes only its own", func(t *testing.T) {
		for _, q := range []string{"namespace=Project&object=p1", "namespace=Project&relation=viewers", "namespace=Project",
			"namespace=Organization&subject_id=carol"} {
			if resp := b.Do("DELETE", "/api/keto/relation-tuples?"+q, nil, nil); resp.StatusCode != 204 {
				t.Errorf("B DELETE %s = %d", q, resp.StatusCode)
			}
		}
		var e apiError
		if resp := b.Do("DELETE", "/api/keto/relation-tuples?namespace=Project&object="+url.QueryEscape(aPrefixed), nil, &e); resp.StatusCode != 400 {
			t.Errorf("B deleting A's prefixed object = %d", resp.StatusCode)
		}
		if n := aTuples(); n != 3 {
			t.Errorf("A has %d tuples after B's deletes, want 3", n)
		}
		if len(b.list(t, url.Values{"namespace": {"Project"}})) != 0 {
			t.Error("B's own Project tuples survived its delete")
		}
	})
	t.Run("Truss's own namespace is out of reach", func(t *testing.T) {
		var e apiError
		if resp := b.Do("POST", "/api/keto/check", tup("TrussTenant", a.ID, "manage", "mallory"), &e); resp.StatusCode != 400 {
			t.Errorf("check on TrussTenant = %d", resp.StatusCode)
		}
		if resp := b.Do("PUT", "/api/keto/relation-tuples", tup("TrussTenant", a.ID, "owners", "mallory"), &e); resp.StatusCode != 400 {
			t.Errorf("write to TrussTenant = %d", resp.StatusCode)
		}
	})
	t.Run("no session, no access", func(t *testing.T) {
		anon := testenv.NewBrowser(t, srv.URL)
		if resp := anon.Do("GET", "/api/keto/relation-tuples", nil, nil); resp.StatusCode != 401 {
			t.Errorf("anonymous list = %d", resp.StatusCode)
		}
	})
}
