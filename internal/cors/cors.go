// Package cors lets the Truss dashboard call the API from another origin
// (dashboard https://app.example.com, API https://api.example.com) with the
// session cookie, and explains itself when it refuses to.
//
// Only origins listed exactly in CORS_ALLOWED_ORIGINS get CORS headers, always
// with credentials allowed: a cookie-authenticated API must never answer
// "Access-Control-Allow-Origin: *" nor reflect arbitrary origins. A refused
// origin is logged at warn, naming the origin and the variable to set, because
// the browser hides the real reason from the dashboard and the user only sees
// "Not authenticated" or a failed fetch.
package cors

import (
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/requestid"
)

// CodeOriginNotAllowed is the API error code of a refused preflight.
const CodeOriginNotAllowed = "cors_origin_not_allowed"

// What an allowed origin may do. The headers are the ones Truss reads:
// Content-Type for JSON bodies, the CSRF token, session tokens for API
// clients and a request ID to correlate with the server log.
const (
	AllowMethods = "GET, POST, PUT, PATCH, DELETE"
	AllowHeaders = "Content-Type, X-CSRF-Token, X-Session-Token, Authorization, X-Request-Id"
	// MaxAge is how long (seconds) a browser may cache a preflight answer: short
	// enough that fixing CORS_ALLOWED_ORIGINS takes effect within minutes.
	MaxAge = 600
)

// The database API under /v1 (internal/dbapi) is called from browser apps
// with an API key in a header, the way @supabase/postgrest-js does; it
// never reads cookies. So any origin may call it, without credentials:
// "Access-Control-Allow-Origin: *", which browsers never combine with
// cookies, so a page on another origin gains nothing it could not do with
// the key itself.
const (
	V1AllowMethods = "GET, HEAD, POST, PATCH, DELETE"
	// V1AllowHeaders are what postgrest-js and supabase-js send.
	V1AllowHeaders = "apikey, x-api-key, authorization, prefer, range, range-unit, accept-profile, content-profile, x-client-info, content-type, x-request-id"
	// V1ExposeHeaders are what a client reads: row ranges and counts, and
	// the API key's rate limit.
	V1ExposeHeaders = "Content-Range, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Request-Id"
)

var allowedHeaders, v1AllowedHeaders = headerSet(AllowHeaders), headerSet(V1AllowHeaders)

func headerSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, h := range strings.Split(list, ",") {
		m[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return m
}

// isV1 reports a path of the database API (/v1, and /rest/v1 where
// supabase-js sends auto-REST requests).
func isV1(p string) bool {
	p = path.Clean("/" + p)
	return p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/rest/v1" || strings.HasPrefix(p, "/rest/v1/")
}

// Options configures Middleware.
type Options struct {
	// Allowed are the cross-origin browser origins allowed to call the API with
	// credentials: the result of ParseOrigins(CORS_ALLOWED_ORIGINS). Entries are
	// normalised again; an invalid one is logged at error and ignored.
	Allowed []string
	// SelfOrigin is Truss's own origin, from TRUSS_PUBLIC_URL (a whole URL is
	// reduced to its origin). Requests from it are same-origin: they need no
	// CORS headers and are never logged as refused, even when it is not in
	// Allowed. Empty: no such shortcut.
	SelfOrigin string
	// Log receives refusals (nil: slog.Default()).
	Log *slog.Logger
	// Now is the clock of the once-a-minute refusal log (nil: time.Now).
	Now func() time.Time
}

// Middleware applies Options to every request:
//
//   - no Origin header (same-origin GET, curl, server-to-server) or the
//     SelfOrigin: passed through untouched;
//   - an allowed Origin: Access-Control-Allow-Origin echoes it, with
//     Access-Control-Allow-Credentials: true, Vary: Origin and X-Request-Id
//     exposed; a preflight (OPTIONS with Access-Control-Request-Method) is
//     answered 204 with the methods and headers Truss accepts, without
//     reaching the handler;
//   - any other Origin: no CORS headers, so the browser withholds the
//     response from the page; a warn log names the origin and CORS_ALLOWED_ORIGINS
//     (once a minute per origin); a preflight gets 403 cors_origin_not_allowed,
//     other requests reach the handler (CSRF protection, not CORS, is what
//     stops forged writes);
//   - under /v1 (the database API, authenticated by API-key headers, never
//     cookies): any Origin gets "Access-Control-Allow-Origin: *" without
//     credentials, the V1 headers exposed, and preflights answered 204 with
//     V1AllowMethods and V1AllowHeaders.
func Middleware(opts Options) func(http.Handler) http.Handler {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	allowed := map[string]bool{}
	var list []string
	for _, a := range opts.Allowed {
		o, err := normalize(strings.TrimSpace(a), false)
		if err != nil {
			log.Error("ignoring invalid allowed CORS origin", "env", EnvVar, "value", a, "error", err.Error())
			continue
		}
		if !allowed[o] {
			allowed[o] = true
			list = append(list, o)
		}
	}
	self := ""
	if opts.SelfOrigin != "" {
		o, err := normalize(strings.TrimSpace(opts.SelfOrigin), true)
		if err != nil {
			log.Error("ignoring invalid self origin", "value", opts.SelfOrigin, "error", err.Error())
		} else {
			self = o
		}
	}
	m := &middleware{allowed: allowed, list: list, self: self, log: log,
		limiter: &logLimiter{now: now, last: map[string]time.Time{}}}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.serve(next, w, r)
		})
	}
}

