package csrf

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func newJar(t *testing.T) *cookiejar.Jar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// jarTokens is what the jar would send to u as truss_csrf, in order.
func jarTokens(jar *cookiejar.Jar, u *url.URL) []string {
	var out []string
	for _, c := range jar.Cookies(u) {
		if c.Name == CookieName {
			out = append(out, c.Value)
		}
	}
	return out
}

// TestRotateLeavesExactlyOneCookie feeds Rotate's Set-Cookie headers into a
// cookie jar seeded with the stale states self-hosters end up in, and checks
// what the browser would then send to the API host and to a sibling
// subdomain (the dashboard).
func TestRotateLeavesExactlyOneCookie(t *testing.T) {
	t.Parallel()
	api := "https://api.example.com/api/auth/login"
	app := "https://app.example.com/"
	type seed struct {
		value, domain string // domain "" = host-only on api.example.com
	}
	tests := []struct {
		name    string
		cfg     Config
		seeds   []seed
		wantApp bool // the dashboard's host sees the token too
	}{
		{"parent domain, fresh browser", Config{CookieDomain: ".example.com", Secure: true}, nil, true},
		{"parent domain, stale host-only copy", Config{CookieDomain: ".example.com", Secure: true},
			[]seed{{tokA, ""}}, true},
		{"parent domain, old parent copy", Config{CookieDomain: ".example.com", Secure: true},
			[]seed{{tokA, "example.com"}}, true},
		{"parent domain, both copies", Config{CookieDomain: ".example.com", Secure: true},
			[]seed{{tokA, ""}, {tokB, "example.com"}}, true},
		{"parent domain without dot, both copies", Config{CookieDomain: "example.com"},
			[]seed{{tokA, ""}, {tokB, "example.com"}}, true},
		{"host-only, fresh browser", Config{Secure: true}, nil, false},
		{"host-only, old host-only copy", Config{Secure: true}, []seed{{tokA, ""}}, false},
		{"host-only, leftover parent copy from an earlier CSRF_COOKIE_DOMAIN", Config{Secure: true},
			[]seed{{tokA, ""}, {tokB, "example.com"}}, false},
		{"host-only, only a leftover parent copy", Config{Secure: true}, []seed{{tokB, "example.com"}}, false},
		{"deeper API host, copies on three scopes", Config{CookieDomain: ".example.com", Secure: true},
			[]seed{{tokA, ""}, {tokB, "eu.example.com"}, {tokC, "example.com"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jar := newJar(t)
			apiURL, appURL := mustURL(t, api), mustURL(t, app)
			if strings.HasPrefix(tc.name, "deeper") {
				apiURL = mustURL(t, "https://api.eu.example.com/api/auth/login")
			}
			for _, s := range tc.seeds {
				jar.SetCookies(apiURL, []*http.Cookie{{Name: CookieName, Value: s.value, Path: "/", Domain: s.domain}})
			}
			req := httptest.NewRequest("POST", apiURL.String(), nil)
			if len(jar.Cookies(apiURL)) != len(tc.seeds) {
				t.Fatalf("seeding failed: jar sends %d cookies", len(jar.Cookies(apiURL)))
			}
			for _, c := range jar.Cookies(apiURL) {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			token := Rotate(rec, req, tc.cfg)
			if !wellFormed(token) || token == tokA || token == tokB || token == tokC {
				t.Fatalf("Rotate returned %q", token)
			}
			jar.SetCookies(apiURL, rec.Result().Cookies())

			if got := jarTokens(jar, apiURL); !slices.Equal(got, []string{token}) {
				t.Errorf("API host would send %q, want exactly the new token; Set-Cookie: %q", got, rec.Header().Values("Set-Cookie"))
			}
			want := []string(nil)
			if tc.wantApp {
				want = []string{token}
			}
			if got := jarTokens(jar, appURL); !slices.Equal(got, want) {
				t.Errorf("dashboard host would send %q, want %q; Set-Cookie: %q", got, want, rec.Header().Values("Set-Cookie"))
			}
			// The new cookie keeps the documented attributes.
			for _, c := range rec.Result().Cookies() {
				if c.Value == token && (c.Path != "/" || c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.cfg.Secure) {
					t.Errorf("new cookie %s", c)
				}
			}
		})
	}
}

// TestRotateAfterMiddlewareIssuedOne: a login request that arrived without a
// cookie already has the middleware's Set-Cookie on the response; Rotate
// replaces it so the response carries one token only.
func TestRotateAfterMiddlewareIssuedOne(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{}, {CookieDomain: ".example.com"}} {
		var token string
		login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "ory_kratos_session=s; Path=/; HttpOnly")
			token = Rotate(w, r, cfg)
		})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "https://api.example.com/api/auth/login", nil)
		req.Header.Set("X-Session-Token", "t") // exempt, so the handler runs
		Middleware(cfg, nil)(login).ServeHTTP(rec, req)

		var values []string
		other := 0
		for _, c := range rec.Result().Cookies() {
			switch {
			case c.Name == CookieName && c.MaxAge >= 0:
				values = append(values, c.Value)
			case c.Name != CookieName:
				other++
			}
		}
		if !slices.Equal(values, []string{token}) || other != 1 {
			t.Errorf("%+v: live truss_csrf cookies %q (want only %q), other cookies %d; Set-Cookie %q",
				cfg, values, token, other, rec.Header().Values("Set-Cookie"))
		}
		jar := newJar(t)
		u := mustURL(t, "https://api.example.com/")
		jar.SetCookies(u, rec.Result().Cookies())
		if got := jarTokens(jar, u); !slices.Equal(got, []string{token}) {
			t.Errorf("%+v: jar holds %q", cfg, got)
		}
	}
}

func TestRotateResponseHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		cookies string
		host    string
		want    []string // prefix of each Set-Cookie line, in order
	}{
		{"host-only, no cookie: one line", Config{}, "", "api.example.com",
			[]string{"truss_csrf=<new>; Path=/; Max-Age=31536000; SameSite=Lax"}},
		{"host-only, one cookie of unknown scope: expire the parent too", Config{}, "truss_csrf=" + tokA, "api.example.com",
			[]string{"truss_csrf=; Path=/; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; SameSite=Lax",
				"truss_csrf=<new>; Path=/; Max-Age=31536000; SameSite=Lax"}},
		{"host-only on a two-label host: nothing above it", Config{}, "truss_csrf=" + tokA, "example.com",
			[]string{"truss_csrf=<new>; Path=/; Max-Age=31536000; SameSite=Lax"}},
		{"parent domain: expire host-only, then set", Config{CookieDomain: ".example.com", Secure: true}, "", "api.example.com",
			[]string{"truss_csrf=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; SameSite=Lax",
				"truss_csrf=<new>; Path=/; Domain=example.com; Max-Age=31536000; Secure; SameSite=Lax"}},
		{"host-only with a cookie: expire every parent", Config{}, "truss_csrf=" + tokA + "; truss_csrf=" + tokB, "a.eu.example.com:8443",
			[]string{"truss_csrf=; Path=/; Domain=eu.example.com; Expires=",
				"truss_csrf=; Path=/; Domain=example.com; Expires=",
				"truss_csrf=<new>; Path=/; Max-Age"}},
		{"parent domain with a cookie: skip the configured one", Config{CookieDomain: "example.com"},
			"truss_csrf=" + tokA + "; truss_csrf=" + tokB, "a.eu.example.com",
			[]string{"truss_csrf=; Path=/; Expires=", "truss_csrf=; Path=/; Domain=eu.example.com; Expires=",
				"truss_csrf=<new>; Path=/; Domain=example.com; Max-Age"}},
		{"IP host: nothing to expire", Config{}, "truss_csrf=" + tokA + "; truss_csrf=" + tokB, "10.0.0.1:8787",
			[]string{"truss_csrf=<new>; Path=/; Max-Age"}},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("POST", "/api/auth/login", nil)
		req.Host = tc.host
		if tc.cookies != "" {
			req.Header.Set("Cookie", tc.cookies)
		}
		rec := httptest.NewRecorder()
		token := Rotate(rec, req, tc.cfg)
		got := rec.Header().Values("Set-Cookie")
		if len(got) != len(tc.want) {
			t.Errorf("%s: Set-Cookie %q, want %d lines", tc.name, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if w = strings.ReplaceAll(w, "<new>", token); !strings.HasPrefix(got[i], w) {
				t.Errorf("%s: Set-Cookie[%d] = %q, want prefix %q", tc.name, i, got[i], w)
			}
		}
	}
}

func TestParentDomains(t *testing.T) {
	t.Parallel()
	for host, want := range map[string][]string{
		"api.example.com":      {"example.com"},
		"API.Example.com:8443": {"example.com"},
		"a.b.c.example.com.":   {"b.c.example.com", "c.example.com", "example.com"},
		"example.com":          nil,
		"localhost:8787":       nil,
		"10.0.0.1":             nil,
		"[::1]:8787":           nil,
		"":                     nil,
		"a..example.com":       {"example.com"},
		strings.Repeat("x.", 50) + "com": {
			strings.Repeat("x.", 49) + "com", strings.Repeat("x.", 48) + "com", strings.Repeat("x.", 47) + "com",
			strings.Repeat("x.", 46) + "com", strings.Repeat("x.", 45) + "com", strings.Repeat("x.", 44) + "com",
			strings.Repeat("x.", 43) + "com", strings.Repeat("x.", 42) + "com"},
	} {
		if got := parentDomains(host); !slices.Equal(got, want) {
			t.Errorf("parentDomains(%q) = %q, want %q", host, got, want)
		}
	}
}
