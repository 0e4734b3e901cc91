package auth_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/ory"
	"github.com/trussdev/truss/internal/testenv"
)

type adminIdentity struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	State         string `json:"state"`
	EmailVerified bool   `json:"email_verified"`
	IsAdmin       bool   `json:"is_admin"`
}

type adminIDList struct {
	Identities    []adminIdentity `json:"identities"`
	NextPageToken string          `json:"next_page_token"`
}

type adminSessList struct {
	Sessions []struct {
		ID         string `json:"id"`
		IdentityID string `json:"identity_id"`
		Active     bool   `json:"active"`
	} `json:"sessions"`
}

var adminUUIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// adminStack starts a server whose bootstrap admin (created the way
// `truss serve` does at start-up) is signed in in the returned browser.
func adminStack(t *testing.T) (srv string, admin *testenv.Browser, adminID string, pool *pgxpool.Pool) {
	t.Helper()
	email := uniqueEmail()
	s, cfg := testenv.Server(t, map[string]string{
		"TRUSS_BOOTSTRAP_ADMIN_EMAIL": email, "TRUSS_BOOTSTRAP_ADMIN_PASSWORD": password})
	pool = testenv.Pool(t, cfg) // the server's database, for checking the audit log
	res, err := auth.New(cfg, ory.New(cfg), pool, testenv.Logger(t)).Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	admin, p := adminSignIn(t, s.URL, email, password)
	if !p.IsAdmin {
		t.Fatalf("bootstrap admin is not an admin: %+v", p)
	}
	return s.URL, admin, res.IdentityID, pool
}

// adminSignIn logs in a fresh browser; it fails the test unless the login works.
func adminSignIn(t *testing.T, base, email, pw string) (*testenv.Browser, principal) {
	t.Helper()
	b := testenv.NewBrowser(t, base)
	b.Do("GET", "/api/auth/login", nil, nil) // the CSRF cookie
	var p principal
	if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": pw}, &p); resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d", email, resp.StatusCode)
	}
	return b, p
}

// adminLoginStatus tries a login in a fresh browser and returns the status.
func adminLoginStatus(t *testing.T, base, email, pw string) int {
	t.Helper()
	b := testenv.NewBrowser(t, base)
	b.Do("GET", "/api/auth/login", nil, nil)
	return b.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": pw}, nil).StatusCode
}

func adminWantError(t *testing.T, what string, resp *http.Response, e apiError, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || e.Error.Code != code {
		t.Fatalf("%s: %d %q (%s), want %d %q", what, resp.StatusCode, e.Error.Code, e.Error.Message, status, code)
	}
}

func adminRandomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// adminRoutes is every admin endpoint with a body it would accept; {id} is
// replaced per test.
var adminRoutes = []struct {
	method, path string
	body         any
}{
	{"GET", "/api/admin/identities", nil},
	{"POST", "/api/admin/identities", map[string]any{"email": "x@example.com"}},
	{"POST", "/api/admin/identities/import", []map[string]any{{"email": "x@example.com"}}},
	{"GET", "/api/admin/identities/{id}", nil},
	{"DELETE", "/api/admin/identities/{id}", nil},
	{"PATCH", "/api/admin/identities/{id}/state", map[string]any{"state": "inactive"}},
	{"POST", "/api/admin/identities/{id}/reset-password", map[string]any{"password": "another long passphrase 1"}},
	{"POST", "/api/admin/identities/{id}/recovery-link", map[string]any{}},
	{"GET", "/api/admin/identities/{id}/sessions", nil},
	{"DELETE", "/api/admin/identities/{id}/sessions", nil},
	{"GET", "/api/admin/identities/{id}/logins", nil},
	{"DELETE", "/api/admin/sessions/{id}", nil},
}

