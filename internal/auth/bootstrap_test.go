package auth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/ory"
	"github.com/trussdev/truss/internal/testenv"
)

func TestBootstrapAdminIsIdempotentAndAdmin(t *testing.T) {
	t.Parallel()
	email := uniqueEmail()
	srv, cfg := testenv.Server(t, map[string]string{"TRUSS_BOOTSTRAP_ADMIN_EMAIL": email})
	svc := auth.New(cfg, ory.New(cfg), testenv.Pool(t, cfg), testenv.Logger(t))
	// testenv.Pool migrates a second pool on the same database: harmless,
	// and the server's pool sees the same admins table.

	first, err := svc.Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.Password == "" || first.IdentityID == "" {
		t.Fatalf("first bootstrap: %+v, want a created account with a generated password", first)
	}
	second, err := svc.Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.Password != "" || second.IdentityID != first.IdentityID {
		t.Fatalf("second bootstrap: %+v, want the same account, untouched, no password", second)
	}

	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	var p principal
	if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": first.Password}, &p); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin login: %d", resp.StatusCode)
	}
	if !p.IsAdmin {
		t.Errorf("bootstrap admin's session: is_admin = false")
	}
}

func TestAuthNotRequiredGivesDevTenant(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, map[string]string{"TRUSS_AUTH_REQUIRED": "false"})
	b := testenv.NewBrowser(t, srv.URL)
	var p principal
	if resp := b.Do("GET", "/api/auth/session", nil, &p); resp.StatusCode != 200 || p.TenantID == "" {
		t.Fatalf("session without login: %d %+v", resp.StatusCode, p)
	}
}

func TestAdminRequireMFARefusesAAL1Admin(t *testing.T) {
	t.Parallel()
	email := uniqueEmail()
	srv, cfg := testenv.Server(t, map[string]string{"TRUSS_BOOTSTRAP_ADMIN_EMAIL": email, "TRUSS_ADMIN_REQUIRE_MFA": "true"})
	res, err := auth.New(cfg, ory.New(cfg), testenv.Pool(t, cfg), testenv.Logger(t)).Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": res.Password}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin login: %d", resp.StatusCode)
	}
	var e apiError
	if resp := b.Do("GET", "/api/admin/identities", nil, &e); resp.StatusCode != http.StatusForbidden || e.Error.Code != "mfa_required" {
		t.Fatalf("aal1 admin on an admin endpoint: %d %q, want 403 mfa_required", resp.StatusCode, e.Error.Code)
	}
}
