package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/testenv"
)

func TestErrorShape(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	tests := []struct {
		name, method, path string
		header             map[string]string
		wantStatus         int
		wantCode           string
	}{
		{"unknown endpoint", "GET", "/api/nope", nil, 404, "not_found"},
		{"unknown api path, no trailing segment", "GET", "/api/", nil, 404, "not_found"},
		{"wrong method outside api", "DELETE", "/", nil, 405, "method_not_allowed"},
		{"wrong method", "POST", "/api/health", nil, 405, "method_not_allowed"},
		{"no session", "GET", "/api/auth/session", nil, 401, "unauthorized"},
		{"bogus session token", "GET", "/api/auth/session", map[string]string{"X-Session-Token": "nope"}, 401, "unauthorized"},
		{"bogus session cookie", "GET", "/api/auth/session", map[string]string{"Cookie": "ory_kratos_session=nope"}, 401, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			var e apiError
			resp := do(t, req, &e)
			if resp.StatusCode != tc.wantStatus || e.Error.Code != tc.wantCode {
				t.Fatalf("%s %s = %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, e.Error.Code, tc.wantStatus, tc.wantCode)
			}
			if e.Error.Message == "" || e.Error.RequestID == "" {
				t.Errorf("error lacks message or request_id: %+v", e.Error)
			}
			if e.Error.RequestID != resp.Header.Get("X-Request-Id") {
				t.Errorf("request_id %q differs from X-Request-Id %q", e.Error.RequestID, resp.Header.Get("X-Request-Id"))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
	t.Run("405 keeps Allow", func(t *testing.T) {
		req, _ := http.NewRequest("DELETE", srv.URL+"/api/health", nil)
		resp := do(t, req, &apiError{})
		if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
			t.Errorf("Allow = %q, want it to list GET", allow)
		}
	})
}

func TestDashboardOrNotBuiltPage(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	for _, path := range []string{"/", "/settings/profile"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s, want the dashboard's HTML", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(string(body), "<html") && !strings.Contains(string(body), "<!doctype") {
			t.Errorf("GET %s: not HTML: %.200s", path, body)
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	for _, tc := range []struct {
		sent     string
		kept     bool
		scenario string
	}{
		{"abc-123_X.y", true, "well-formed ID from a proxy is kept"},
		{"bad id\nwith newline", false, "log-injection attempt is replaced"},
		{strings.Repeat("a", 65), false, "over-long ID is replaced"},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/health/live", nil)
		req.Header.Set("X-Request-Id", strings.ReplaceAll(tc.sent, "\n", "%0A"))
		resp := do(t, req, nil)
		got := resp.Header.Get("X-Request-Id")
		if (got == strings.ReplaceAll(tc.sent, "\n", "%0A")) != tc.kept || got == "" {
			t.Errorf("%s: sent %q, got %q", tc.scenario, tc.sent, got)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	get(t, srv.URL+"/api/health", &healthReport{})
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`truss_http_requests_total{method="GET",route="GET /api/health",status="200"} 1`,
		`truss_dependency_up{dependency="kratos_public"} 1`,
		`truss_http_request_duration_seconds_bucket`,
		`truss_ory_requests_total{api="public",path="/health/ready",service="kratos",status="200"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	// A JSON body just over MaxBodyBytes to an endpoint that reads one: 413
	// in the error shape, before anything reaches Kratos. (X-Session-Token
	// only skips CSRF here; the body is what is refused.)
	big := `{"email":"a@example.com","password":"` + strings.Repeat("x", server.MaxBodyBytes) + `"}`
	req, _ := http.NewRequest("POST", srv.URL+"/api/auth/login", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-Token", "unused")
	var e apiError
	if resp := do(t, req, &e); resp.StatusCode != http.StatusRequestEntityTooLarge || e.Error.Code != "body_too_large" {
		t.Fatalf("oversized body: %d %q, want 413 body_too_large", resp.StatusCode, e.Error.Code)
	}
	// Just under the limit is read (and refused for its content, not its size).
	ok := `{"email":"a@example.com","password":"` + strings.Repeat("x", 1000) + `"}`
	req, _ = http.NewRequest("POST", srv.URL+"/api/auth/login", strings.NewReader(ok))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-Token", "unused")
	if resp := do(t, req, &e); resp.StatusCode == http.StatusRequestEntityTooLarge {
		t.Fatalf("a small body was refused as too large")
	}
}

// TestSessionFromRealKratosLogin logs in through Kratos's API flow and asks
// Truss who the session belongs to, with the token and with the cookie form.
func TestSessionFromRealKratosLogin(t *testing.T) {
	t.Parallel()
	srv, cfg := testenv.Server(t, nil)
	email := "user-" + strings.ToLower(rand.Text()[:8]) + "@example.com"
	token := kratosLogin(t, cfg, email, "correct horse battery staple 42")

	for _, header := range []string{"X-Session-Token", "Authorization"} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/auth/session", nil)
		v := token
		if header == "Authorization" {
			v = "Bearer " + token
		}
		req.Header.Set(header, v)
		var s struct {
			IdentityID string `json:"identity_id"`
			Email      string `json:"email"`
			TenantID   string `json:"tenant_id"`
		}
		if resp := do(t, req, &s); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET /api/auth/session = %d", header, resp.StatusCode)
		}
		if s.Email != email || s.IdentityID == "" || s.TenantID == "" {
			t.Errorf("%s: session = %+v, want active session of %s", header, s, email)
		}
	}
}

// kratosLogin creates an identity with the admin API and logs in with the
// native (API) login flow, returning the session token.
func kratosLogin(t *testing.T, cfg config.Config, email, password string) string {
	t.Helper()
	postJSON(t, cfg.KratosAdminURL.String()+"/admin/identities", map[string]any{
		"schema_id": "default", "traits": map[string]any{"email": email},
		"credentials": map[string]any{"password": map[string]any{"config": map[string]any{"password": password}}},
	}, http.StatusCreated, nil)
	var flow struct {
		UI struct {
			Action string `json:"action"`
		} `json:"ui"`
	}
	if resp := get(t, cfg.KratosPublicURL.String()+"/self-service/login/api", &flow); resp.StatusCode != http.StatusOK {
		t.Fatalf("create login flow: %d", resp.StatusCode)
	}
	var out struct {
		SessionToken string `json:"session_token"`
	}
	postJSON(t, flow.UI.Action, map[string]any{"method": "password", "identifier": email, "password": password}, http.StatusOK, &out)
	if out.SessionToken == "" {
		t.Fatal("login returned no session token")
	}
	return out.SessionToken
}

func postJSON(t *testing.T, url string, body any, wantStatus int, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST %s = %d, want %d: %s", url, resp.StatusCode, wantStatus, raw)
	}
	if out != nil {
		_ = json.Unmarshal(raw, out)
	}
}

func TestDoctorEndpoints(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	var e apiError
	if resp := get(t, srv.URL+"/api/doctor", &e); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/doctor anonymous: %d, want 401", resp.StatusCode)
	}
	var echo struct {
		Service string `json:"service"`
		HTTPS   bool   `json:"https"`
	}
	resp := get(t, srv.URL+"/api/doctor/echo?nonce=abcdef123456", &echo)
	if resp.StatusCode != 200 || echo.Service != "truss" || echo.HTTPS {
		t.Fatalf("echo: %d %+v", resp.StatusCode, echo)
	}
	if c := strings.Join(resp.Header.Values("Set-Cookie"), "\n"); !strings.Contains(c, "truss_doctor_probe=abcdef123456") {
		t.Errorf("echo did not set the probe cookie: %q", c)
	}
	if resp := get(t, srv.URL+"/api/doctor/echo?nonce=<script>", &e); resp.StatusCode != 422 {
		t.Errorf("bad nonce: %d, want 422", resp.StatusCode)
	}
}
