package browsertest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
)

// crossSite is a dashboard and an API on sibling subdomains of example.test,
// both HTTPS on 127.0.0.1, configured as the README says for that layout.
type crossSite struct {
	api     string // https://api.example.test:<port>
	allowed string // the dashboard origin in CORS_ALLOWED_ORIGINS
	logs    *logBuffer
	pki     pki
	config  map[string]string // the API's configuration overrides
}

// startCrossSite starts the API and one dashboard per host in pages (e.g.
// "app", "evil"), and returns the setup and the dashboards' origins. Only
// https://app.example.test:<port> is in CORS_ALLOWED_ORIGINS, so "app" must
// be in pages.
func startCrossSite(t *testing.T, pages ...string) (crossSite, map[string]string) {
	t.Helper()
	return startCrossSiteWith(t, nil, pages...)
}

// startCrossSiteWith is startCrossSite with configuration changes; an empty
// value removes a variable from the cross-site setup.
func startCrossSiteWith(t *testing.T, change map[string]string, pages ...string) (crossSite, map[string]string) {
	t.Helper()
	cs := crossSite{logs: newServerLog(t), pki: newPKI(t)}
	// Listen first: the configuration needs every port.
	apiLn, apiPort := listen(t)
	cs.api = fmt.Sprintf("https://api.example.test:%d", apiPort)
	origins := map[string]string{}
	var pageLns []func()
	for _, host := range pages {
		ln, port := listen(t)
		origins[host] = fmt.Sprintf("https://%s.example.test:%d", host, port)
		pageLns = append(pageLns, func() { serve(t, ln, dashboard(cs.api), &cs.pki.cert, cs.logs) })
	}
	cs.allowed = origins["app"]
	if cs.allowed == "" {
		t.Fatal("startCrossSite needs the app dashboard")
	}
	cs.config = map[string]string{
		"TRUSS_PUBLIC_URL":     cs.api,
		"CSRF_COOKIE_DOMAIN":   ".example.test",
		"COOKIE_DOMAIN":        ".example.test",
		"COOKIE_SAMESITE":      "none",
		"CORS_ALLOWED_ORIGINS": cs.allowed,
	}
	for k, v := range change {
		cs.config[k] = v
	}
	h := truss(t, cs.config, cs.logs)
	serve(t, apiLn, h, &cs.pki.cert, cs.logs)
	for _, start := range pageLns {
		start()
	}
	return cs, origins
}