func TestAdminEndpointsRefuseNonAdminsAndAnonymous(t *testing.T) {
	t.Parallel()
	base, admin, _, _ := adminStack(t)

	// A signed-in user who is not an admin; the admin endpoints must refuse
	// them even for their own identity.
	userEmail := uniqueEmail()
	user := testenv.NewBrowser(t, base)
	user.Do("GET", "/api/auth/register", nil, nil)
	var up principal
	if resp := user.Do("POST", "/api/auth/register", map[string]any{"email": userEmail, "password": password}, &up); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	anon := testenv.NewBrowser(t, base)
	anon.Do("GET", "/api/auth/login", nil, nil)

	for _, rt := range adminRoutes {
		path := strings.ReplaceAll(rt.path, "{id}", up.IdentityID)
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var e apiError
			adminWantError(t, "non-admin", user.Do(rt.method, path, rt.body, &e), e, http.StatusForbidden, "forbidden")
			e = apiError{}
			adminWantError(t, "anonymous", anon.Do(rt.method, path, rt.body, &e), e, http.StatusUnauthorized, "unauthorized")
		})
	}
	// The user's account is untouched by all of that.
	if adminLoginStatus(t, base, userEmail, password) != http.StatusOK {
		t.Fatal("the non-admin's account was changed by refused admin calls")
	}

	// For the admin, a malformed id is a 422 (never a Kratos 400) and an
	// unknown one a 404.
	for _, rt := range adminRoutes {
		if !strings.Contains(rt.path, "{id}") {
			continue
		}
		t.Run("admin "+rt.method+" "+rt.path, func(t *testing.T) {
			var e apiError
			resp := admin.Do(rt.method, strings.ReplaceAll(rt.path, "{id}", "not-a-uuid"), rt.body, &e)
			adminWantError(t, "malformed id", resp, e, http.StatusUnprocessableEntity, "validation_failed")
			wantCode := "identity_not_found"
			if strings.HasPrefix(rt.path, "/api/admin/sessions/") {
				wantCode = "session_not_found"
			}
			e = apiError{}
			resp = admin.Do(rt.method, strings.ReplaceAll(rt.path, "{id}", adminRandomUUID()), rt.body, &e)
			adminWantError(t, "unknown id", resp, e, http.StatusNotFound, wantCode)
		})
	}
}

