package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/testenv"
)

// TestDuplicateCSRFCookies: a browser holding a host-only and a
// parent-domain truss_csrf with different values is accepted when the
// header matches either, and refused with a precise code otherwise.
func TestDuplicateCSRFCookies(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	const hostOnly, parent = "hostonlyTOKENhostonlyTOKENhostonlyTOKEN0123", "parentTOKENparentTOKENparentTOKENparent0123"
	tests := []struct {
		name     string
		cookies  []string
		header   string
		want     int
		wantCode string
	}{
		{"header matches the host-only copy", []string{hostOnly, parent}, hostOnly, http.StatusNoContent, ""},
		{"header matches the parent-domain copy", []string{hostOnly, parent}, parent, http.StatusNoContent, ""},
		{"header matches neither", []string{hostOnly, parent}, "staleTOKENstaleTOKENstaleTOKENstaleTOKEN012", 403, "csrf_token_mismatch"},
		{"no cookie arrived", nil, hostOnly, 403, "csrf_cookie_missing"},
		{"cookie but no header", []string{hostOnly}, "", 403, "csrf_header_missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/api/auth/logout", nil)
			var parts []string
			for _, c := range tc.cookies {
				parts = append(parts, "truss_csrf="+c)
			}
			if len(parts) > 0 {
				req.Header.Set("Cookie", strings.Join(parts, "; "))
			}
			if tc.header != "" {
				req.Header.Set("X-CSRF-Token", tc.header)
			}
			var e apiError
			resp := do(t, req, nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.wantCode != "" {
				resp = do(t, req.Clone(t.Context()), &e)
				if e.Error.Code != tc.wantCode || e.Error.Hint == "" {
					t.Errorf("code %q hint %q, want %q with a hint", e.Error.Code, e.Error.Hint, tc.wantCode)
				}
			}
		})
	}
}

func TestFirstGETIssuesCSRFCookie(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	resp, err := http.Get(srv.URL + "/api/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "truss_csrf" {
			found = c
		}
	}
	if found == nil || found.Value == "" || found.HttpOnly || found.SameSite != http.SameSiteLaxMode {
		t.Fatalf("truss_csrf = %+v, want a readable SameSite=Lax cookie", found)
	}
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestCORSAllowsListedOriginAndLogsOthers(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config(t, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.test"})
	var logs syncBuffer
	srv := httptest.NewServer(server.New(cfg, slog.New(slog.NewTextHandler(&logs, nil)), testenv.Pool(t, cfg)).Handler())
	defer srv.Close()

	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", srv.URL+"/api/auth/login", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, x-csrf-token")
		return do(t, req, nil)
	}
	resp := preflight("https://app.example.test")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.test" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp = preflight("https://evil.example.net")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("refused origin got CORS headers: %v", resp.Header)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/health/live", nil)
	req.Header.Set("Origin", "https://evil.example.net")
	if resp := do(t, req, nil); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("refused origin got CORS headers on GET")
	}
	if !strings.Contains(logs.String(), "https://evil.example.net") || !strings.Contains(logs.String(), "CORS_ALLOWED_ORIGINS") {
		t.Errorf("the refused origin was not logged with the variable to set:\n%s", logs.String())
	}
}