// TestCrossSubdomainLogin: a dashboard on https://app.example.test calls
// the API on https://api.example.test from a real browser: CSRF cookie from
// the first GET, register, logout, login (with a stale host-only CSRF cookie
// in the jar, as left by an earlier deployment), session, settings; the
// session cookie is shared by the subdomains with the documented attributes
// and login leaves exactly one CSRF cookie.
func TestCrossSubdomainLogin(t *testing.T) {
	ctx := testContext(t)
	cs, origins := startCrossSite(t, "app")
	b := newBrowser(t, ctx, cs.pki.spki)
	b.open(origins["app"] + "/")
	email := uniqueEmail()

	// First visit: the GET hands out the CSRF token; registration signs in.
	res := b.run(
		step{Method: "GET", Path: "/api/auth/login"},
		step{Method: "POST", Path: "/api/auth/register", Body: map[string]any{"email": email, "password": password, "name": "Ada"}},
	)
	expectStatus(t, res[0], http.StatusOK)
	if !strings.Contains(res[0].CookiesAfter, "truss_csrf=") {
		t.Fatalf("after GET /api/auth/login the dashboard's JavaScript cannot read truss_csrf (document.cookie %q); cookies in the browser: %s",
			res[0].CookiesAfter, describe(b.cookies()))
	}
	expectStatus(t, res[1], http.StatusOK)
	if p := res[1].principal(t); p.Email != email || p.IdentityID == "" {
		t.Fatalf("register answered %+v", p)
	}
	if res[1].CSRFSent == "" {
		t.Fatal("the page sent no CSRF token with register")
	}
	checkSessionCookie(t, b.cookies())
	checkOneCSRFCookie(t, b.cookies(), res[1])

	// Log out: the session is gone for the browser.
	res = b.run(
		step{Method: "POST", Path: "/api/auth/logout"},
		step{Method: "GET", Path: "/api/auth/session"},
	)
	expectStatus(t, res[0], http.StatusNoContent)
	expectStatus(t, res[1], http.StatusUnauthorized)
	if got := named(b.cookies(), "truss_session"); len(got) != 0 {
		t.Fatalf("logout left %s", describe(got))
	}

	// A stale host-only truss_csrf for the API host, as an earlier
	// deployment without CSRF_COOKIE_DOMAIN leaves behind. The browser now
	// sends two truss_csrf cookies to the API, and the dashboard can read
	// only the parent-domain one.
	stale := strings.Repeat("S", 43)
	b.setCookie(network.SetCookieParams{Name: "truss_csrf", Value: stale, URL: cs.api + "/", Path: "/",
		Secure: new(true), SameSite: network.CookieSameSiteLax})
	if got := named(b.cookies(), "truss_csrf"); len(got) != 2 {
		t.Fatalf("seeding the stale cookie: the browser holds %s", describe(got))
	}

	// Log in again, read the session, change the profile.
	res = b.run(
		step{Method: "POST", Path: "/api/auth/login", Body: map[string]any{"email": email, "password": password}},
		step{Method: "GET", Path: "/api/auth/session"},
		step{Method: "POST", Path: "/api/auth/settings", Body: map[string]any{"name": "Ada Lovelace"}},
		step{Method: "GET", Path: "/api/auth/session"},
	)
	login, session, settings, after := res[0], res[1], res[2], res[3]
	expectStatus(t, login, http.StatusOK)
	if p := login.principal(t); p.Email != email {
		t.Fatalf("login answered %+v, want %s", p, email)
	}
	if login.CSRFSent == stale {
		t.Fatal("the dashboard read the API's host-only cookie: it must not be able to")
	}
	expectStatus(t, session, http.StatusOK)
	if p := session.principal(t); p.Email != email || p.Name != "Ada" {
		t.Fatalf("session answered %+v, want %s (Ada)", p, email)
	}
	expectStatus(t, settings, http.StatusOK)
	if p := settings.principal(t); p.Name != "Ada Lovelace" || p.Email != email {
		t.Fatalf("settings answered %+v, want the name changed", p)
	}
	if settings.CSRFSent == login.CSRFSent {
		t.Error("login did not rotate the CSRF token: the page sent the same one before and after")
	}
	expectStatus(t, after, http.StatusOK)
	if p := after.principal(t); p.Name != "Ada Lovelace" {
		t.Fatalf("session after settings answered %+v", p)
	}

	cookies := b.cookies()
	checkSessionCookie(t, cookies)
	checkOneCSRFCookie(t, cookies, after)
	if strings.Contains(after.CookiesAfter, "truss_session") {
		t.Errorf("JavaScript can read truss_session: document.cookie %q", after.CookiesAfter)
	}
}

// checkSessionCookie: one truss_session, shared by the subdomains, out of
// reach of scripts, HTTPS only, sent cross-site.
func checkSessionCookie(t *testing.T, cookies []*network.Cookie) {
	t.Helper()
	s := named(cookies, "truss_session")
	if len(s) != 1 {
		t.Fatalf("want one truss_session cookie, the browser holds %s", describe(s))
	}
	c := s[0]
	if c.Domain != ".example.test" || c.Path != "/" || !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteNone {
		t.Errorf("truss_session %s, want domain=.example.test path=/ httpOnly secure sameSite=None", describe(s))
	}
}

// checkOneCSRFCookie: exactly one truss_csrf, on the parent domain, readable
// by the dashboard, and it is the token the page sees.
func checkOneCSRFCookie(t *testing.T, cookies []*network.Cookie, last result) {
	t.Helper()
	c := named(cookies, "truss_csrf")
	if len(c) != 1 {
		t.Fatalf("want exactly one truss_csrf cookie after the session changed, the browser holds %s", describe(c))
	}
	if c[0].Domain != ".example.test" || c[0].HTTPOnly || !c[0].Secure {
		t.Errorf("truss_csrf %s, want domain=.example.test, readable by scripts, secure", describe(c))
	}
	if !strings.Contains(last.CookiesAfter, "truss_csrf="+c[0].Value) {
		t.Errorf("the page sees %q, the cookie store holds truss_csrf=%s", last.CookiesAfter, c[0].Value)
	}
}

