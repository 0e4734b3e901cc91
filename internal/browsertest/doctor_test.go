package browsertest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/doctor"
	"github.com/trussdev/truss/internal/ory"
	"github.com/trussdev/truss/internal/testenv"
)

// TestDoctorExplainsMissingCSRFCookieDomain: dashboard and API on different
// subdomains without CSRF_COOKIE_DOMAIN. The browser really is locked out
// (its JavaScript cannot read the API's truss_csrf), and truss doctor, given
// the same configuration, names the cause and the fix.
func TestDoctorExplainsMissingCSRFCookieDomain(t *testing.T) {
	ctx := testContext(t)
	cs, origins := startCrossSiteWith(t, map[string]string{"CSRF_COOKIE_DOMAIN": ""}, "app")
	b := newBrowser(t, ctx, cs.pki.spki)
	b.open(origins["app"] + "/")
	res := b.run(step{Method: "GET", Path: "/api/auth/login"},
		step{Method: "POST", Path: "/api/auth/register", Body: map[string]any{"email": uniqueEmail(), "password": password}})
	expectStatus(t, res[1], http.StatusForbidden)
	if !strings.Contains(res[1].String(), "csrf_") {
		t.Fatalf("the refusal is not a CSRF error: %s", res[1])
	}

	overrides := map[string]string{"TRUSS_DASHBOARD_URL": origins["app"]}
	for k, v := range cs.config {
		overrides[k] = v
	}
	cfg := testenv.Config(t, overrides)
	env := &doctor.Env{Cfg: cfg, Raw: testenv.Lookup(overrides), Ory: ory.New(cfg), Dashboard: cfg.DashboardURL,
		HTTP: &http.Client{Timeout: 3 * time.Second}, Now: time.Now}
	for _, c := range doctor.Checks {
		if c.ID != "cookies.csrf_domain" {
			continue
		}
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r := c.Run(cctx, env, c)[0]
		if r.Status != doctor.Fail || !strings.Contains(r.Fix, "CSRF_COOKIE_DOMAIN=.example.test") {
			t.Fatalf("doctor: %s %q fix %q, want fail with CSRF_COOKIE_DOMAIN=.example.test", r.Status, r.Evidence, r.Fix)
		}
		return
	}
	t.Fatal("no cookies.csrf_domain check")
}
