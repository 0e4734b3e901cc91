package csrf

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/requestid"
)

// Three distinct well-formed tokens.
var (
	tokA = strings.Repeat("A", 42) + "a"
	tokB = strings.Repeat("b", 40) + "-_9"
	tokC = strings.Repeat("C", 43)
)

type apiError struct {
	Error struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Hint      string         `json:"hint"`
		RequestID string         `json:"request_id"`
		Details   map[string]any `json:"details"`
	} `json:"error"`
}

// serve runs one request through the middleware (behind requestid, as in the
// server) and returns the recorder and the log output.
func serve(t *testing.T, cfg Config, req *http.Request) (*httptest.ResponseRecorder, *bytes.Buffer, bool) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	reached := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	rec := httptest.NewRecorder()
	requestid.Middleware(Middleware(cfg, log)(next)).ServeHTTP(rec, req)
	return rec, &logs, reached
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		method, path  string
		cookies       []string // Cookie header lines
		header        string   // X-CSRF-Token
		extra         map[string]string
		wantStatus    int
		wantCode      string
		wantSetCookie bool
		wantCookies   int // cookies_received in the log / details
	}{
		// Safe methods are never checked; the first request gets a cookie.
		{name: "GET without cookie gets one", method: "GET", path: "/api/auth/login", wantStatus: 200, wantSetCookie: true},
		{name: "HEAD without cookie", method: "HEAD", path: "/api/health", wantStatus: 200, wantSetCookie: true},
		{name: "OPTIONS without cookie", method: "OPTIONS", path: "/api/x", wantStatus: 200, wantSetCookie: true},
		{name: "GET with cookie gets no new one", method: "GET", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, wantStatus: 200},
		{name: "non-API path gets a cookie too", method: "GET", path: "/", wantStatus: 200, wantSetCookie: true},

		// Matching header.
		{name: "POST with matching header", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokA, wantStatus: 200},
		{name: "PUT with matching header", method: "PUT", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokA, wantStatus: 200},
		{name: "PATCH with matching header", method: "PATCH", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokA, wantStatus: 200},
		{name: "DELETE with matching header", method: "DELETE", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokA, wantStatus: 200},
		{name: "quoted cookie value", method: "POST", path: "/api/x", cookies: []string{`truss_csrf="` + tokA + `"`}, header: tokA, wantStatus: 200},
		{name: "among other cookies", method: "POST", path: "/api/x", cookies: []string{"ory_kratos_session=abc; truss_csrf=" + tokA + "; theme=dark"}, header: tokA, wantStatus: 200},

		// Duplicate cookies: host-only and parent-domain copies.
		{name: "duplicates, header matches first", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA + "; truss_csrf=" + tokB}, header: tokA, wantStatus: 200},
		{name: "duplicates, header matches second", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA + "; truss_csrf=" + tokB}, header: tokB, wantStatus: 200},
		{name: "duplicates in separate Cookie lines", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA, "a=b; truss_csrf=" + tokB}, header: tokB, wantStatus: 200},
		{name: "duplicates, header matches none", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA + "; truss_csrf=" + tokB}, header: tokC, wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 2},
		{name: "three copies, header matches none", method: "DELETE", path: "/api/x", cookies: []string{"truss_csrf=" + tokA + "; truss_csrf=" + tokB, "truss_csrf=" + tokA}, header: tokC, wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 3},

		// The three rejection cases.
		{name: "POST without cookie", method: "POST", path: "/api/x", header: tokA, wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "POST without cookie or header", method: "POST", path: "/api/x", wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "empty cookie counts as missing", method: "POST", path: "/api/x", cookies: []string{"truss_csrf="}, header: tokA, wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "cookie of another name", method: "POST", path: "/api/x", cookies: []string{"truss_csrf_old=" + tokA + "; xtruss_csrf=" + tokA}, header: tokA, wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "cookie name is case-sensitive", method: "POST", path: "/api/x", cookies: []string{"TRUSS_CSRF=" + tokA}, header: tokA, wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "header missing", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, wantStatus: 403, wantCode: CodeHeaderMissing, wantCookies: 1},
		{name: "header missing with duplicates", method: "PATCH", path: "/api/x", cookies: []string{"truss_csrf=" + tokA + "; truss_csrf=" + tokB}, wantStatus: 403, wantCode: CodeHeaderMissing, wantCookies: 2},
		{name: "header mismatch", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokB, wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 1},
		{name: "header too short", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokA[:42], wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 1},
		{name: "header too long", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokA + "A", wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 1},
		{name: "header with padding", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokA[:42] + "=", wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 1},
		{name: "header in std base64 alphabet", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + strings.Repeat("+", 43)}, header: strings.Repeat("+", 43), wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 1, wantSetCookie: true},
		{name: "malformed cookie is replaced", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=short"}, header: "short", wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 1, wantSetCookie: true},
		{name: "header with surrounding space is not a token", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: " " + tokA, wantStatus: 403, wantCode: CodeTokenMismatch, wantCookies: 1},

		// Paths outside /api/ are not checked; /api itself and tricks are.
		{name: "POST outside /api", method: "POST", path: "/login", wantStatus: 200, wantSetCookie: true},
		{name: "POST /apifoo is not under /api/", method: "POST", path: "/apifoo", wantStatus: 200, wantSetCookie: true},
		{name: "POST /api exactly", method: "POST", path: "/api", wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "POST /./api/x", method: "POST", path: "/./api/x", wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "POST /x/../api/x", method: "POST", path: "/x/../api/x", wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "POST //api/x", method: "POST", path: "//api/x", wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "unusual method is checked", method: "PROPFIND", path: "/api/x", wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},

		// API clients authenticating with a token header are exempt.
		{name: "X-Session-Token exempts", method: "POST", path: "/api/x", extra: map[string]string{"X-Session-Token": "ory_st_x"}, wantStatus: 200, wantSetCookie: true},
		{name: "Bearer exempts", method: "DELETE", path: "/api/x", extra: map[string]string{"Authorization": "Bearer ory_st_x"}, wantStatus: 200, wantSetCookie: true},
		{name: "bearer in any case exempts", method: "POST", path: "/api/x", extra: map[string]string{"Authorization": "bEaReR ory_st_x"}, wantStatus: 200, wantSetCookie: true},
		{name: "exempt even with a wrong CSRF header", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, header: tokB, extra: map[string]string{"X-Session-Token": "t"}, wantStatus: 200},
		{name: "Basic auth (browser-attached) does not exempt", method: "POST", path: "/api/x", extra: map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "bare Bearer does not exempt", method: "POST", path: "/api/x", extra: map[string]string{"Authorization": "Bearer "}, wantStatus: 403, wantCode: CodeCookieMissing, wantSetCookie: true},
		{name: "empty X-Session-Token does not exempt", method: "POST", path: "/api/x", cookies: []string{"truss_csrf=" + tokA}, extra: map[string]string{"X-Session-Token": ""}, wantStatus: 403, wantCode: CodeHeaderMissing, wantCookies: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, "https://api.example.com/", nil)
			req.URL.Path = tc.path
			for _, c := range tc.cookies {
				req.Header.Add("Cookie", c)
			}
			if tc.header != "" {
				req.Header.Set(HeaderName, tc.header)
			}
			for k, v := range tc.extra {
				req.Header.Set(k, v)
			}
			rec, logs, reached := serve(t, Config{}, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if reached != (tc.wantStatus == 200) {
				t.Errorf("handler reached = %v with status %d", reached, rec.Code)
			}
			set := setCookies(rec)
			if tc.wantSetCookie != (len(set) == 1) || len(set) > 1 {
				t.Errorf("Set-Cookie for %s: %d, want issued=%v", CookieName, len(set), tc.wantSetCookie)
			}
			if len(set) == 1 && !wellFormed(set[0].Value) {
				t.Errorf("issued token %q is not well-formed", set[0].Value)
			}
			if tc.wantCode == "" {
				if logs.Len() != 0 {
					t.Errorf("accepted request was logged: %s", logs)
				}
				return
			}
			var e apiError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if e.Error.Code != tc.wantCode || e.Error.Message == "" || e.Error.Hint == "" || e.Error.RequestID == "" {
				t.Errorf("error = %+v, want code %s with message, hint and request_id", e.Error, tc.wantCode)
			}
			if e.Error.RequestID != rec.Header().Get("X-Request-Id") {
				t.Errorf("request_id %q differs from X-Request-Id", e.Error.RequestID)
			}
			if tc.wantCode != CodeCookieMissing && e.Error.Details["cookies_received"] != float64(tc.wantCookies) {
				t.Errorf("details = %v, want cookies_received %d", e.Error.Details, tc.wantCookies)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", logs, err)
			}
			if line["level"] != "INFO" || line["method"] != tc.method || line["path"] != tc.path ||
				line["case"] != tc.wantCode || line["cookies"] != float64(tc.wantCookies) || line["request_id"] == "" {
				t.Errorf("log line = %v", line)
			}
			for _, tok := range []string{tokA, tokB, tokC} {
				if strings.Contains(logs.String(), tok) {
					t.Errorf("a token leaked into the log: %s", logs)
				}
			}
		})
	}
}