// TestRefusedOriginCannotCallAPI: a page on a sibling subdomain that is not
// in CORS_ALLOWED_ORIGINS gets nothing from the API: the browser fails its
// fetches (the response of the simple GET is withheld, the preflight of the
// write is refused so the write is never sent), no session is created, and
// the server log names the origin and the variable to set.
func TestRefusedOriginCannotCallAPI(t *testing.T) {
	ctx := testContext(t)
	cs, origins := startCrossSite(t, "app", "evil")
	evil := origins["evil"]
	b := newBrowser(t, ctx, cs.pki.spki)
	b.open(evil + "/")

	res := b.run(
		step{Method: "GET", Path: "/api/auth/login"},
		step{Method: "POST", Path: "/api/auth/register", Body: map[string]any{"email": uniqueEmail(), "password": password}},
	)
	for _, r := range res {
		if r.Status != 0 || !strings.HasPrefix(r.Error, "TypeError") {
			t.Errorf("%s; want the browser to fail the fetch with a TypeError", r)
		}
	}
	if s := named(b.cookies(), "truss_session"); len(s) != 0 {
		t.Errorf("a refused origin got a session: %s", describe(s))
	}

	// The requests did reach the API over TLS: the failure is CORS, not the
	// network or the certificate.
	reqs := cs.logs.requests()
	for _, want := range []string{"GET /api/auth/login 200", "OPTIONS /api/auth/register 403"} {
		if !slices.Contains(reqs, want) {
			t.Errorf("server log has no request %q; it logged %q", want, reqs)
		}
	}
	for _, r := range reqs {
		if strings.HasPrefix(r, "POST ") {
			t.Errorf("the browser sent %q although its preflight was refused", r)
		}
	}

	// The server says why, naming the origin and the variable.
	refusals := 0
	for _, rec := range cs.logs.records() {
		if rec["origin"] == evil && rec["level"] == "WARN" && strings.Contains(fmt.Sprint(rec["msg"]), "CORS_ALLOWED_ORIGINS") &&
			strings.Contains(fmt.Sprint(rec["hint"]), "add "+evil+" to CORS_ALLOWED_ORIGINS") {
			refusals++
		}
	}
	if refusals == 0 {
		t.Errorf("no warning naming %s and CORS_ALLOWED_ORIGINS in the server log:\n%s", evil, cs.logs.String())
	}

	// And the browser says it was CORS, for both requests (its console
	// messages arrive as events: wait for them a little).
	for _, path := range []string{"/api/auth/login", "/api/auth/register"} {
		b.waitConsole(t, "Access to fetch at '"+cs.api+path+"' from origin '"+evil+"' has been blocked by CORS policy")
	}
}

// TestStaleHostOnlyCSRFCookieRecovers: a host-only truss_csrf left from
// before CSRF_COOKIE_DOMAIN was set cannot be read by the dashboard; the
// first refused write replaces it, and the retry succeeds.
func TestStaleHostOnlyCSRFCookieRecovers(t *testing.T) {
	ctx := testContext(t)
	cs, origins := startCrossSite(t, "app")
	b := newBrowser(t, ctx, cs.pki.spki)
	b.open(origins["app"] + "/")
	b.setCookie(network.SetCookieParams{Name: "truss_csrf", Value: strings.Repeat("S", 43), URL: cs.api + "/", Path: "/",
		Secure: new(true), SameSite: network.CookieSameSiteLax})
	reg := step{Method: "POST", Path: "/api/auth/register", Body: map[string]any{"email": uniqueEmail(), "password": password}}
	res := b.run(step{Method: "GET", Path: "/api/auth/login"}, reg, reg)
	expectStatus(t, res[2], http.StatusOK) // the 403 before it replaced the unreadable cookie
	checkOneCSRFCookie(t, b.cookies(), res[2])
}
