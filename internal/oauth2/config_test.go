package oauth2_test

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// oauth2Routes is every OAuth2 route (a representative path for each).
var oauth2Routes = []struct{ method, path string }{
	{"GET", "/api/oauth2/discovery"},
	{"GET", "/api/hydra/discovery"},
	{"GET", "/api/hydra/jwks"},
	{"GET", "/api/hydra/bridge/login?login_challenge=x"},
	{"GET", "/api/hydra/bridge/consent?consent_challenge=x"},
	{"GET", "/api/hydra/bridge/logout?logout_challenge=x"},
	{"GET", "/api/hydra/login?login_challenge=x"},
	{"GET", "/api/hydra/consent?consent_challenge=x"},
	{"POST", "/api/hydra/consent/accept"},
	{"POST", "/api/hydra/consent/reject"},
	{"POST", "/api/hydra/logout/accept"},
	{"POST", "/api/hydra/logout/reject"},
	{"GET", "/api/hydra/clients"},
	{"POST", "/api/hydra/clients"},
	{"GET", "/api/hydra/clients/x"},
	{"PUT", "/api/hydra/clients/x"},
	{"DELETE", "/api/hydra/clients/x"},
	{"POST", "/api/hydra/clients/x/rotate-secret"},
	{"PUT", "/api/hydra/clients/x/lifespans"},
	{"DELETE", "/api/hydra/clients/x/tokens"},
	{"POST", "/api/hydra/introspect"},
	{"POST", "/api/hydra/revoke"},
	{"GET", "/api/hydra/consent-sessions"},
	{"DELETE", "/api/hydra/consent-sessions"},
	{"DELETE", "/api/hydra/consent-sessions/x"},
	{"POST", "/api/hydra/flush"},
}

// TestOAuth2NotConfigured: with HYDRA_ADMIN_URL="" every OAuth2 endpoint
// answers 503 oauth2_not_configured, before authentication.
func TestOAuth2NotConfigured(t *testing.T) {
	t.Parallel()
	// Every OAuth2 route of routes.go is in oauth2Routes.
	src, err := os.ReadFile(filepath.Join("..", "server", "routes.go"))
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`mux\.Handle\("(\w+) (/api/(?:hydra|oauth2)/[^"]*)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < len(oauth2Routes) {
		t.Fatalf("found %d OAuth2 routes in routes.go, expected at least %d", len(routes), len(oauth2Routes))
	}
	for _, m := range routes {
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(m[2], "x")
		if !slices.ContainsFunc(oauth2Routes, func(r struct{ method, path string }) bool {
			return r.method == m[1] && strings.SplitN(r.path, "?", 2)[0] == path
		}) {
			t.Errorf("route %s %s is not in oauth2Routes", m[1], m[2])
		}
	}
	srv, _ := testenv.Server(t, map[string]string{"HYDRA_ADMIN_URL": ""})
	for _, rt := range oauth2Routes {
		req, _ := http.NewRequest(rt.method, srv.URL+rt.path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Session-Token", "not-a-session") // an API client: no CSRF cookie needed
		e := doError(t, req)
		if e.status != 503 || e.Error.Code != "oauth2_not_configured" || e.Error.Details["env"] != "HYDRA_ADMIN_URL" {
			t.Errorf("%s %s = %d %q %v, want 503 oauth2_not_configured naming HYDRA_ADMIN_URL", rt.method, rt.path, e.status, e.Error.Code, e.Error.Details)
		}
	}
}

// TestHydraDown: Hydra unreachable is a 503 naming the service and the
// variable of the API that failed.
func TestHydraDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	s := newStack(t, map[string]string{"HYDRA_ADMIN_URL": dead, "HYDRA_PUBLIC_URL": dead})
	u := s.newUser()
	for _, tc := range []struct{ method, path, env string }{
		{"GET", "/api/hydra/jwks", "HYDRA_PUBLIC_URL"},
		{"GET", "/api/oauth2/discovery", "HYDRA_PUBLIC_URL"},
		{"GET", "/api/hydra/bridge/login?login_challenge=x", "HYDRA_ADMIN_URL"},
		{"GET", "/api/hydra/clients", "HYDRA_ADMIN_URL"},
		{"GET", "/api/hydra/clients/x", "HYDRA_ADMIN_URL"},
		{"GET", "/api/hydra/consent-sessions", "HYDRA_ADMIN_URL"},
	} {
		var e apiError
		resp := u.Do(tc.method, tc.path, nil, &e)
		if resp.StatusCode != 503 || e.Error.Code != "hydra_unavailable" || e.Error.Details["env"] != tc.env ||
			!strings.Contains(e.Error.Hint, tc.env) {
			t.Errorf("%s %s = %d %q %v, want 503 hydra_unavailable naming %s", tc.method, tc.path, resp.StatusCode, e.Error.Code, e.Error.Details, tc.env)
		}
	}
	var e apiError
	if resp := u.Do("POST", "/api/hydra/introspect", map[string]any{"token": "x"}, &e); resp.StatusCode != 503 || e.Error.Code != "hydra_unavailable" {
		t.Errorf("introspect with Hydra down = %d %q", resp.StatusCode, e.Error.Code)
	}
}

// TestFlush: admins only; runs hydra janitor on Hydra's database; without
// HYDRA_DATABASE_URL it says how to configure it.
func TestFlush(t *testing.T) {
	t.Parallel()
	dsn := strings.Replace(os.Getenv("TRUSS_DEV_ADMIN_DATABASE_URL"), "/postgres?", "/hydra?", 1)
	bin := filepath.Join(os.Getenv("TRUSS_DEV_BIN_DIR"), "hydra")
	s := newStack(t, map[string]string{"HYDRA_DATABASE_URL": dsn, "HYDRA_BIN": bin})
	u := s.newUser()
	u.expectError("POST", "/api/hydra/flush", nil, 403, "forbidden")
	admin := s.newAdmin()
	var out map[string]any
	if resp := admin.Do("POST", "/api/hydra/flush", map[string]any{"keep_if_younger": "1h"}, &out); resp.StatusCode != 200 {
		t.Fatalf("flush: %d %v", resp.StatusCode, out)
	}
	t.Logf("flush answered %v", out)
	if out["keep_if_younger"] != "1h0m0s" || strings.Contains(strings.Join(toStrings(out["output"]), "\n"), dsn) {
		t.Fatalf("flush answered %v", out)
	}
	admin.expectError("POST", "/api/hydra/flush", map[string]any{"keep_if_younger": "soon"}, 400, "invalid_request")

	off := newStack(t, map[string]string{"HYDRA_DATABASE_URL": ""})
	off.newAdmin().expectError("POST", "/api/hydra/flush", nil, 503, "flush_not_configured")
	missing := newStack(t, map[string]string{"HYDRA_DATABASE_URL": dsn, "HYDRA_BIN": "/nonexistent/hydra"})
	e := missing.newAdmin().expectError("POST", "/api/hydra/flush", nil, 503, "hydra_unavailable")
	if e.Error.Details["env"] != "HYDRA_BIN" {
		t.Errorf("missing binary: %+v", e.Error)
	}
}

type errorAnswer struct {
	apiError
	status int
}

func doError(t *testing.T, req *http.Request) errorAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e errorAnswer
	e.status = resp.StatusCode
	_ = jsonDecode(resp, &e.apiError)
	return e
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
