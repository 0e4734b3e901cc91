// Package csrf protects Truss's cookie-authenticated /api/ endpoints against
// cross-site request forgery with the double-submit pattern: Truss sets a
// random token in the truss_csrf cookie, the dashboard's JavaScript reads it
// and sends it back in the X-CSRF-Token header, and a state-changing request
// is accepted only when the header matches a cookie the browser sent. A forged
// cross-site request makes the browser send the cookie, but it can neither
// read the cookie nor add a custom header (that needs a CORS preflight, which
// internal/cors refuses for unknown origins).
//
// It is built around the two classic self-hosting failures. A browser holding
// two truss_csrf cookies (host-only from api.example.com and one scoped to
// .example.com, with different values) is accepted when the header matches
// either, and Rotate leaves it with exactly one. Every rejection names its
// case (csrf_cookie_missing, csrf_header_missing, csrf_token_mismatch) and
// what to change.
package csrf

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/requestid"
)

const (
	// CookieName is the cookie holding the token. It is not HttpOnly: the
	// dashboard's JavaScript must read it.
	CookieName = "truss_csrf"
	// HeaderName is the request header that must repeat the cookie's value.
	HeaderName = "X-CSRF-Token"
)

// Config is where and how the cookie is set.
type Config struct {
	// CookieDomain is CSRF_COOKIE_DOMAIN, e.g. ".example.com". Set it when the
	// dashboard runs on another subdomain than the API: JavaScript on
	// app.example.com can only read a cookie scoped to the shared parent
	// domain. Empty: a host-only cookie for the API's host.
	CookieDomain string
	// Secure marks the cookie Secure; true when TRUSS_PUBLIC_URL is https
	// (browsers drop Secure cookies on http://localhost).
	Secure bool
}

// Validate reports a CookieDomain browsers would silently ignore: one that is
// not a valid cookie domain, or that does not contain publicHost (the host of
// TRUSS_PUBLIC_URL, where browsers receive the cookie; a port is ignored). Either way the browser
// would keep no truss_csrf cookie and every write would fail with
// csrf_cookie_missing, so this belongs in start-up checks.
func (c Config) Validate(publicHost string) error {
	if c.CookieDomain == "" {
		return nil
	}
	d := cookieDomain(c)
	if d == "" {
		return fmt.Errorf("CSRF_COOKIE_DOMAIN=%q is not a valid cookie domain: expected a domain such as .example.com (no scheme, port or path)", c.CookieDomain)
	}
	host := publicHost
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host != d && !strings.HasSuffix(host, "."+d) {
		return fmt.Errorf("CSRF_COOKIE_DOMAIN=%q does not contain %q, the host of TRUSS_PUBLIC_URL: browsers reject cookies for another domain; "+
			"set it to a parent domain of the API host shared with the dashboard (e.g. .example.com for api.example.com and app.example.com), or leave it empty",
			c.CookieDomain, publicHost)
	}
	return nil
}

// Middleware enforces the token and hands it out.
//
// Every response to a request that carried no well-formed truss_csrf cookie
// sets a fresh one (also on rejections and outside /api/), so a client gets
// its token from its first request, typically a GET. The exception is the
// database API under /v1/: it authenticates with API keys and ignores
// cookies, so its responses carry no Set-Cookie (API clients have no use for
// one, and it would cost every request a token).
//
// Requests are checked when all of these hold: the method is not safe (GET,
// HEAD, OPTIONS and TRACE never change state, so everything else is checked,
// POST, PUT, PATCH and DELETE in particular); the path is /api or under
// /api/; and the request does not authenticate with an X-Session-Token header
// or an "Authorization: Bearer" header. Such API clients are exempt because a
// browser cannot add those headers cross-origin without a CORS preflight, and
// internal/auth ignores cookies when they are present, so the ambient cookie
// is not what authenticates them. Other Authorization schemes (Basic, from a
// password-protected reverse proxy) are attached by browsers automatically,
// so they do not exempt a request.
//
// A failed check is answered 403 in the API error shape and logged at info
// with the method, path, case and number of cookies, never a token.
func Middleware(cfg Config, log *slog.Logger) func(http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	domain := cookieDomain(cfg)
	if cfg.CookieDomain != "" && domain == "" {
		log.Error("CSRF_COOKIE_DOMAIN is not a valid cookie domain; the truss_csrf cookie will be host-only",
			"value", cfg.CookieDomain)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isV1(r.URL.Path) && !needsCheck(r) {
				// /v1 is authenticated by API keys, never cookies: no token to
				// hand out or check. needsCheck still sees the cleaned path, so
				// /v1/../api/... gets no pass.
				next.ServeHTTP(w, r)
				return
			}
			cookies := CookieValues(r, CookieName)
			if !anyWellFormed(cookies) {
				w.Header().Add("Set-Cookie", tokenCookie(cfg, newToken(), domain))
			}
			if !needsCheck(r) {
				next.ServeHTTP(w, r)
				return
			}
			if e := check(r.Header.Get(HeaderName), cookies); e != nil {
				if len(cookies) > 0 && domain != "" {
					// The browser holds tokens this client could not send
					// back: a host-only copy that a dashboard on another
					// subdomain cannot read (left from before
					// CSRF_COOKIE_DOMAIN was set), or stale copies. Nothing
					// else would hand it a readable one (a token is issued
					// only to requests without a cookie, and Rotate runs after
					// a login, which itself needs the token), so replace every
					// copy: the retry succeeds.
					Rotate(w, r, cfg)
				}
				log.LogAttrs(r.Context(), slog.LevelInfo, "CSRF check failed",
					slog.String("request_id", requestid.From(r.Context())),
					slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.String("case", e.Code), slog.Int("cookies", len(cookies)))
				apierror.Write(w, e, requestid.From(r.Context()))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isV1 reports the database API (/v1, and its /rest/v1 alias for
// supabase-js; internal/dbapi), which ignores cookies.
func isV1(p string) bool {
	return p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/rest/v1" || strings.HasPrefix(p, "/rest/v1/")
}

// needsCheck says whether r is a state-changing browser request to the API.
func needsCheck(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	// Clean so that /./api/x or //api/x cannot slip past the prefix test.
	p := path.Clean("/" + r.URL.Path)
	if p != "/api" && !strings.HasPrefix(p, "/api/") {
		return false
	}
	return !apiClient(r)
}

// apiClient reports a request that authenticates with a token header rather
// than the ambient session cookie.
func apiClient(r *http.Request) bool {
	if r.Header.Get("X-Session-Token") != "" {
		return true
	}
	a := r.Header.Get("Authorization")
	return len(a) > 7 && strings.EqualFold(a[:7], "bearer ")
}

// check compares the header with every cookie value in constant time. With
// duplicate cookies (host-only and parent-domain copies) any one may be the
// one the dashboard read, so a match with any is accepted.
func check(header string, cookies []string) *apierror.Error {
	if len(cookies) == 0 {
		return errCookieMissing()
	}
	if header == "" {
		return errHeaderMissing(len(cookies))
	}
	if !wellFormed(header) {
		return errMismatch(len(cookies), true)
	}
	match := 0
	for _, c := range cookies {
		match |= subtle.ConstantTimeCompare([]byte(header), []byte(c))
	}
	if match != 1 {
		return errMismatch(len(cookies), false)
	}
	return nil
}
