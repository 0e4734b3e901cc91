package keto_test

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/keto"
	"github.com/trussdev/truss/internal/keto/opl"
	"github.com/trussdev/truss/internal/testenv"
)

// An ACL model: documents in folders, viewers inherited from the folder.
const aclModel = `import { Namespace, Context } from "@ory/keto-namespace-types"

class Folder implements Namespace {
  related: {
    viewers: User[]
  }
}

class Document implements Namespace {
  related: {
    parents: Folder[]
    owners: User[]
    viewers: (User | SubjectSet<Organization, "members">)[]
  }

  permits = {
    edit: (ctx: Context): boolean => this.related.owners.includes(ctx.subject),
    view: (ctx: Context): boolean =>
      this.permits.edit(ctx) ||
      this.related.viewers.includes(ctx.subject) ||
      this.related.parents.traverse((f) => f.related.viewers.includes(ctx.subject)),
  }
}
`

type modelResp struct {
	Version      int      `json:"version"`
	OPL          string   `json:"opl"`
	Namespaces   []string `json:"namespaces"`
	Default      bool     `json:"default"`
	RestoredFrom *int     `json:"restored_from"`
	Active       bool     `json:"active"`
	Loaded       bool     `json:"loaded"`
}

// loaded polls GET /api/keto/namespaces until ns is (or is not) usable.
func (c *tenant) waitNamespace(t *testing.T, ns string, present bool) {
	t.Helper()
	eventually(t, fmt.Sprintf("namespace %s loaded=%v", ns, present), func() bool {
		var res struct {
			Namespaces []struct {
				Name   string `json:"name"`
				Loaded bool   `json:"loaded"`
			} `json:"namespaces"`
		}
		c.Do("GET", "/api/keto/namespaces", nil, &res)
		for _, n := range res.Namespaces {
			if n.Name == ns {
				return present && n.Loaded
			}
		}
		return !present
	})
}

