package orgs_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const password = testenv.Password

// apiError is the API's error envelope.
type apiError testenv.APIError

// user is a signed-in account (every account is its own tenant).
type user struct {
	*testenv.Browser
	name     string
	ID       string
	TenantID string
}

func newUser(t *testing.T, base, name string) *user {
	t.Helper()
	b := testenv.NewBrowser(t, base)
	b.Do("GET", "/api/auth/register", nil, nil)
	email := "o-" + name + "-" + strings.ToLower(rand.Text()[:10]) + "@example.com"
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register %s: %d", name, resp.StatusCode)
	}
	var p struct {
		IdentityID string `json:"identity_id"`
		TenantID   string `json:"tenant_id"`
	}
	b.Do("GET", "/api/auth/session", nil, &p)
	if p.IdentityID == "" || p.TenantID == "" {
		t.Fatalf("%s: no identity or tenant in the session", name)
	}
	return &user{Browser: b, name: name, ID: p.IdentityID, TenantID: p.TenantID}
}

// expect sends a request and fails unless the status is want; a success
// body is decoded into out (when non-nil).
func (u *user) expect(t *testing.T, want int, method, path string, body, out any) {
	t.Helper()
	var raw json.RawMessage
	resp := u.Do(method, path, body, &raw)
	if resp.StatusCode != want {
		t.Fatalf("%s: %s %s = %d, want %d: %s", u.name, method, path, resp.StatusCode, want, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// forbidden expects 403 forbidden naming perm.
func (u *user) forbidden(t *testing.T, perm, method, path string, body any) {
	t.Helper()
	var e apiError
	resp := u.Do(method, path, body, &e)
	if resp.StatusCode != 403 || e.Error.Code != "forbidden" || e.Error.Details["permission"] != perm ||
		!strings.Contains(e.Error.Message, `"`+perm+`"`) {
		t.Fatalf("%s: %s %s = %d %+v, want 403 forbidden naming %q", u.name, method, path, resp.StatusCode, e.Error, perm)
	}
}

type org struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	TenantID    string          `json:"tenant_id"`
	Role        string          `json:"role"`
	Permissions map[string]bool `json:"permissions"`
}

type member struct {
	Subject    string         `json:"subject"`
	SubjectSet map[string]any `json:"subject_set"`
	Role       string         `json:"role"`
}

func (u *user) orgIDs(t *testing.T) map[string]string {
	t.Helper()
	var list struct {
		Organizations []org `json:"organizations"`
	}
	if resp := u.Do("GET", "/api/orgs", nil, &list); resp.StatusCode != 200 {
		t.Fatalf("%s: GET /api/orgs = %d", u.name, resp.StatusCode)
	}
	out := map[string]string{}
	for _, o := range list.Organizations {
		out[o.ID] = o.Role
	}
	return out
}

func (u *user) perms(t *testing.T, path string) map[string]bool {
	t.Helper()
	var o org
	if resp := u.Do("GET", path, nil, &o); resp.StatusCode != 200 {
		t.Fatalf("%s: GET %s = %d", u.name, path, resp.StatusCode)
	}
	return o.Permissions
}

func role(subject, r string) map[string]any { return map[string]any{"subject": subject, "role": r} }

func TestOrganizationRolesAreKetoTuples(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	owner := newUser(t, srv.URL, "owner")
	memberU := newUser(t, srv.URL, "member")
	viewer := newUser(t, srv.URL, "viewer")
	admin := newUser(t, srv.URL, "admin")
	outsider := newUser(t, srv.URL, "outsider")
	newbie := newUser(t, srv.URL, "newbie")

	var o org
	owner.expect(t, 201, "POST", "/api/orgs", map[string]any{"name": "  Acme  "}, &o)
	if o.Role != "owner" || o.TenantID != owner.TenantID || o.Name != "Acme" {
		t.Fatalf("created org %+v", o)
	}
	if r := owner.orgIDs(t)[o.ID]; r != "owner" {
		t.Fatalf("owner's GET /api/orgs role %q", r)
	}
	base := "/api/orgs/" + o.ID
	members := base + "/members"

	owner.expect(t, 201, "PUT", members, role(memberU.ID, "member"), nil)
	owner.expect(t, 201, "PUT", members, role(viewer.ID, "viewer"), nil)
	owner.expect(t, 201, "PUT", members, role(admin.ID, "admin"), nil)
	owner.expect(t, 200, "PUT", members, role(admin.ID, "admin"), nil) // unchanged

	t.Run("the owner's permissions", func(t *testing.T) {
		p := owner.perms(t, base)
		if !p["view"] || !p["edit"] || !p["manage"] || !p["delete"] {
			t.Errorf("owner permissions %v", p)
		}
		// The role is a tuple in Keto's Organization namespace, on an
		// object no tenant can spell through /api/keto.
		q := url.Values{"namespace": {"Organization"}, "object": {"truss:" + owner.TenantID + ":" + o.ID}, "relation": {"owners"}}
		resp, err := http.Get(os.Getenv("KETO_READ_URL") + "/relation-tuples?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct {
			RelationTuples []struct {
				SubjectID string `json:"subject_id"`
			} `json:"relation_tuples"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&page)
		if len(page.RelationTuples) != 1 || page.RelationTuples[0].SubjectID != owner.ID {
			t.Errorf("Keto holds owners %+v", page.RelationTuples)
		}
	})

	t.Run("a member views but does not manage", func(t *testing.T) {
		p := memberU.perms(t, base)
		if !p["view"] || !p["edit"] || p["manage"] || p["delete"] {
			t.Errorf("member permissions %v", p)
		}
		memberU.forbidden(t, "manage", "PUT", members, role(newbie.ID, "viewer"))
		memberU.forbidden(t, "manage", "DELETE", members+"/"+viewer.ID, nil)
		var ms struct {
			Members []member `json:"members"`
		}
		memberU.expect(t, 200, "GET", members, nil, &ms)
		got := map[string]string{}
		for _, m := range ms.Members {
			got[m.Subject] = m.Role
		}
		want := map[string]string{owner.ID: "owner", memberU.ID: "member", viewer.ID: "viewer", admin.ID: "admin"}
		if len(got) != len(want) {
			t.Fatalf("members %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("member %s has role %q, want %q", k, got[k], v)
			}
		}
		// Members come from other accounts: the org shows in their list.
		if r := memberU.orgIDs(t)[o.ID]; r != "member" {
			t.Errorf("member's GET /api/orgs role %q", r)
		}
	})

	t.Run("a viewer only views", func(t *testing.T) {
		p := viewer.perms(t, base)
		if !p["view"] || p["edit"] {
			t.Errorf("viewer permissions %v", p)
		}
		viewer.forbidden(t, "edit", "POST", base+"/projects", map[string]any{"name": "nope"})
		viewer.forbidden(t, "manage", "PUT", members, role(viewer.ID, "admin"))
	})

	t.Run("an admin adds members but cannot touch owners", func(t *testing.T) {
		admin.expect(t, 201, "PUT", members, role(newbie.ID, "viewer"), nil)
		admin.forbidden(t, "delete", "PUT", members, role(admin.ID, "owner"))
		admin.forbidden(t, "delete", "DELETE", members+"/"+owner.ID, nil)
		admin.forbidden(t, "delete", "PUT", members, role(owner.ID, "viewer"))
		admin.expect(t, 204, "DELETE", members+"/"+newbie.ID, nil, nil)
		if _, ok := newbie.orgIDs(t)[o.ID]; ok {
			t.Error("a removed viewer still lists the org")
		}
	})

	var proj struct {
		ID    string `json:"id"`
		OrgID string `json:"org_id"`
	}
	t.Run("projects inherit from the organization", func(t *testing.T) {
		if resp := memberU.Do("POST", base+"/projects", map[string]any{"name": "web"}, &proj); resp.StatusCode != 201 || proj.OrgID != o.ID {
			t.Fatalf("member creates a project = %d %+v", resp.StatusCode, proj)
		}
		var list struct {
			Projects []struct {
				ID string `json:"id"`
			} `json:"projects"`
		}
		viewer.expect(t, 200, "GET", base+"/projects", nil, &list)
		if len(list.Projects) != 1 || list.Projects[0].ID != proj.ID {
			t.Errorf("viewer lists projects %+v", list.Projects)
		}
		pp := "/api/projects/" + proj.ID
		if p := viewer.perms(t, pp); !p["view"] || p["edit"] {
			t.Errorf("org viewer's project permissions %v (want view through the organization)", p)
		}
		if p := memberU.perms(t, pp); !p["edit"] || p["manage"] {
			t.Errorf("org member's project permissions %v (want edit as the org's members are editors)", p)
		}
		if p := admin.perms(t, pp); !p["manage"] || p["delete"] {
			t.Errorf("org admin's project permissions %v (want manage inherited)", p)
		}
		if p := owner.perms(t, pp); !p["delete"] {
			t.Errorf("org owner's project permissions %v", p)
		}
		memberU.forbidden(t, "manage", "PUT", pp+"/members", role(outsider.ID, "viewer"))
		admin.forbidden(t, "delete", "PUT", pp+"/members", role(outsider.ID, "owner"))
		outsider.expect(t, 404, "GET", pp, nil, nil)
		admin.expect(t, 201, "PUT", pp+"/members", role(outsider.ID, "viewer"), nil)
		// A project viewer sees the project, not its organization.
		if p := outsider.perms(t, pp); !p["view"] || p["edit"] {
			t.Errorf("project viewer's permissions %v", p)
		}
		outsider.expect(t, 404, "GET", base, nil, nil)
		var ms struct {
			Members []member `json:"members"`
		}
		outsider.expect(t, 200, "GET", pp+"/members", nil, &ms)
		var sawOrgMembers, sawOutsider bool
		for _, m := range ms.Members {
			sawOutsider = sawOutsider || (m.Subject == outsider.ID && m.Role == "viewer")
			sawOrgMembers = sawOrgMembers || (m.SubjectSet != nil && m.SubjectSet["object"] == o.ID && m.SubjectSet["relation"] == "members" && m.Role == "editor")
		}
		if !sawOrgMembers || !sawOutsider {
			t.Errorf("project members %+v", ms.Members)
		}
		admin.expect(t, 204, "DELETE", pp+"/members/"+outsider.ID, nil, nil)
		outsider.expect(t, 404, "GET", pp, nil, nil)
	})

	t.Run("hostile: another account sees and changes nothing", func(t *testing.T) {
		if _, ok := outsider.orgIDs(t)[o.ID]; ok {
			t.Error("the outsider lists the org")
		}
		outsider.expect(t, 404, "GET", base, nil, nil)
		outsider.expect(t, 404, "GET", members, nil, nil)
		outsider.expect(t, 404, "PUT", members, role(outsider.ID, "owner"), nil)
		outsider.expect(t, 404, "DELETE", members+"/"+owner.ID, nil, nil)
		outsider.expect(t, 404, "POST", base+"/projects", map[string]any{"name": "x"}, nil)
		outsider.expect(t, 404, "GET", base+"/projects", nil, nil)
		outsider.expect(t, 404, "PUT", "/api/projects/"+proj.ID+"/members", role(outsider.ID, "owner"), nil)
		// Raw Keto through /api/keto cannot spell Truss's org objects:
		// the outsider's tuples land in its own tenant...
		obj := "truss:" + owner.TenantID + ":" + o.ID
		var e apiError
		resp := outsider.Do("PUT", "/api/keto/relation-tuples", map[string]any{"namespace": "Organization", "object": obj,
			"relation": "owners", "subject_id": outsider.ID}, &e)
		if resp.StatusCode >= 300 && resp.StatusCode != 400 {
			t.Fatalf("outsider PUT tuple = %d", resp.StatusCode)
		}
		outsider.expect(t, 404, "GET", base, nil, nil)
		outsider.expect(t, 404, "PUT", members, role(outsider.ID, "owner"), nil)
		// ...and the owning account's own /api/keto neither lists nor
		// deletes them.
		var page struct {
			RelationTuples []map[string]any `json:"relation_tuples"`
		}
		owner.expect(t, 200, "GET", "/api/keto/relation-tuples?"+url.Values{"namespace": {"Organization"}}.Encode(), nil, &page)
		if len(page.RelationTuples) != 0 {
			t.Errorf("the owning tenant's /api/keto lists %v", page.RelationTuples)
		}
		owner.expect(t, 204, "DELETE", "/api/keto/relation-tuples?namespace=Organization", nil, nil)
		owner.expect(t, 204, "DELETE", "/api/keto/relation-tuples?namespace=Organization&subject_id="+owner.ID, nil, nil)
		if p := owner.perms(t, base); !p["delete"] {
			t.Error("the owner lost its role through /api/keto")
		}
	})

	t.Run("removing a member takes effect at once", func(t *testing.T) {
		memberU.expect(t, 200, "GET", base, nil, nil)
		owner.expect(t, 204, "DELETE", members+"/"+memberU.ID, nil, nil)
		memberU.expect(t, 404, "GET", base, nil, nil)
		memberU.expect(t, 404, "GET", "/api/projects/"+proj.ID, nil, nil)
		memberU.expect(t, 404, "POST", base+"/projects", map[string]any{"name": "late"}, nil)
		if _, ok := memberU.orgIDs(t)[o.ID]; ok {
			t.Error("a removed member still lists the org")
		}
		// Demoting takes effect at once too.
		owner.expect(t, 200, "PUT", members, role(admin.ID, "viewer"), nil)
		admin.forbidden(t, "manage", "PUT", members, role(newbie.ID, "viewer"))
		owner.expect(t, 200, "PUT", members, role(admin.ID, "admin"), nil)
	})

	t.Run("the last owner stays", func(t *testing.T) {
		var e apiError
		if resp := owner.Do("DELETE", members+"/"+owner.ID, nil, &e); resp.StatusCode != 409 || e.Error.Code != "last_owner" {
			t.Fatalf("removing the last owner = %d %+v", resp.StatusCode, e.Error)
		}
		if resp := owner.Do("PUT", members, role(owner.ID, "admin"), &e); resp.StatusCode != 409 || e.Error.Code != "last_owner" {
			t.Fatalf("demoting the last owner = %d %+v", resp.StatusCode, e.Error)
		}
		owner.expect(t, 200, "PUT", members, role(admin.ID, "owner"), nil)
		owner.expect(t, 200, "PUT", members, role(owner.ID, "viewer"), nil)
		owner.forbidden(t, "manage", "PUT", members, role(owner.ID, "owner"))
		if resp := admin.Do("DELETE", members+"/"+admin.ID, nil, &e); resp.StatusCode != 409 || e.Error.Code != "last_owner" {
			t.Fatalf("removing the new last owner = %d %+v", resp.StatusCode, e.Error)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		admin.expect(t, 422, "PUT", members, role("not-an-id", "member"), nil)
		admin.expect(t, 422, "PUT", members, role(newbie.ID, "superuser"), nil)
		admin.expect(t, 422, "DELETE", members+"/nope", nil, nil)
		admin.expect(t, 422, "POST", "/api/orgs", map[string]any{"name": "  "}, nil)
		admin.expect(t, 400, "POST", "/api/orgs", map[string]any{"name": "x", "owner": "y"}, nil)
		admin.expect(t, 404, "GET", "/api/orgs/not-a-uuid", nil, nil)
		admin.expect(t, 404, "GET", "/api/orgs/00000000-0000-0000-0000-000000000000", nil, nil)
		admin.expect(t, 404, "GET", "/api/projects/00000000-0000-0000-0000-000000000000", nil, nil)
		anon := testenv.NewBrowser(t, srv.URL)
		if resp := anon.Do("GET", "/api/orgs", nil, nil); resp.StatusCode != 401 {
			t.Errorf("anonymous GET /api/orgs = %d", resp.StatusCode)
		}
	})
}

// TestLastOwnerUnderRace: two owners removing each other at once leave
// exactly one owner (changes to an organization's roles are serialized).
func TestLastOwnerUnderRace(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	a, b := newUser(t, srv.URL, "a"), newUser(t, srv.URL, "b")
	var o org
	a.expect(t, 201, "POST", "/api/orgs", map[string]any{"name": "race"}, &o)
	members := "/api/orgs/" + o.ID + "/members"
	a.expect(t, 201, "PUT", members, role(b.ID, "owner"), nil)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, pair := range [][2]*user{{a, b}, {b, a}} {
		wg.Go(func() { codes[i] = pair[0].Do("DELETE", members+"/"+pair[1].ID, nil, nil).StatusCode })
	}
	wg.Wait()
	var ms struct {
		Members []member `json:"members"`
	}
	survivor := a // a removed b
	if codes[0] != 204 {
		survivor = b
	}
	survivor.expect(t, 200, "GET", members, nil, &ms)
	if len(ms.Members) != 1 || ms.Members[0].Role != "owner" || ms.Members[0].Subject != survivor.ID {
		t.Fatalf("after the race (%v): members %+v", codes, ms.Members)
	}
	if !(codes[0] == 204 && codes[1] != 204 || codes[1] == 204 && codes[0] != 204) {
		t.Errorf("statuses %v: want one 204 and one refusal", codes)
	}
}