// TestAdminIdentityLifecycle: create → get → list/search → deactivate (the
// user's session dies at once) → reactivate → reset password → recovery
// code → sessions → revoke all → revoke one → delete.
func TestAdminIdentityLifecycle(t *testing.T) {
	t.Parallel()
	base, admin, adminID, pool := adminStack(t)
	email := uniqueEmail()

	var created adminIdentity
	resp := admin.Do("POST", "/api/admin/identities", map[string]any{"email": email, "name": "Grace", "password": password}, &created)
	if resp.StatusCode != http.StatusCreated || !adminUUIDRE.MatchString(created.ID) || created.Email != email ||
		created.Name != "Grace" || created.State != "active" || !created.EmailVerified {
		t.Fatalf("create: %d %+v", resp.StatusCode, created)
	}
	var e apiError
	adminWantError(t, "create again", admin.Do("POST", "/api/admin/identities", map[string]any{"email": strings.ToUpper(email)}, &e), e,
		http.StatusConflict, "account_exists")
	e = apiError{}
	adminWantError(t, "create with a bad email", admin.Do("POST", "/api/admin/identities", map[string]any{"email": "nope@"}, &e), e,
		http.StatusUnprocessableEntity, "validation_failed")
	e = apiError{}
	adminWantError(t, "create with a short password", admin.Do("POST", "/api/admin/identities",
		map[string]any{"email": uniqueEmail(), "password": "short"}, &e), e, http.StatusUnprocessableEntity, "validation_failed")

	var got adminIdentity
	if resp := admin.Do("GET", "/api/admin/identities/"+created.ID, nil, &got); resp.StatusCode != 200 || got != created {
		t.Fatalf("get: %d %+v, want %+v", resp.StatusCode, got, created)
	}

	// Search: exact email, then a prefix (case-insensitive); paging with
	// a second account of the same prefix.
	var list adminIDList
	if resp := admin.Do("GET", "/api/admin/identities?email="+url.QueryEscape(email), nil, &list); resp.StatusCode != 200 ||
		len(list.Identities) != 1 || list.Identities[0].ID != created.ID {
		t.Fatalf("list by email: %d %+v", resp.StatusCode, list)
	}
	prefix := strings.ToUpper(email[:8])
	second := prefix + "-second@example.com"
	if resp := admin.Do("POST", "/api/admin/identities", map[string]any{"email": second}, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create second: %d", resp.StatusCode)
	}
	seen := map[string]bool{}
	token := ""
	for page := 0; page < 3; page++ {
		list = adminIDList{}
		q := "/api/admin/identities?page_size=1&search=" + url.QueryEscape(prefix)
		if token != "" {
			q += "&page_token=" + url.QueryEscape(token)
		}
		if resp := admin.Do("GET", q, nil, &list); resp.StatusCode != 200 || len(list.Identities) > 1 {
			t.Fatalf("search page %d: %d %+v", page, resp.StatusCode, list)
		}
		for _, i := range list.Identities {
			seen[strings.ToLower(i.Email)] = true
		}
		if token = list.NextPageToken; token == "" {
			break
		}
	}
	if len(seen) != 2 || !seen[email] || !seen[strings.ToLower(second)] || token != "" {
		t.Fatalf("search by prefix %q with page_size=1 saw %v (last token %q)", prefix, seen, token)
	}
	e = apiError{}
	adminWantError(t, "page_size=251", admin.Do("GET", "/api/admin/identities?page_size=251", nil, &e), e, 422, "validation_failed")
	e = apiError{}
	adminWantError(t, "bad page token", admin.Do("GET", "/api/admin/identities?page_token=not-a-token", nil, &e), e, 422, "validation_failed")

	// Deactivating kills the user's existing session at once.
	user, _ := adminSignIn(t, base, email, password)
	if resp := user.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("user session: %d", resp.StatusCode)
	}
	var st adminIdentity
	if resp := admin.Do("PATCH", "/api/admin/identities/"+created.ID+"/state", map[string]any{"state": "inactive"}, &st); resp.StatusCode != 200 || st.State != "inactive" {
		t.Fatalf("deactivate: %d %+v", resp.StatusCode, st)
	}
	if resp := user.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session of a deactivated identity: %d, want 401", resp.StatusCode)
	}
	if s := adminLoginStatus(t, base, email, password); s == http.StatusOK {
		t.Fatal("a deactivated identity could log in")
	}
	e = apiError{}
	adminWantError(t, "bad state", admin.Do("PATCH", "/api/admin/identities/"+created.ID+"/state", map[string]any{"state": "banned"}, &e), e, 422, "validation_failed")
	e = apiError{}
	adminWantError(t, "deactivate self", admin.Do("PATCH", "/api/admin/identities/"+adminID+"/state", map[string]any{"state": "inactive"}, &e), e, 409, "cannot_modify_self")
	if resp := admin.Do("PATCH", "/api/admin/identities/"+created.ID+"/state", map[string]any{"state": "active"}, &st); resp.StatusCode != 200 || st.State != "active" {
		t.Fatalf("reactivate: %d %+v", resp.StatusCode, st)
	}
	if resp := user.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("reactivation revived the old session: %d, want 401", resp.StatusCode)
	}

	// Password reset: the old password stops working, the new one works, and
	// sessions opened with the old one are revoked.
	user, _ = adminSignIn(t, base, email, password)
	newPassword := "a brand new passphrase 42"
	e = apiError{}
	adminWantError(t, "reset to a short password", admin.Do("POST", "/api/admin/identities/"+created.ID+"/reset-password",
		map[string]any{"password": "short"}, &e), e, 422, "validation_failed")
	if resp := admin.Do("POST", "/api/admin/identities/"+created.ID+"/reset-password", map[string]any{"password": newPassword}, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("reset password: %d", resp.StatusCode)
	}
	if resp := user.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session after a password reset: %d, want 401", resp.StatusCode)
	}
	if s := adminLoginStatus(t, base, email, password); s != http.StatusUnauthorized {
		t.Fatalf("old password after reset: %d, want 401", s)
	}
	if resp := admin.Do("GET", "/api/admin/identities/"+created.ID, nil, &got); resp.StatusCode != 200 || got.Name != "Grace" || !got.EmailVerified {
		t.Fatalf("the reset changed the profile: %+v", got)
	}
	user, _ = adminSignIn(t, base, email, newPassword)

	// A recovery code works once through the public recovery endpoint.
	var rec struct {
		FlowID       string `json:"flow_id"`
		RecoveryCode string `json:"recovery_code"`
		RecoveryLink string `json:"recovery_link"`
		ExpiresAt    string `json:"expires_at"`
	}
	e = apiError{}
	adminWantError(t, "expires_in=25h", admin.Do("POST", "/api/admin/identities/"+created.ID+"/recovery-link", map[string]any{"expires_in": "25h"}, &e), e, 422, "validation_failed")
	if resp := admin.Do("POST", "/api/admin/identities/"+created.ID+"/recovery-link", map[string]any{"expires_in": "30m"}, &rec); resp.StatusCode != http.StatusCreated ||
		rec.RecoveryCode == "" || !adminUUIDRE.MatchString(rec.FlowID) || !strings.Contains(rec.RecoveryLink, rec.FlowID) || rec.ExpiresAt == "" {
		t.Fatalf("recovery link: %d %+v", resp.StatusCode, rec)
	}
	recovered := testenv.NewBrowser(t, base)
	recovered.Do("GET", "/api/auth/recovery", nil, nil)
	var rp principal
	if resp := recovered.Do("POST", "/api/auth/recovery", map[string]any{"flow_id": rec.FlowID, "code": rec.RecoveryCode}, &rp); resp.StatusCode != 200 || rp.IdentityID != created.ID {
		t.Fatalf("completing the admin's recovery code: %d %+v", resp.StatusCode, rp)
	}
	again := testenv.NewBrowser(t, base)
	again.Do("GET", "/api/auth/recovery", nil, nil)
	if resp := again.Do("POST", "/api/auth/recovery", map[string]any{"flow_id": rec.FlowID, "code": rec.RecoveryCode}, nil); resp.StatusCode == 200 {
		t.Fatal("the admin's recovery code worked twice")
	}
	if resp := admin.Do("POST", "/api/admin/identities/"+created.ID+"/recovery-link", nil, &rec); resp.StatusCode != http.StatusCreated {
		t.Fatalf("recovery link without a body: %d", resp.StatusCode)
	}

	// Sessions: listed, then all revoked.
	var sl adminSessList
	if resp := admin.Do("GET", "/api/admin/identities/"+created.ID+"/sessions?active=true", nil, &sl); resp.StatusCode != 200 || len(sl.Sessions) < 2 {
		t.Fatalf("sessions: %d %+v, want the login's and the recovery's", resp.StatusCode, sl)
	}
	for _, s := range sl.Sessions {
		if !s.Active || s.IdentityID != created.ID || !adminUUIDRE.MatchString(s.ID) {
			t.Fatalf("session listed as %+v", s)
		}
	}
	if resp := admin.Do("DELETE", "/api/admin/identities/"+created.ID+"/sessions", nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke all: %d", resp.StatusCode)
	}
	for name, b := range map[string]*testenv.Browser{"login": user, "recovery": recovered} {
		if resp := b.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s session after revoke all: %d, want 401", name, resp.StatusCode)
		}
	}
	sl = adminSessList{}
	if resp := admin.Do("GET", "/api/admin/identities/"+created.ID+"/sessions?active=true", nil, &sl); resp.StatusCode != 200 || len(sl.Sessions) != 0 {
		t.Fatalf("active sessions after revoke all: %d %+v", resp.StatusCode, sl)
	}
	if resp := admin.Do("DELETE", "/api/admin/identities/"+created.ID+"/sessions", nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke all without sessions: %d", resp.StatusCode)
	}

	// One session revoked by its id; another of the same identity survives.
	kept, _ := adminSignIn(t, base, email, newPassword)
	revoked, rpr := adminSignIn(t, base, email, newPassword)
	sl = adminSessList{}
	admin.Do("GET", "/api/admin/identities/"+created.ID+"/sessions?active=true", nil, &sl)
	if len(sl.Sessions) != 2 {
		t.Fatalf("two logins, %d active sessions", len(sl.Sessions))
	}
	var page1, page2 struct {
		adminSessList
		NextPageToken string `json:"next_page_token"`
	}
	admin.Do("GET", "/api/admin/identities/"+created.ID+"/sessions?active=true&page_size=1", nil, &page1)
	admin.Do("GET", "/api/admin/identities/"+created.ID+"/sessions?active=true&page_size=1&page_token="+url.QueryEscape(page1.NextPageToken), nil, &page2)
	if len(page1.Sessions) != 1 || page1.NextPageToken == "" || len(page2.Sessions) != 1 || page2.NextPageToken != "" ||
		page1.Sessions[0].ID == page2.Sessions[0].ID {
		t.Fatalf("sessions by pages of 1: %+v then %+v", page1, page2)
	}
	var sess struct {
		SessionID string `json:"session_id"`
	}
	revoked.Do("GET", "/api/auth/session", nil, &sess)
	if sess.SessionID == "" || rpr.IdentityID != created.ID {
		t.Fatalf("session id of the second login: %+v", sess)
	}
	if resp := admin.Do("DELETE", "/api/admin/sessions/"+sess.SessionID, nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke one session: %d", resp.StatusCode)
	}
	if resp := revoked.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked session: %d, want 401", resp.StatusCode)
	}
	if resp := kept.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the other session: %d, want 200", resp.StatusCode)
	}

	// Delete: its sessions die, it is gone, a second delete is a 404.
	e = apiError{}
	adminWantError(t, "delete self", admin.Do("DELETE", "/api/admin/identities/"+adminID, nil, &e), e, 409, "cannot_modify_self")
	if resp := admin.Do("DELETE", "/api/admin/identities/"+created.ID, nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp := kept.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session of a deleted identity: %d, want 401", resp.StatusCode)
	}
	for _, m := range []string{"GET", "DELETE"} {
		e = apiError{}
		adminWantError(t, m+" after delete", admin.Do(m, "/api/admin/identities/"+created.ID, nil, &e), e, http.StatusNotFound, "identity_not_found")
	}
	if s := adminLoginStatus(t, base, email, newPassword); s != http.StatusUnauthorized {
		t.Fatalf("login of a deleted identity: %d, want 401", s)
	}

	// Every action is in the audit log with the admin as actor and the
	// identity as subject; no secret is.
	for _, action := range []string{"admin_identity_create", "admin_identity_get", "admin_identity_state", "admin_password_reset",
		"admin_recovery_link", "admin_sessions_list", "admin_sessions_revoke_all", "admin_session_revoke", "admin_identity_delete"} {
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM truss_internal.audit_events
			WHERE action = $1 AND success AND actor_id = $2 AND subject = $3`, action, adminID, created.ID).Scan(&n)
		if err != nil || n == 0 {
			t.Errorf("audit log: no successful %s by the admin on the identity (%v)", action, err)
		}
	}
	var failures, leaks int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM truss_internal.audit_events
		WHERE action = 'admin_identity_create' AND NOT success AND actor_id = $1 AND details->>'reason' = 'account_exists'`, adminID).Scan(&failures)
	if failures == 0 {
		t.Error("audit log: the refused duplicate create is missing")
	}
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM truss_internal.audit_events
		WHERE details::text LIKE '%' || $1 || '%' OR details::text LIKE '%' || $2 || '%'`, rec.RecoveryCode, newPassword).Scan(&leaks)
	if leaks != 0 {
		t.Error("audit log holds a recovery code or a password")
	}
}

type adminImportResp struct {
	Created int `json:"created"`
	Failed  int `json:"failed"`
	Results []struct {
		Index  int    `json:"index"`
		Email  string `json:"email"`
		Status string `json:"status"`
		ID     string `json:"id"`
		Error  *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"results"`
}

