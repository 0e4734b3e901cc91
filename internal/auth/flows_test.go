package auth_test

import (
	"net/http"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// TestSameOriginAccountLifecycle: register → verify the email with the code
// from Mailpit → log in → session → settings → logout → the old cookie is dead.
func TestSameOriginAccountLifecycle(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	b := testenv.NewBrowser(t, srv.URL)
	email := uniqueEmail()

	b.Do("GET", "/api/auth/register", nil, nil)
	var p principal
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password, "name": "Ada"}, &p); resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	if p.Email != email || p.TenantID == "" || p.IdentityID == "" || p.IsAdmin {
		t.Fatalf("register returned %+v", p)
	}
	if b.Cookie("truss_session") == "" {
		t.Fatal("register did not set truss_session")
	}

	// Kratos emailed a verification code on registration; verify with it.
	mail, code := testenv.WaitForMail(t, email, sixDigits)
	testenv.DeleteMail(t, mail.ID)
	var fs struct {
		FlowID string `json:"flow_id"`
		State  string `json:"state"`
	}
	if resp := b.Do("POST", "/api/auth/verification", map[string]any{"email": email}, &fs); resp.StatusCode != 200 || fs.FlowID == "" {
		t.Fatalf("verification start: %d %+v", resp.StatusCode, fs)
	}
	_, code = testenv.WaitForMail(t, email, sixDigits)
	if resp := b.Do("POST", "/api/auth/verification", map[string]any{"flow_id": fs.FlowID, "code": code}, &fs); resp.StatusCode != 200 || fs.State != "passed_challenge" {
		t.Fatalf("verification with code: %d %+v", resp.StatusCode, fs)
	}

	// A fresh browser logs in.
	b2 := testenv.NewBrowser(t, srv.URL)
	b2.Do("GET", "/api/auth/login", nil, nil)
	var p2 principal
	if resp := b2.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": password}, &p2); resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if p2.TenantID != p.TenantID {
		t.Errorf("same identity, different tenants: %s vs %s", p2.TenantID, p.TenantID)
	}
	var s principal
	if resp := b2.Do("GET", "/api/auth/session", nil, &s); resp.StatusCode != 200 || s.Email != email || s.Name != "Ada" {
		t.Fatalf("session: %d %+v", resp.StatusCode, s)
	}

	var updated principal
	if resp := b2.Do("POST", "/api/auth/settings", map[string]any{"name": "Ada Lovelace"}, &updated); resp.StatusCode != 200 || updated.Name != "Ada Lovelace" {
		t.Fatalf("settings: %d %+v", resp.StatusCode, updated)
	}

	oldCookie := b2.Cookie("truss_session")
	if resp := b2.Do("POST", "/api/auth/logout", nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if b2.Cookie("truss_session") != "" {
		t.Error("logout left truss_session in the browser")
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/auth/session", nil)
	req.AddCookie(&http.Cookie{Name: "truss_session", Value: oldCookie})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replaying the logged-out cookie: %d, want 401", resp.StatusCode)
	}
}

func TestRecoveryByEmailCode(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	email := uniqueEmail()
	reg := testenv.NewBrowser(t, srv.URL)
	reg.Do("GET", "/api/auth/register", nil, nil)
	if resp := reg.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	mail, _ := testenv.WaitForMail(t, email, sixDigits) // the verification mail
	testenv.DeleteMail(t, mail.ID)

	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/recovery", nil, nil)
	var fs struct {
		FlowID string `json:"flow_id"`
		State  string `json:"state"`
	}
	if resp := b.Do("POST", "/api/auth/recovery", map[string]any{"email": email}, &fs); resp.StatusCode != 200 || fs.FlowID == "" {
		t.Fatalf("recovery start: %d %+v", resp.StatusCode, fs)
	}
	_, code := testenv.WaitForMail(t, email, sixDigits)

	var e apiError
	if resp := b.Do("POST", "/api/auth/recovery", map[string]any{"flow_id": fs.FlowID, "code": "000000"}, &e); resp.StatusCode != 400 || e.Error.Code != "invalid_code" {
		t.Fatalf("wrong code: %d %+v", resp.StatusCode, e)
	}
	var p principal
	if resp := b.Do("POST", "/api/auth/recovery", map[string]any{"flow_id": fs.FlowID, "code": code}, &p); resp.StatusCode != 200 || p.Email != email {
		t.Fatalf("recovery with code: %d %+v", resp.StatusCode, p)
	}
	newPassword := "another long passphrase 77"
	if resp := b.Do("POST", "/api/auth/settings", map[string]any{"password": newPassword}, nil); resp.StatusCode != 200 {
		t.Fatalf("set new password: %d", resp.StatusCode)
	}
	fresh := testenv.NewBrowser(t, srv.URL)
	fresh.Do("GET", "/api/auth/login", nil, nil)
	if resp := fresh.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": newPassword}, nil); resp.StatusCode != 200 {
		t.Fatalf("login with the new password: %d", resp.StatusCode)
	}
}
