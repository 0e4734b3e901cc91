package browsertest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
)

// TestSameSiteLaxDefaultOnLocalhost: with the default cookie settings, a
// page served by Truss's own origin on plain http://localhost signs up,
// reads its session and changes its profile. The cookies are host-only,
// SameSite=Lax and not Secure (a Secure cookie would be dropped on http), and
// same-origin calls never trip the CORS check.
func TestSameSiteLaxDefaultOnLocalhost(t *testing.T) {
	ctx := testContext(t)
	logs := newServerLog(t)
	ln, port := listen(t)
	origin := fmt.Sprintf("http://localhost:%d", port)
	mux := http.NewServeMux()
	mux.Handle("GET /test-page", dashboard(""))
	mux.Handle("/", truss(t, map[string]string{"TRUSS_PUBLIC_URL": origin}, logs))
	serve(t, ln, mux, nil, logs)

	b := newBrowser(t, ctx, "")
	b.open(origin + "/test-page")
	email := uniqueEmail()
	res := b.run(
		step{Method: "GET", Path: "/api/auth/login"},
		step{Method: "POST", Path: "/api/auth/register", Body: map[string]any{"email": email, "password": password}},
		step{Method: "GET", Path: "/api/auth/session"},
		step{Method: "POST", Path: "/api/auth/settings", Body: map[string]any{"name": "Grace"}},
	)
	expectStatus(t, res[0], http.StatusOK)
	expectStatus(t, res[1], http.StatusOK)
	expectStatus(t, res[2], http.StatusOK)
	if p := res[2].principal(t); p.Email != email {
		t.Fatalf("session answered %+v, want %s", p, email)
	}
	expectStatus(t, res[3], http.StatusOK)
	if p := res[3].principal(t); p.Name != "Grace" {
		t.Fatalf("settings answered %+v", p)
	}

	cookies := b.cookies()
	s := named(cookies, "truss_session")
	if len(s) != 1 || s[0].Domain != "localhost" || !s[0].HTTPOnly || s[0].Secure || s[0].SameSite != network.CookieSameSiteLax {
		t.Errorf("truss_session %s, want one host-only (domain=localhost) httpOnly, not secure, sameSite=Lax", describe(s))
	}
	c := named(cookies, "truss_csrf")
	if len(c) != 1 || c[0].Domain != "localhost" || c[0].HTTPOnly || c[0].Secure {
		t.Errorf("truss_csrf %s, want one host-only (domain=localhost) cookie readable by scripts, not secure", describe(c))
	}
	if strings.Contains(logs.String(), "CORS") {
		t.Errorf("same-origin calls were treated as cross-origin:\n%s", logs.String())
	}
}