func TestAdminImportReportsEveryRow(t *testing.T) {
	t.Parallel()
	base, admin, _, _ := adminStack(t)
	existing := uniqueEmail()
	var orig adminIdentity
	if resp := admin.Do("POST", "/api/admin/identities", map[string]any{"email": existing}, &orig); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create existing: %d", resp.StatusCode)
	}
	fresh := uniqueEmail()
	invalid := "not-an-email-" + strings.ToLower(rand.Text()[:8])
	var out adminImportResp
	resp := admin.Do("POST", "/api/admin/identities/import", []map[string]any{
		{"email": fresh, "name": "Fresh", "password": password},
		{"email": invalid, "name": "Broken"},
		{"email": existing, "name": "Duplicate", "password": password},
	}, &out)
	if resp.StatusCode != http.StatusOK || out.Created != 1 || out.Failed != 2 || len(out.Results) != 3 {
		t.Fatalf("import: %d %+v", resp.StatusCode, out)
	}
	for i, want := range []struct{ status, code string }{{"created", ""}, {"failed", "validation_failed"}, {"failed", "account_exists"}} {
		r := out.Results[i]
		code := ""
		if r.Error != nil {
			code = r.Error.Code
		}
		if r.Index != i || r.Status != want.status || code != want.code || (r.ID != "") != (want.status == "created") {
			t.Errorf("row %d: %+v, want %s %s", i, r, want.status, want.code)
		}
	}
	// The valid row exists and signs in; the others left nothing behind.
	var got adminIdentity
	if resp := admin.Do("GET", "/api/admin/identities/"+out.Results[0].ID, nil, &got); resp.StatusCode != 200 || got.Email != fresh || !got.EmailVerified {
		t.Fatalf("imported identity: %d %+v", resp.StatusCode, got)
	}
	if s := adminLoginStatus(t, base, fresh, password); s != http.StatusOK {
		t.Fatalf("login of the imported identity: %d", s)
	}
	var list adminIDList
	admin.Do("GET", "/api/admin/identities?search="+url.QueryEscape(invalid), nil, &list)
	if len(list.Identities) != 0 {
		t.Fatalf("the invalid row created %+v", list.Identities)
	}
	list = adminIDList{}
	admin.Do("GET", "/api/admin/identities?email="+url.QueryEscape(existing), nil, &list)
	if len(list.Identities) != 1 || list.Identities[0].ID != orig.ID || list.Identities[0].Name != "" {
		t.Fatalf("the duplicate row changed the existing account: %+v", list.Identities)
	}
	if s := adminLoginStatus(t, base, existing, password); s == http.StatusOK {
		t.Fatal("the duplicate row set a password on the existing account")
	}
	// An account created without a password gets one from an admin.
	if resp := admin.Do("POST", "/api/admin/identities/"+orig.ID+"/reset-password", map[string]any{"password": password}, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("set a first password: %d", resp.StatusCode)
	}
	if s := adminLoginStatus(t, base, existing, password); s != http.StatusOK {
		t.Fatalf("login with the admin-set first password: %d", s)
	}

	// The same email twice in one batch: only the first is imported.
	twice := uniqueEmail()
	out = adminImportResp{}
	admin.Do("POST", "/api/admin/identities/import", []map[string]any{{"email": twice}, {"email": strings.ToUpper(twice)}}, &out)
	if out.Created != 1 || len(out.Results) != 2 || out.Results[1].Error == nil || out.Results[1].Error.Code != "duplicate_in_batch" {
		t.Fatalf("in-batch duplicate: %+v", out)
	}

	// 501 rows are refused as a whole.
	prefix := "imp-" + strings.ToLower(rand.Text()[:10])
	rows := make([]map[string]any, 501)
	for i := range rows {
		rows[i] = map[string]any{"email": fmt.Sprintf("%s-%d@example.com", prefix, i)}
	}
	var e apiError
	adminWantError(t, "501 rows", admin.Do("POST", "/api/admin/identities/import", rows, &e), e, http.StatusRequestEntityTooLarge, "too_many_rows")
	list = adminIDList{}
	admin.Do("GET", "/api/admin/identities?search="+prefix, nil, &list)
	if len(list.Identities) != 0 {
		t.Fatalf("a refused import created %d identities", len(list.Identities))
	}
	e = apiError{}
	adminWantError(t, "no rows", admin.Do("POST", "/api/admin/identities/import", []any{}, &e), e, 422, "validation_failed")
	e = apiError{}
	adminWantError(t, "object body", admin.Do("POST", "/api/admin/identities/import", map[string]any{"email": fresh}, &e), e, 400, "invalid_json")
	e = apiError{}
	adminWantError(t, "unknown row field", admin.Do("POST", "/api/admin/identities/import", []map[string]any{{"mail": fresh}}, &e), e, 400, "invalid_json")
}

