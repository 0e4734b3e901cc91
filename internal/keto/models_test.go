package keto_test

import (
	"net/url"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// TestDefaultModelChecks runs a table of checks on Truss's default model:
// organization roles (RBAC), projects inheriting from their organization,
// and per-project grants to users or to a whole organization's members
// (ACL with subject sets).
func TestDefaultModelChecks(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a := newTenant(t, srv.URL)
	a.put(t,
		// RBAC: organization acme.
		tup("Organization", "acme", "owners", "alice"),
		tup("Organization", "acme", "admins", "bob"),
		tup("Organization", "acme", "members", "carol"),
		tup("Organization", "acme", "viewers", "dave"),
		// Inheritance: project web belongs to acme; frank edits it.
		tup("Project", "web", "organization", "set:Organization:acme"),
		tup("Project", "web", "editors", "frank"),
		// ACL: project api (no organization) is shown to beta's members
		// and owned by heidi; beta's member is gina.
		tup("Project", "api", "viewers", "set:Organization:beta#members"),
		tup("Project", "api", "owners", "heidi"),
		tup("Organization", "beta", "members", "gina"),
	)
	for _, tc := range []struct {
		name                   string
		ns, obj, perm, subject string
		want                   bool
	}{
		{"RBAC: owner deletes the organization", "Organization", "acme", "delete", "alice", true},
		{"RBAC: admin cannot delete it", "Organization", "acme", "delete", "bob", false},
		{"RBAC: admin manages", "Organization", "acme", "manage", "bob", true},
		{"RBAC: member does not manage", "Organization", "acme", "manage", "carol", false},
		{"RBAC: member edits", "Organization", "acme", "edit", "carol", true},
		{"RBAC: viewer does not edit", "Organization", "acme", "edit", "dave", false},
		{"RBAC: viewer views", "Organization", "acme", "view", "dave", true},
		{"RBAC: owner views (permissions nest)", "Organization", "acme", "view", "alice", true},
		{"RBAC: stranger does not view", "Organization", "acme", "view", "eve", false},
		{"RBAC: the relation itself is checkable", "Organization", "acme", "members", "carol", true},
		{"inheritance: org admin manages the project", "Project", "web", "manage", "bob", true},
		{"inheritance: org owner deletes the project", "Project", "web", "delete", "alice", true},
		{"inheritance: org viewer views the project", "Project", "web", "view", "dave", true},
		{"inheritance: org member does not edit the project", "Project", "web", "edit", "carol", false},
		{"inheritance: org member views the project", "Project", "web", "view", "carol", true},
		{"inheritance: project editor edits", "Project", "web", "edit", "frank", true},
		{"inheritance: project editor does not manage", "Project", "web", "manage", "frank", false},
		{"inheritance: other org's member sees nothing", "Project", "web", "view", "gina", false},
		{"ACL: beta member views api through the subject set", "Project", "api", "view", "gina", true},
		{"ACL: beta member does not edit api", "Project", "api", "edit", "gina", false},
		{"ACL: acme member does not view api", "Project", "api", "view", "carol", false},
		{"ACL: owner of api edits it", "Project", "api", "edit", "heidi", true},
		{"ACL: unknown object", "Project", "nope", "view", "alice", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.allowed(t, tup(tc.ns, tc.obj, tc.perm, tc.subject)); got != tc.want {
				t.Errorf("%s:%s#%s@%s = %v, want %v", tc.ns, tc.obj, tc.perm, tc.subject, got, tc.want)
			}
		})
	}
	t.Run("subject set as the checked subject", func(t *testing.T) {
		if !a.allowed(t, tup("Project", "api", "viewers", "set:Organization:beta#members")) {
			t.Error("Project:api#viewers@Organization:beta#members should hold")
		}
	})
	t.Run("batch-check answers in order", func(t *testing.T) {
		checks := []tuple{tup("Organization", "acme", "manage", "bob"), tup("Organization", "acme", "manage", "carol"),
			tup("Project", "web", "view", "dave"), tup("Project", "api", "view", "carol")}
		var res struct {
			Results []struct {
				Allowed bool   `json:"allowed"`
				Error   string `json:"error"`
			} `json:"results"`
		}
		if resp := a.Do("POST", "/api/keto/batch-check", map[string]any{"tuples": checks}, &res); resp.StatusCode != 200 {
			t.Fatalf("batch-check: %d", resp.StatusCode)
		}
		want := []bool{true, false, true, false}
		for i, r := range res.Results {
			if r.Allowed != want[i] || r.Error != "" {
				t.Errorf("result %d = %+v, want allowed=%v", i, r, want[i])
			}
		}
	})
	t.Run("expand shows clean names", func(t *testing.T) {
		var tree struct {
			Type     string `json:"type"`
			Tuple    tuple  `json:"tuple"`
			Children []struct {
				Type  string `json:"type"`
				Tuple tuple  `json:"tuple"`
			} `json:"children"`
		}
		if resp := a.Do("GET", "/api/keto/expand?namespace=Project&object=api&relation=viewers", nil, &tree); resp.StatusCode != 200 {
			t.Fatalf("expand: %d", resp.StatusCode)
		}
		root := tree.Tuple["subject_set"].(map[string]any)
		if tree.Type != "union" || root["object"] != "api" || root["namespace"] != "Project" {
			t.Errorf("root = %s %v", tree.Type, tree.Tuple)
		}
		if len(tree.Children) != 1 {
			t.Fatalf("children = %+v", tree.Children)
		}
		set := tree.Children[0].Tuple["subject_set"].(map[string]any)
		if set["object"] != "beta" || set["namespace"] != "Organization" || set["relation"] != "members" {
			t.Errorf("child = %v", tree.Children[0].Tuple)
		}
	})
	t.Run("list filters and pages", func(t *testing.T) {
		got := a.list(t, url.Values{"namespace": {"Organization"}, "object": {"acme"}, "page_size": {"1"}})
		if len(got) != 4 {
			t.Errorf("acme tuples = %v", got)
		}
		for _, tp := range got {
			if tp["object"] != "acme" {
				t.Errorf("object %v is not the clean name", tp["object"])
			}
		}
		if got := a.list(t, url.Values{"subject_id": {"frank"}}); len(got) != 1 || got[0]["relation"] != "editors" {
			t.Errorf("frank's tuples = %v", got)
		}
	})
}