// setCookies returns the truss_csrf cookies a response sets.
func setCookies(rec *httptest.ResponseRecorder) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == CookieName {
			out = append(out, c)
		}
	}
	return out
}

func TestRejectionMessagesExplain(t *testing.T) {
	t.Parallel()
	post := func(cookies, header string) apiError {
		req := httptest.NewRequest("POST", "https://api.example.com/api/x", nil)
		if cookies != "" {
			req.Header.Set("Cookie", cookies)
		}
		if header != "" {
			req.Header.Set(HeaderName, header)
		}
		rec, _, _ := serve(t, Config{}, req)
		var e apiError
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		return e
	}
	tests := []struct {
		name    string
		e       apiError
		message []string
		hint    []string
	}{
		{"cookie missing", post("", tokA), []string{CookieName},
			[]string{"GET /api/auth/login", "credentials: 'include'", "CSRF_COOKIE_DOMAIN", "SameSite", "Set-Cookie", "reverse proxy"}},
		{"header missing", post("truss_csrf="+tokA, ""), []string{HeaderName, CookieName},
			[]string{"Read the truss_csrf cookie", HeaderName, "CSRF_COOKIE_DOMAIN"}},
		{"mismatch, one cookie", post("truss_csrf="+tokA, tokB), []string{"does not match the truss_csrf cookie"},
			[]string{"current value", "CSRF_COOKIE_DOMAIN"}},
		{"mismatch, two cookies", post("truss_csrf="+tokA+"; truss_csrf="+tokB, tokC), []string{"none of the 2 truss_csrf cookies"},
			[]string{"several truss_csrf cookies", "stale or duplicate", "domain scope", "Clear this site's cookies", "same value on every deployment"}},
		{"malformed header", post("truss_csrf="+tokA, "not-a-token"), []string{"not a Truss CSRF token", "43 characters"}, nil},
	}
	for _, tc := range tests {
		for _, want := range tc.message {
			if !strings.Contains(tc.e.Error.Message, want) {
				t.Errorf("%s: message %q lacks %q", tc.name, tc.e.Error.Message, want)
			}
		}
		for _, want := range tc.hint {
			if !strings.Contains(tc.e.Error.Hint, want) {
				t.Errorf("%s: hint %q lacks %q", tc.name, tc.e.Error.Hint, want)
			}
		}
	}
}

func TestIssuedCookieAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg        Config
		wantDomain string
	}{
		{Config{}, ""},
		{Config{Secure: true}, ""},
		{Config{CookieDomain: ".example.com", Secure: true}, "example.com"},
		{Config{CookieDomain: "Example.COM"}, "example.com"},
		{Config{CookieDomain: "not a domain"}, ""}, // invalid: host-only, logged at start
	}
	for _, tc := range tests {
		rec, _, _ := serve(t, tc.cfg, httptest.NewRequest("GET", "https://api.example.com/api/auth/login", nil))
		set := setCookies(rec)
		if len(set) != 1 {
			t.Fatalf("%+v: %d cookies set", tc.cfg, len(set))
		}
		c := set[0]
		if c.Path != "/" || c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.cfg.Secure ||
			c.Domain != tc.wantDomain || c.MaxAge != int(MaxAge/time.Second) {
			t.Errorf("%+v: cookie %s", tc.cfg, c)
		}
		if !wellFormed(c.Value) {
			t.Errorf("%+v: token %q not well-formed", tc.cfg, c.Value)
		}
	}
	// Tokens are random.
	seen := map[string]bool{}
	for range 100 {
		tok := newToken()
		if seen[tok] || !wellFormed(tok) {
			t.Fatalf("token %q repeated or malformed", tok)
		}
		seen[tok] = true
	}
}