func TestAdminLoginHistory(t *testing.T) {
	t.Parallel()
	base, admin, _, _ := adminStack(t)
	email := uniqueEmail()
	var id adminIdentity
	if resp := admin.Do("POST", "/api/admin/identities", map[string]any{"email": email, "password": password}, &id); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if s := adminLoginStatus(t, base, email, "wrong password 12345"); s != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", s)
	}
	adminSignIn(t, base, email, password)

	var h struct {
		IdentityID string `json:"identity_id"`
		Logins     []struct {
			Action  string `json:"action"`
			Success bool   `json:"success"`
			Reason  string `json:"reason"`
			IP      string `json:"ip"`
		} `json:"logins"`
	}
	if resp := admin.Do("GET", "/api/admin/identities/"+id.ID+"/logins", nil, &h); resp.StatusCode != 200 || h.IdentityID != id.ID {
		t.Fatalf("logins: %d %+v", resp.StatusCode, h)
	}
	if len(h.Logins) != 2 || !h.Logins[0].Success || h.Logins[1].Success || h.Logins[1].Reason != "invalid_credentials" ||
		h.Logins[0].Action != "login" || h.Logins[0].IP == "" {
		t.Fatalf("login history, newest first: %+v", h.Logins)
	}
	h.Logins = nil
	if resp := admin.Do("GET", "/api/admin/identities/"+id.ID+"/logins?limit=1", nil, &h); resp.StatusCode != 200 || len(h.Logins) != 1 || !h.Logins[0].Success {
		t.Fatalf("limit=1: %d %+v", resp.StatusCode, h.Logins)
	}
	for _, bad := range []string{"0", "201", "x"} {
		var e apiError
		adminWantError(t, "limit="+bad, admin.Do("GET", "/api/admin/identities/"+id.ID+"/logins?limit="+bad, nil, &e), e, 422, "validation_failed")
	}
}