func TestCustomModel(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a, b := newTenant(t, srv.URL), newTenant(t, srv.URL)

	t.Run("broken OPL is rejected with Keto's line and column", func(t *testing.T) {
		for _, tc := range []struct {
			src          string
			line, column int
			msg          string
		}{
			{"class Doc implements Namespace {\n  related: {\n    viewers: Nope[]\n  }\n}\n", 3, 13, `namespace "Nope" was not declared`},
			{"class Doc implements Namespace {\n  related: { viewers: User[] }\n  permits = {\n    view: (ctx: Context): boolean => this.related.readers.includes(ctx.subject),\n  }\n}\n", 4, 50, `did not declare relation "readers"`},
			{"class Doc implements Namespace {\n  related: { x: User[] \n}\n", 4, 0, "at the end of your model"},
			{"class TrussTenant implements Namespace {}", 1, 6, "reserved"},
		} {
			var e apiError
			resp := a.text("PUT", "/api/keto/model", tc.src, &e)
			errs, _ := e.Error.Details["errors"].([]any)
			if resp.StatusCode != 422 || e.Error.Code != "invalid_opl" || len(errs) == 0 {
				t.Fatalf("PUT %q = %d %+v", tc.src, resp.StatusCode, e.Error)
			}
			first := errs[0].(map[string]any)
			start := first["start"].(map[string]any)
			if start["line"] != float64(tc.line) || start["column"] != float64(tc.column) || !strings.Contains(first["message"].(string), tc.msg) {
				t.Errorf("%q: first error %v, want %d:%d %q", tc.src, first, tc.line, tc.column, tc.msg)
			}
		}
		var m modelResp
		a.Do("GET", "/api/keto/model", nil, &m)
		if m.Version != 0 || !m.Default {
			t.Errorf("a rejected model changed the active one: %+v", m)
		}
	})

	t.Run("check validates without saving", func(t *testing.T) {
		var res struct {
			Valid      bool     `json:"valid"`
			Namespaces []string `json:"namespaces"`
		}
		if resp := a.Do("POST", "/api/keto/model/check", map[string]any{"opl": aclModel}, &res); resp.StatusCode != 200 || !res.Valid ||
			strings.Join(res.Namespaces, ",") != "Folder,Document" {
			t.Errorf("check = %d %+v", resp.StatusCode, res)
		}
	})

	var v1 modelResp
	t.Run("a valid model takes effect without restarting Keto", func(t *testing.T) {
		if resp := a.text("PUT", "/api/keto/model", aclModel, &v1); resp.StatusCode != 200 || v1.Version != 1 || !v1.Loaded {
			t.Fatalf("PUT model = %d %+v", resp.StatusCode, v1)
		}
		a.waitNamespace(t, "Document", true)
		a.put(t,
			tup("Folder", "reports", "viewers", "vera"),
			tup("Document", "q3", "parents", "set:Folder:reports"),
			tup("Document", "q3", "owners", "olga"),
			tup("Document", "q3", "viewers", "set:Organization:acme#members"),
			tup("Organization", "acme", "members", "mia"),
		)
		for _, tc := range []struct {
			rel, subject string
			want         bool
		}{
			{"edit", "olga", true}, {"view", "olga", true}, {"view", "vera", true}, {"edit", "vera", false},
			{"view", "mia", true}, {"view", "eve", false},
		} {
			if got := a.allowed(t, tup("Document", "q3", tc.rel, tc.subject)); got != tc.want {
				t.Errorf("Document:q3#%s@%s = %v, want %v", tc.rel, tc.subject, got, tc.want)
			}
		}
		// Stored in Keto under the tenant's own namespace name.
		var raw page
		ketoDirect(t, "GET", "read", "/relation-tuples?namespace="+opl.TenantNamespace(a.ID, "Document"), nil, &raw)
		if len(raw.RelationTuples) != 3 {
			t.Errorf("Keto holds %d tuples in A's Document namespace", len(raw.RelationTuples))
		}
	})

	t.Run("other tenants do not see it", func(t *testing.T) {
		var e apiError
		if resp := b.Do("PUT", "/api/keto/relation-tuples", tup("Document", "q3", "owners", "mallory"), &e); resp.StatusCode != 400 {
			t.Errorf("B writing a Document = %d", resp.StatusCode)
		}
		if resp := b.Do("POST", "/api/keto/check", tup(opl.TenantNamespace(a.ID, "Document"), "q3", "view", "olga"), &e); resp.StatusCode != 400 {
			t.Errorf("B checking A's Keto namespace by name = %d", resp.StatusCode)
		}
		var m modelResp
		b.Do("GET", "/api/keto/model", nil, &m)
		if !m.Default {
			t.Errorf("B's model = %+v", m)
		}
	})

	t.Run("versions and restore", func(t *testing.T) {
		v2src := aclModel + "\nclass Team implements Namespace {\n  related: { members: User[] }\n}\n"
		var v2 modelResp
		if resp := a.Do("PUT", "/api/keto/model", map[string]any{"opl": v2src}, &v2); resp.StatusCode != 200 || v2.Version != 2 {
			t.Fatalf("PUT v2 = %d %+v", resp.StatusCode, v2)
		}
		a.waitNamespace(t, "Team", true)
		a.put(t, tup("Team", "core", "members", "tom"))
		var list struct {
			Versions []modelResp `json:"versions"`
		}
		a.Do("GET", "/api/keto/model/versions", nil, &list)
		if len(list.Versions) != 2 || list.Versions[0].Version != 2 || !list.Versions[0].Active || list.Versions[1].Active {
			t.Errorf("versions = %+v", list.Versions)
		}
		var old modelResp
		if a.Do("GET", "/api/keto/model/versions/1", nil, &old); old.OPL != aclModel {
			t.Errorf("version 1 source = %q", old.OPL)
		}
		var v3 modelResp
		if resp := a.Do("POST", "/api/keto/model/versions/1/restore", nil, &v3); resp.StatusCode != 200 || v3.Version != 3 ||
			v3.RestoredFrom == nil || *v3.RestoredFrom != 1 {
			t.Fatalf("restore = %d %+v", resp.StatusCode, v3)
		}
		a.waitNamespace(t, "Team", false)
		var e apiError
		if resp := a.Do("PUT", "/api/keto/relation-tuples", tup("Team", "core", "members", "tom"), &e); resp.StatusCode != 400 {
			t.Errorf("Team after restoring v1 = %d", resp.StatusCode)
		}
		if !a.allowed(t, tup("Document", "q3", "view", "vera")) {
			t.Error("Document grants lost by the restore")
		}
		if resp := a.Do("POST", "/api/keto/model/versions/9/restore", nil, &e); resp.StatusCode != 404 {
			t.Errorf("restore of a missing version = %d", resp.StatusCode)
		}
	})

	t.Run("the file is rewritten when Keto lost the tenant's section", func(t *testing.T) {
		path := os.Getenv("KETO_NAMESPACES_FILE")
		unlock, err := keto.LockNamespacesFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		f := opl.ParseFile(string(b))
		delete(f.Sections, a.ID)
		f.Revision++
		err = os.WriteFile(path, []byte(f.Render()), 0o600)
		unlock()
		if err != nil {
			t.Fatal(err)
		}
		// Truss notices on its next model load (the cache lasts 2 s).
		eventually(t, "Document usable again", func() bool {
			var res struct{ Allowed bool }
			resp := a.Do("POST", "/api/keto/check", tup("Document", "q3", "view", "vera"), &res)
			return resp.StatusCode == 200 && res.Allowed
		})
	})

	t.Run("a tenant may replace a default namespace", func(t *testing.T) {
		a.put(t, tup("Project", "old", "viewers", "pat"))
		own := aclModel + "\nclass Project implements Namespace {\n  related: { members: User[] }\n  permits = { view: (ctx: Context): boolean => this.related.members.includes(ctx.subject) }\n}\n"
		var m modelResp
		if resp := a.text("PUT", "/api/keto/model", own, &m); resp.StatusCode != 200 {
			t.Fatalf("PUT = %d", resp.StatusCode)
		}
		a.put(t, tup("Project", "new", "members", "pat"))
		if !a.allowed(t, tup("Project", "new", "view", "pat")) || a.allowed(t, tup("Project", "old", "view", "pat")) {
			t.Error("the tenant's Project does not replace the default one")
		}
		if got := a.list(t, url.Values{"namespace": {"Project"}}); len(got) != 1 || got[0]["object"] != "new" {
			t.Errorf("Project tuples = %v", got)
		}
		// Back to the default model: the default Project's tuples return.
		if resp := a.Do("PUT", "/api/keto/model", map[string]any{"opl": ""}, &m); resp.StatusCode != 200 || !m.Default {
			t.Fatalf("reset = %d %+v", resp.StatusCode, m)
		}
		a.waitNamespace(t, "Document", false)
		if !a.allowed(t, tup("Project", "old", "view", "pat")) {
			t.Error("default Project grant lost")
		}
	})
}