func TestInvalidDomainIsLoggedAtStart(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	Middleware(Config{CookieDomain: "https://example.com"}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "CSRF_COOKIE_DOMAIN") || !strings.Contains(logs.String(), "ERROR") {
		t.Errorf("log = %s, want an error naming CSRF_COOKIE_DOMAIN", logs.String())
	}
	logs.Reset()
	Middleware(Config{CookieDomain: ".example.com"}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if logs.Len() != 0 {
		t.Errorf("valid domain logged: %s", logs.String())
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain, host string
		wantErr      string
	}{
		{"", "api.example.com", ""},
		{".example.com", "api.example.com", ""},
		{"example.com", "api.example.com:8443", ""},
		{".EXAMPLE.com", "API.example.com", ""},
		{".example.com", "example.com", ""},
		{".example.com", "a.b.example.com", ""},
		{"localhost", "localhost:8787", ""},
		{".example.com", "api.example.org", "does not contain"},
		{".example.com", "badexample.com", "does not contain"},
		{".app.example.com", "api.example.com", "does not contain"},
		{"https://example.com", "api.example.com", "not a valid cookie domain"},
		{".exa mple.com", "api.example.com", "not a valid cookie domain"},
	}
	for _, tc := range tests {
		err := Config{CookieDomain: tc.domain}.Validate(tc.host)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("Validate(domain %q, host %q) = %v, want %q", tc.domain, tc.host, err, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "CSRF_COOKIE_DOMAIN") {
			t.Errorf("error does not name CSRF_COOKIE_DOMAIN: %v", err)
		}
	}
}

// TestFirstGetThenPost is the dashboard's flow through a real cookie jar: a
// GET hands out the token, and a POST echoing it is accepted.
func TestFirstGetThenPost(t *testing.T) {
	t.Parallel()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewTLSServer(Middleware(Config{Secure: true}, slog.New(slog.DiscardHandler))(next))
	defer srv.Close()
	client := srv.Client()
	client.Jar = newJar(t)

	resp, err := client.Post(srv.URL+"/api/x", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("POST before any GET = %d, want 403", resp.StatusCode)
	}
	// The rejection handed out a token, so the retry with the header works.
	var token string
	for _, c := range client.Jar.Cookies(mustURL(t, srv.URL)) {
		if c.Name == CookieName {
			token = c.Value
		}
	}
	if !wellFormed(token) {
		t.Fatalf("no token in the jar after the first response: %q", token)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/x", nil)
	req.Header.Set(HeaderName, token)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST with the token = %d, want 200", resp.StatusCode)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("a new cookie was issued although the request carried one: %v", resp.Cookies())
	}
}

// The database API (/v1) is authenticated by API keys and ignores cookies:
// its responses set no truss_csrf cookie and its writes are not checked,
// while a /v1 path that cleans to /api is still checked.
func TestV1IsSkipped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path  string
		wantStatus    int
		wantSetCookie bool
	}{
		{"GET", "/v1/db/items", 200, false},
		{"HEAD", "/v1/db/items", 200, false},
		{"POST", "/v1/db/items", 200, false},
		{"PATCH", "/v1/db/items?id=eq.1", 200, false},
		{"DELETE", "/v1/keys/x", 200, false},
		{"POST", "/v1", 200, false},
		{"POST", "/rest/v1/items", 200, false}, // the /v1/db alias for supabase-js
		{"DELETE", "/rest/v1/items?id=eq.1", 200, false},
		{"GET", "/rest/v1x", 200, true}, // not the alias: a token as anywhere else
		{"POST", "/rest/v1/../../api/keys", 403, true},
		{"GET", "/v1x", 200, true},             // not /v1: a token as anywhere else
		{"POST", "/v1/../api/keys", 403, true}, // cleans to /api/keys: checked
		{"GET", "/api/auth/session", 200, true},
	} {
		req := httptest.NewRequest(tc.method, "http://api.example.com/", nil)
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut(tc.path, "?")
		rec, _, _ := serve(t, Config{}, req)
		if rec.Code != tc.wantStatus || (len(setCookies(rec)) > 0) != tc.wantSetCookie {
			t.Errorf("%s %s: status %d, Set-Cookie %q; want %d, cookie %v", tc.method, tc.path, rec.Code,
				rec.Header().Values("Set-Cookie"), tc.wantStatus, tc.wantSetCookie)
		}
	}
}