// TestAdminImportAcceptsExactly500Rows checks the limit's boundary: 500 rows
// (the last one with a password) are all created in one call.
func TestAdminImportAcceptsExactly500Rows(t *testing.T) {
	t.Parallel()
	base, admin, _, _ := adminStack(t)
	prefix := "imp500-" + strings.ToLower(rand.Text()[:10])
	rows := make([]map[string]any, 500)
	for i := range rows {
		rows[i] = map[string]any{"email": fmt.Sprintf("%s-%03d@example.com", prefix, i), "name": fmt.Sprintf("Row %d", i)}
	}
	rows[499]["password"] = password
	var out adminImportResp
	if resp := admin.Do("POST", "/api/admin/identities/import", rows, &out); resp.StatusCode != http.StatusOK || out.Created != 500 || out.Failed != 0 {
		t.Fatalf("import of 500 rows: %d, created %d, failed %d", resp.StatusCode, out.Created, out.Failed)
	}
	for i, r := range out.Results {
		if r.Index != i || r.Status != "created" || r.Email != rows[i]["email"] {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	if s := adminLoginStatus(t, base, rows[499]["email"].(string), password); s != http.StatusOK {
		t.Fatalf("login of an imported row: %d", s)
	}
	var list adminIDList
	admin.Do("GET", "/api/admin/identities?page_size=250&search="+prefix, nil, &list)
	if len(list.Identities) != 250 || list.NextPageToken == "" {
		t.Fatalf("first page of the imported rows: %d, next %q", len(list.Identities), list.NextPageToken)
	}
}
