package cors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/requestid"
)

// fakeClock is a settable clock for the refusal-log limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logRecords decodes the JSON lines of a slog handler.
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type setup struct {
	handler http.Handler
	logs    *bytes.Buffer
	clock   *fakeClock
	reached *int
}

func newSetup(t *testing.T, opts Options) setup {
	t.Helper()
	var logs bytes.Buffer
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Now = clock.now
	reached := new(int)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*reached++
		w.Header().Add("Vary", "Accept-Encoding")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	return setup{handler: requestid.Middleware(Middleware(opts)(next)), logs: &logs, clock: clock, reached: reached}
}

func (s setup) do(method, origin string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "https://api.example.com/api/auth/session", nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Expose-Headers",
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	opts := Options{
		Allowed:    []string{"https://app.example.com", "http://localhost:5173"},
		SelfOrigin: "https://api.example.com/",
	}
	preflight := func(method, headers string) map[string]string {
		m := map[string]string{"Access-Control-Request-Method": method}
		if headers != "" {
			m["Access-Control-Request-Headers"] = headers
		}
		return m
	}
	tests := []struct {
		name        string
		method      string
		origin      string
		header      map[string]string
		wantStatus  int
		wantReached bool
		wantHeaders map[string]string // "" means must be absent
		wantCode    string
		wantVary    []string
		wantLog     bool
		refused     bool // no CORS header at all, and the log names CORS_ALLOWED_ORIGINS
	}{
		{
			name: "no Origin passes untouched", method: "GET", wantStatus: 200, wantReached: true,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": ""}, wantVary: []string{"Accept-Encoding"},
		},
		{
			name: "same origin passes untouched", method: "POST", origin: "https://api.example.com", wantStatus: 200,
			wantReached: true, wantHeaders: map[string]string{"Access-Control-Allow-Origin": ""},
			wantVary: []string{"Accept-Encoding"},
		},
		{
			name: "same-origin OPTIONS preflight-looking request reaches the handler", method: "OPTIONS",
			origin: "https://api.example.com", header: preflight("POST", ""), wantStatus: 200, wantReached: true,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name: "allowed origin, simple request", method: "GET", origin: "https://app.example.com", wantStatus: 200,
			wantReached: true,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Request-Id", "Access-Control-Allow-Methods": "",
			},
			wantVary: []string{"Origin", "Accept-Encoding"},
		},
		{
			name: "second allowed origin, POST", method: "POST", origin: "http://localhost:5173", wantStatus: 200,
			wantReached: true,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": "http://localhost:5173", "Access-Control-Allow-Credentials": "true"},
		},
		{
			name: "allowed origin, preflight", method: "OPTIONS", origin: "https://app.example.com",
			header: preflight("POST", "content-type, x-csrf-token"), wantStatus: 204,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
				"Access-Control-Allow-Headers": "Content-Type, X-CSRF-Token, X-Session-Token, Authorization, X-Request-Id",
				"Access-Control-Max-Age":       "600", "Access-Control-Expose-Headers": "",
			},
			wantVary: []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"},
		},
		{
			name: "allowed origin, preflight for DELETE with every accepted header", method: "OPTIONS",
			origin:     "https://app.example.com",
			header:     preflight("DELETE", "X-Session-Token,Authorization , X-REQUEST-ID,content-type,x-csrf-token"),
			wantStatus: 204, wantHeaders: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"},
		},
		{
			name: "allowed origin, preflight for an unknown header is logged", method: "OPTIONS",
			origin: "https://app.example.com", header: preflight("POST", "content-type, x-custom-thing"), wantStatus: 204,
			wantHeaders: map[string]string{
				"Access-Control-Allow-Headers": "Content-Type, X-CSRF-Token, X-Session-Token, Authorization, X-Request-Id",
			},
			wantLog: true,
		},
		{
			name: "allowed origin, preflight for an unknown method is logged", method: "OPTIONS",
			origin: "https://app.example.com", header: preflight("PROPFIND", ""), wantStatus: 204, wantLog: true,
		},
		{
			name: "allowed origin, plain OPTIONS is not a preflight", method: "OPTIONS", origin: "https://app.example.com",
			wantStatus: 200, wantReached: true,
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Max-Age": ""},
		},
		{
			name: "refused origin, simple request: no CORS headers, handler runs", method: "GET",
			origin: "https://evil.example.net", wantStatus: 200, wantReached: true, wantLog: true, refused: true,
			wantVary: []string{"Accept-Encoding"},
		},
		{
			name: "refused origin, POST: handler runs (CSRF protects it)", method: "POST",
			origin: "https://evil.example.net", wantStatus: 200, wantReached: true, wantLog: true, refused: true,
		},
		{
			name: "refused origin, preflight: 403", method: "OPTIONS", origin: "https://evil.example.net",
			header: preflight("POST", "x-csrf-token"), wantStatus: 403, wantCode: "cors_origin_not_allowed", wantLog: true, refused: true,
		},
		{
			name: "origin must match exactly: other scheme", method: "GET", origin: "http://app.example.com",
			wantStatus: 200, wantReached: true, wantLog: true, refused: true,
		},
		{
			name: "origin must match exactly: other port", method: "GET", origin: "https://app.example.com:8443",
			wantStatus: 200, wantReached: true, wantLog: true, refused: true,
		},
		{
			name: "origin must match exactly: suffix trick", method: "GET", origin: "https://app.example.com.evil.net",
			wantStatus: 200, wantReached: true, wantLog: true, refused: true,
		},
		{
			name: "origin must match exactly: trailing slash is not an origin", method: "GET",
			origin: "https://app.example.com/", wantStatus: 200, wantReached: true, wantLog: true, refused: true,
		},
		{
			name: "null origin refused", method: "OPTIONS", origin: "null", header: preflight("GET", ""),
			wantStatus: 403, wantCode: "cors_origin_not_allowed", wantLog: true, refused: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, opts)
			rec := s.do(tc.method, tc.origin, tc.header)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if (*s.reached == 1) != tc.wantReached {
				t.Errorf("handler reached %d times, want reached=%v", *s.reached, tc.wantReached)
			}
			for k, want := range tc.wantHeaders {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tc.refused {
				for _, k := range corsHeaders {
					if v := rec.Header().Get(k); v != "" {
						t.Errorf("refused origin got %s: %q", k, v)
					}
				}
			}
			if tc.wantVary != nil && !slices.Equal(rec.Header().Values("Vary"), tc.wantVary) {
				t.Errorf("Vary = %q, want %q", rec.Header().Values("Vary"), tc.wantVary)
			}
			if tc.wantCode != "" {
				var body struct {
					Error struct {
						Code, Message, Hint string
						RequestID           string         `json:"request_id"`
						Details             map[string]any `json:"details"`
					} `json:"error"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("body %q: %v", rec.Body, err)
				}
				if body.Error.Code != tc.wantCode || body.Error.RequestID == "" {
					t.Errorf("error = %+v, want code %s with request_id", body.Error, tc.wantCode)
				}
				if !strings.Contains(body.Error.Hint, EnvVar) || !strings.Contains(body.Error.Hint, tc.origin) {
					t.Errorf("hint %q does not name %s and the origin", body.Error.Hint, EnvVar)
				}
				if body.Error.Details["env"] != EnvVar || body.Error.Details["origin"] != tc.origin {
					t.Errorf("details = %v", body.Error.Details)
				}
			}
			recs := logRecords(t, s.logs)
			if tc.wantLog != (len(recs) == 1) {
				t.Fatalf("log = %v, want one line: %v", recs, tc.wantLog)
			}
			if tc.wantLog {
				if recs[0]["level"] != "WARN" || recs[0]["origin"] != tc.origin || recs[0]["request_id"] == "" {
					t.Errorf("log line = %v, want WARN naming origin %s with request_id", recs[0], tc.origin)
				}
				if tc.refused && !strings.Contains(fmt.Sprint(recs[0]), EnvVar) {
					t.Errorf("refusal log does not name %s: %v", EnvVar, recs[0])
				}
			}
		})
	}
}

func TestRefusalHintSpotsNearMiss(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Allowed: []string{"https://app.example.com"}})
	rec := s.do("OPTIONS", "http://app.example.com", map[string]string{"Access-Control-Request-Method": "POST"})
	if !strings.Contains(rec.Body.String(), "has https://app.example.com, which differs in scheme or port") {
		t.Errorf("hint does not point at the near miss: %s", rec.Body)
	}
	s = newSetup(t, Options{})
	rec = s.do("OPTIONS", "https://app.example.com", map[string]string{"Access-Control-Request-Method": "POST"})
	if !strings.Contains(rec.Body.String(), EnvVar+" is empty") {
		t.Errorf("hint does not say the list is empty: %s", rec.Body)
	}
}

func TestRefusalLogIsRateLimitedPerOrigin(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Allowed: []string{"https://app.example.com"}})
	count := func() int { return len(logRecords(t, s.logs)) }
	for range 10 {
		s.do("GET", "https://evil.example.net", nil)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d log lines for 10 refusals within a second, want 1", n)
	}
	s.do("GET", "https://other.example.net", nil)
	if n := count(); n != 2 {
		t.Fatalf("a second refused origin was not logged (%d lines)", n)
	}
	s.clock.advance(59 * time.Second)
	s.do("GET", "https://evil.example.net", nil)
	if n := count(); n != 2 {
		t.Fatalf("logged again after 59 s (%d lines)", n)
	}
	s.clock.advance(time.Second)
	s.do("GET", "https://evil.example.net", nil)
	if n := count(); n != 3 {
		t.Fatalf("not logged again after a minute (%d lines)", n)
	}
	// Allowed and same-origin requests are never logged.
	s.do("GET", "https://app.example.com", nil)
	s.do("GET", "", nil)
	if n := count(); n != 3 {
		t.Fatalf("allowed requests were logged (%d lines)", n)
	}
}

func TestRefusalLogIsBoundedUnderAFloodOfOrigins(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	for i := range 5 * maxLogKeys {
		s.do("GET", fmt.Sprintf("https://x%d.evil.example", i), nil)
	}
	if n := len(logRecords(t, s.logs)); n != maxLogKeys {
		t.Fatalf("%d log lines for %d distinct origins within a minute, want the bound %d", n, 5*maxLogKeys, maxLogKeys)
	}
	s.clock.advance(time.Minute)
	s.do("GET", "https://late.evil.example", nil)
	if n := len(logRecords(t, s.logs)); n != maxLogKeys+1 {
		t.Fatalf("nothing logged after the minute passed (%d lines)", n)
	}
}

func TestInvalidOptionsAreLoggedAndIgnored(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Allowed: []string{"*", "HTTPS://App.Example.com/", "https://app.example.com"}, SelfOrigin: "not a url"})
	recs := logRecords(t, s.logs)
	if len(recs) != 2 || recs[0]["level"] != "ERROR" || recs[1]["level"] != "ERROR" {
		t.Fatalf("construction log = %v, want two errors (wildcard, bad self origin)", recs)
	}
	s.logs.Reset()
	rec := s.do("GET", "https://app.example.com", nil)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("normalised allowed origin not honoured: %q", got)
	}
	rec = s.do("GET", "https://anything.example", nil)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("wildcard entry took effect: %q", got)
	}
}

func TestHostileOriginIsClipped(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	long := "https://" + strings.Repeat("a", 5000) + ".example"
	rec := s.do("OPTIONS", long, map[string]string{"Access-Control-Request-Method": "POST"})
	if rec.Body.Len() > 3000 || s.logs.Len() > 3000 {
		t.Errorf("a 5000-byte origin produced a %d-byte body and %d-byte log", rec.Body.Len(), s.logs.Len())
	}
}

func TestUnknownHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"content-type,x-csrf-token"}, nil},
		{[]string{"Content-Type, X-CSRF-Token, X-Session-Token, Authorization, X-Request-Id"}, nil},
		{[]string{"x-foo, content-type, X-Foo", "x-bar"}, []string{"x-foo", "x-bar"}},
		{[]string{" , ,x-a,"}, []string{"x-a"}},
		{[]string{"cookie"}, []string{"cookie"}},
	} {
		if got := UnknownHeaders(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("UnknownHeaders(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzPreflight sends arbitrary origins and Access-Control-Request-* values:
// CORS headers appear only for the allowed origin, never with a wildcard,
// and the advertised lists never grow with what the client asked for.
func FuzzPreflight(f *testing.F) {
	f.Add("https://app.example.com", "POST", "content-type, x-csrf-token")
	f.Add("https://evil.example", "DELETE", "x-evil")
	f.Add("*", "GET", "*")
	f.Add("null", "", ",,,")
	f.Fuzz(func(t *testing.T, origin, method, headers string) {
		var logs bytes.Buffer
		h := Middleware(Options{Allowed: []string{"https://app.example.com"}, SelfOrigin: "https://api.example.com",
			Log: slog.New(slog.NewTextHandler(&logs, nil))})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := &http.Request{Method: "OPTIONS", Header: http.Header{
			"Origin": {origin}, "Access-Control-Request-Method": {method}, "Access-Control-Request-Headers": {headers},
		}, URL: &url.URL{Path: "/api/x"}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(t.Context()))
		acao := rec.Header().Get("Access-Control-Allow-Origin")
		if origin == "https://app.example.com" {
			if acao != origin {
				t.Fatalf("allowed origin got ACAO %q", acao)
			}
		} else if acao != "" {
			t.Fatalf("origin %q got ACAO %q", origin, acao)
		}
		if got := rec.Header().Get("Access-Control-Allow-Headers"); got != "" && got != AllowHeaders {
			t.Fatalf("Allow-Headers %q grew from the request %q", got, headers)
		}
		for _, u := range UnknownHeaders([]string{headers}) {
			if allowedHeaders[u] || u == "" {
				t.Fatalf("UnknownHeaders(%q) returned accepted or empty name %q", headers, u)
			}
		}
	})
}

func TestPreflightLogNamesWhatTheBrowserWillRefuse(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Allowed: []string{"https://app.example.com"}})
	s.do("OPTIONS", "https://app.example.com", map[string]string{
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, X-Tenant",
	})
	recs := logRecords(t, s.logs)
	if len(recs) != 1 || recs[0]["unknown_headers"] != "x-tenant" || recs[0]["method"] != "POST" {
		t.Fatalf("log = %v, want one line naming x-tenant", recs)
	}
}

// /v1 (the database API) answers any origin without credentials, with the
// headers postgrest-js sends and reads; /api is unchanged for the same
// origins.
func TestV1AnyOriginWithoutCredentials(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{Allowed: []string{"https://app.example.com"}, SelfOrigin: "https://api.example.com"})
	serve := func(method, path, origin string, header map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "https://api.example.com"+path, nil)
		req.Header.Set("Origin", origin)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		return rec
	}
	postgrestJS := "apikey, authorization, x-client-info, content-type, prefer, accept-profile, content-profile, range, range-unit, x-api-key"
	for i, origin := range []string{"https://someapp.example.org", "https://app.example.com", "http://localhost:3000"} {
		path := []string{"/v1/db/items", "/rest/v1/items", "/rest/v1/rpc/f"}[i] // /rest/v1: supabase-js's path
		rec := serve("OPTIONS", path, origin, map[string]string{
			"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": postgrestJS})
		h := rec.Header()
		if rec.Code != 204 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PATCH") || h.Get("Access-Control-Max-Age") == "" {
			t.Errorf("%s: preflight = %d %v", origin, rec.Code, h)
		}
		allowed := strings.Split(h.Get("Access-Control-Allow-Headers"), ", ")
		for _, want := range strings.Split(postgrestJS, ", ") {
			if !slices.Contains(allowed, want) {
				t.Errorf("%s: Access-Control-Allow-Headers %q lacks %s", origin, allowed, want)
			}
		}
		rec = serve("GET", path, origin, nil)
		h = rec.Header()
		if rec.Code != 200 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: GET = %d %v", origin, rec.Code, h)
		}
		for _, want := range []string{"Content-Range", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"} {
			if !strings.Contains(h.Get("Access-Control-Expose-Headers"), want) {
				t.Errorf("%s: Access-Control-Expose-Headers %q lacks %s", origin, h.Get("Access-Control-Expose-Headers"), want)
			}
		}
	}
	if recs := logRecords(t, s.logs); len(recs) != 0 {
		t.Errorf("/v1 requests logged %v", recs)
	}
	// /api keeps its rules: a listed origin with credentials, others refused.
	rec := serve("GET", "/api/auth/session", "https://someapp.example.org", nil)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/api answered an unlisted origin: %v", rec.Header())
	}
	rec = serve("GET", "/api/auth/session", "https://app.example.com", nil)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("/api for a listed origin: %v", rec.Header())
	}
	rec = serve("OPTIONS", "/api/keys", "https://app.example.com", map[string]string{
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "apikey"})
	if rec.Header().Get("Access-Control-Allow-Headers") != AllowHeaders {
		t.Errorf("/api preflight headers changed: %v", rec.Header())
	}
	// A preflight asking for a header /v1 does not accept is logged.
	serve("OPTIONS", "/v1/db/items", "https://someapp.example.org", map[string]string{
		"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-weird"})
	if recs := logRecords(t, s.logs); len(recs) == 0 || !strings.Contains(fmt.Sprint(recs[len(recs)-1]), "x-weird") {
		t.Errorf("unknown /v1 preflight header not logged: %v", recs)
	}
}
