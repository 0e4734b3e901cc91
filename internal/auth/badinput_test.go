package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

func TestBadInputGetsClearErrors(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	existing := uniqueEmail()
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": existing, "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}

	tests := []struct {
		name, path string
		body       any
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"login without email", "/api/auth/login", map[string]any{"password": "x"}, 422, "validation_failed", "email"},
		{"login with malformed email", "/api/auth/login", map[string]any{"email": "nope", "password": "x"}, 422, "validation_failed", "email"},
		{"login with wrong password", "/api/auth/login", map[string]any{"email": existing, "password": "wrong password 123"}, 401, "invalid_credentials", ""},
		{"login unknown account", "/api/auth/login", map[string]any{"email": uniqueEmail(), "password": "whatever it is 1"}, 401, "invalid_credentials", ""},
		{"login unknown field", "/api/auth/login", map[string]any{"email": existing, "pasword": "typo"}, 400, "invalid_json", "pasword"},
		{"register weak password", "/api/auth/register", map[string]any{"email": uniqueEmail(), "password": "123"}, 422, "validation_failed", "password"},
		{"register password same as email", "/api/auth/register", map[string]any{"email": "samesame@example.com", "password": "samesame@example.com"}, 422, "validation_failed", "password"},
		{"register existing account", "/api/auth/register", map[string]any{"email": existing, "password": password}, 409, "account_exists", ""},
		{"register invalid email", "/api/auth/register", map[string]any{"email": "not-an-email@", "password": password}, 422, "validation_failed", "email"},
		{"verification unknown flow", "/api/auth/verification", map[string]any{"flow_id": "9b2c6a1e-4f0d-4c3b-8a57-2f6e1d0c9b11", "code": "123456"}, 400, "flow_not_found", ""},
		{"verification malformed flow id", "/api/auth/verification", map[string]any{"flow_id": "../../admin", "code": "123456"}, 422, "validation_failed", "flow_id"},
		{"recovery without anything", "/api/auth/recovery", map[string]any{}, 422, "validation_failed", "email"},
		{"settings without session", "/api/auth/settings", map[string]any{"name": "x"}, 401, "unauthorized", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fresh := testenv.NewBrowser(t, srv.URL)
			fresh.Do("GET", "/api/auth/login", nil, nil)
			var e apiError
			resp := fresh.Do("POST", tc.path, tc.body, &e)
			if resp.StatusCode != tc.wantStatus || e.Error.Code != tc.wantCode {
				t.Fatalf("%d %q (%s), want %d %q", resp.StatusCode, e.Error.Code, e.Error.Message, tc.wantStatus, tc.wantCode)
			}
			if tc.wantField != "" {
				fields, _ := e.Error.Details["fields"].(map[string]any)
				if _, ok := fields[tc.wantField]; !ok {
					t.Errorf("details.fields lacks %q: %v", tc.wantField, e.Error.Details)
				}
			}
			if e.Error.Message == "" || strings.Contains(e.Error.Message, "goroutine") {
				t.Errorf("bad message %q", e.Error.Message)
			}
		})
	}

	t.Run("not JSON", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/auth/login", strings.NewReader("email=a&password=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Session-Token", "x") // skip CSRF: this checks the body parser
		resp, _ := http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("form body: %d, want 415", resp.StatusCode)
		}
	})
}

func TestTenantCreatedOnceUnderRace(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, map[string]string{"SESSION_CACHE_TTL": "0s"})
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": uniqueEmail(), "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	const n = 12
	ids := make(chan string, n)
	for range n {
		go func() {
			var p principal
			b.Do("GET", "/api/auth/session", nil, &p)
			ids <- p.TenantID
		}()
	}
	first := <-ids
	for range n - 1 {
		if id := <-ids; id != first || id == "" {
			t.Fatalf("racing first requests saw tenants %q and %q", first, id)
		}
	}
}