// TestModelChangesNeedManage: Keto (TrussTenant#manage) decides who may
// change a tenant's model. Without the owner tuple, even the owner may not.
func TestModelChangesNeedManage(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a := newTenant(t, srv.URL)
	var m modelResp
	if resp := a.Do("PUT", "/api/keto/model", map[string]any{"opl": "class Note implements Namespace {}"}, &m); resp.StatusCode != 200 {
		t.Fatalf("owner PUT = %d", resp.StatusCode)
	}
	var owners page
	ketoDirect(t, "GET", "read", "/relation-tuples?namespace=TrussTenant&object="+a.ID, nil, &owners)
	if len(owners.RelationTuples) != 1 || owners.RelationTuples[0]["relation"] != "owners" {
		t.Fatalf("TrussTenant tuples = %v", owners.RelationTuples)
	}
	ketoDirect(t, "DELETE", "write", "/admin/relation-tuples?namespace=TrussTenant&object="+a.ID, nil, nil)
	var e apiError
	if resp := a.Do("PUT", "/api/keto/model", map[string]any{"opl": ""}, &e); resp.StatusCode != 403 {
		t.Errorf("PUT without TrussTenant#manage = %d %+v", resp.StatusCode, e.Error)
	}
}

// TestHealth: all four parts up on the dev stack.
func TestHealth(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a := newTenant(t, srv.URL)
	var rep struct {
		Status       string `json:"status"`
		Dependencies map[string]struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"dependencies"`
	}
	if resp := a.Do("GET", "/api/keto/health", nil, &rep); resp.StatusCode != 200 || rep.Status != "ok" {
		t.Fatalf("health = %d %+v", resp.StatusCode, rep)
	}
	for _, d := range []string{"keto_read", "keto_write", "keto_opl", "keto_namespaces_file"} {
		if rep.Dependencies[d].Status != "up" {
			t.Errorf("%s = %+v", d, rep.Dependencies[d])
		}
	}
}