type middleware struct {
	allowed map[string]bool
	list    []string // allowed, in configured order, for messages
	self    string
	log     *slog.Logger
	limiter *logLimiter
}

func (m *middleware) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == m.self {
		next.ServeHTTP(w, r)
		return
	}
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if isV1(r.URL.Path) {
		m.serveV1(next, w, r, origin, preflight)
		return
	}
	if !m.allowed[origin] {
		m.refuse(next, w, r, origin, preflight)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if !preflight {
		h.Set("Access-Control-Expose-Headers", requestid.Header)
		next.ServeHTTP(w, r)
		return
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", AllowMethods)
	h.Set("Access-Control-Allow-Headers", AllowHeaders)
	h.Set("Access-Control-Max-Age", strconv.Itoa(MaxAge))
	method := r.Header.Get("Access-Control-Request-Method")
	unknown := UnknownHeaders(r.Header.Values("Access-Control-Request-Headers"))
	if (!methodAllowed(method) || len(unknown) > 0) && m.limiter.allow("preflight "+clip(origin)) {
		// The browser will fail this preflight on its side; say why here.
		m.log.Warn("CORS preflight asks for a method or headers Truss does not accept; the browser will block the request",
			"request_id", requestid.From(r.Context()), "origin", clip(origin), "method", clip(method),
			"unknown_headers", clip(strings.Join(unknown, ", ")),
			"allowed_methods", AllowMethods, "allowed_headers", AllowHeaders)
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveV1 answers any origin on /v1, without credentials (see V1AllowHeaders).
func (m *middleware) serveV1(next http.Handler, w http.ResponseWriter, r *http.Request, origin string, preflight bool) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if !preflight {
		h.Set("Access-Control-Expose-Headers", V1ExposeHeaders)
		next.ServeHTTP(w, r)
		return
	}
	h.Set("Access-Control-Allow-Methods", V1AllowMethods)
	h.Set("Access-Control-Allow-Headers", V1AllowHeaders)
	h.Set("Access-Control-Max-Age", strconv.Itoa(MaxAge))
	method := r.Header.Get("Access-Control-Request-Method")
	unknown := unknownHeaders(r.Header.Values("Access-Control-Request-Headers"), v1AllowedHeaders)
	if (!methodAllowed(method) || method == http.MethodPut || len(unknown) > 0) && m.limiter.allow("preflight v1 "+clip(origin)) {
		m.log.Warn("CORS preflight to /v1 asks for a method or headers Truss does not accept; the browser will block the request",
			"request_id", requestid.From(r.Context()), "origin", clip(origin), "method", clip(method),
			"unknown_headers", clip(strings.Join(unknown, ", ")),
			"allowed_methods", V1AllowMethods, "allowed_headers", V1AllowHeaders)
	}
	w.WriteHeader(http.StatusNoContent)
}

// refuse handles an Origin that is neither allowed nor Truss's own.
func (m *middleware) refuse(next http.Handler, w http.ResponseWriter, r *http.Request, origin string, preflight bool) {
	hint := m.hint(origin)
	if m.limiter.allow(clip(origin)) {
		m.log.Warn("CORS: refused a cross-origin request from an origin not in "+EnvVar+"; the browser will block the response",
			"request_id", requestid.From(r.Context()), "origin", clip(origin), "method", r.Method,
			"path", clip(r.URL.Path), "allowed", strings.Join(m.list, ","), "hint", hint)
	}
	if !preflight {
		next.ServeHTTP(w, r)
		return
	}
	apierror.Write(w, apierror.New(http.StatusForbidden, CodeOriginNotAllowed,
		"Origin "+clip(origin)+" is not allowed to call this API from a browser.").
		WithHint(hint).
		WithDetails(map[string]any{"origin": clip(origin), "env": EnvVar}), requestid.From(r.Context()))
}

// hint says what to set, and spots the classic near-miss: the origin is
// listed with another scheme or port.
func (m *middleware) hint(origin string) string {
	var b strings.Builder
	b.WriteString("If this is your dashboard, add " + clip(origin) + " to " + EnvVar +
		" (comma-separated exact origins: scheme, host and port, no path, e.g. " + EnvVar + "=https://app.example.com) and restart Truss.")
	if len(m.list) == 0 {
		b.WriteString(" " + EnvVar + " is empty, so only same-origin requests are accepted.")
	}
	if u, err := url.Parse(origin); err == nil && u.Hostname() != "" {
		for _, a := range m.list {
			if au, err := url.Parse(a); err == nil && strings.EqualFold(au.Hostname(), u.Hostname()) {
				b.WriteString(" " + EnvVar + " has " + a + ", which differs in scheme or port: origins must match exactly.")
				break
			}
		}
	}
	return b.String()
}

func methodAllowed(m string) bool {
	return slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}, m)
}

// UnknownHeaders returns the headers named in Access-Control-Request-Headers
// values (comma-separated, any case) that are not in AllowHeaders,
// lowercased, deduplicated, in order. Such a preflight fails in the browser;
// the middleware logs the names so the cause is visible on the server.
func UnknownHeaders(values []string) []string { return unknownHeaders(values, allowedHeaders) }

func unknownHeaders(values []string, allowed map[string]bool) []string {
	var out []string
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "" && !allowed[name] && !slices.Contains(out, name) {
				out = append(out, name)
				if len(out) == 20 {
					return out // enough to explain; bounds work on hostile input
				}
			}
		}
	}
	return out
}

// clip bounds client-supplied text put in logs and error bodies.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// logLimiter lets one refusal log line per key through per minute, so a
// misconfigured dashboard polling every second, or a flood of made-up
// origins, cannot drown the log. It remembers at most maxLogKeys keys: while
// that many distinct keys were logged within the last minute, further new
// keys are not logged, which bounds the log to maxLogKeys lines a minute.
type logLimiter struct {
	now func() time.Time

	mu   sync.Mutex
	last map[string]time.Time
}

const (
	logEvery   = time.Minute
	maxLogKeys = 256
)

func (l *logLimiter) allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < logEvery && !now.Before(t) {
		return false
	}
	if len(l.last) >= maxLogKeys {
		for k, t := range l.last {
			if now.Sub(t) >= logEvery || now.Before(t) {
				delete(l.last, k)
			}
		}
		if len(l.last) >= maxLogKeys {
			return false
		}
	}
	l.last[key] = now
	return true
}
