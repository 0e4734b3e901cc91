// Package demo serves the read-only demo of the dashboard under /demo/.
//
// The separation from real accounts is enforced here, on the server:
//
//   - Everything under /demo/ is answered by this handler and nothing else:
//     the dashboard (index.html with window.__TRUSS__ = {apiUrl: "/demo",
//     basePath: "/demo", demo: true}) and the demo API at /demo/api/...,
//     which the demo dashboard calls instead of /api/....
//   - The demo identity is the truss_demo cookie (HttpOnly, Path=/demo,
//     host-only, signed with a per-process key), so the browser sends it
//     only to /demo/. internal/auth never reads it: a request outside /demo/
//     cannot resolve to the demo tenant (and internal/auth additionally
//     refuses any session whose tenant is a demo tenant, see
//     internal/auth/demo.go).
//   - Inside /demo/, real credentials are dropped before anything else
//     (truss_session cookie, X-Session-Token, Authorization), and the demo
//     API never calls internal/auth or Kratos: it answers from the demo
//     tenant's seeded example data (seed.go), so a request inside /demo/
//     cannot resolve to a real account or read real data.
//   - Every mutation (any method but GET, HEAD and OPTIONS) under /demo/ is
//     403 demo_read_only, whatever the path. The one exception is
//     POST /demo/api/keto/check, a permission check: it only reads, and is
//     answered from the seeded tuples.
//   - All demo traffic is rate limited per client IP (429 rate_limited with
//     Retry-After).
//   - A real login (and logout) expires every truss_demo cookie, host-only
//     and on every parent domain (ClearCookies, wired in internal/server as
//     part of auth.Service.OnLogin).
//
// The demo tenant is one row of truss_internal.tenants (is_demo = true,
// owner 00000000-0000-0000-0000-00000000de70, which is no Kratos identity)
// with its owner in tenant_members, created on first use. Its example users,
// sessions and sign-ins (seed.go), organizations, projects and permission
// tuples (keto.go), OAuth2 clients, API keys, SMTP settings and outbox
// (sections.go)
// are static data; the demo needs no Kratos identity and calls neither Keto
// nor Hydra, so it works (and leaks nothing) with any of them.
package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/clientip"
	"github.com/trussdev/truss/internal/ratelimit"
	"github.com/trussdev/truss/internal/requestid"
	"github.com/trussdev/truss/web"
)

const (
	// CookieName holds the demo visitor's signed token.
	CookieName = "truss_demo"
	// CookiePath scopes the cookie to the demo: browsers never send it to /api/.
	CookiePath = "/demo"
	// Prefix is where the demo is mounted.
	Prefix = "/demo"
	// CodeReadOnly answers every mutation under /demo/.
	CodeReadOnly = "demo_read_only"
	// IdentityID owns the demo tenant; it is no Kratos identity.
	IdentityID = "00000000-0000-0000-0000-00000000de70"
	// TenantName is the demo tenant's name.
	TenantName = "Truss demo"
	// CheckPath (under /demo/api) is the permission check: the one POST
	// the demo answers, since a check reads and changes nothing.
	CheckPath = "/keto/check"
	// DefaultRatePerMinute is the per-IP limit of demo requests.
	DefaultRatePerMinute = 300

	cookieMaxAge = 24 * time.Hour
)

// Options configure the demo.
type Options struct {
	Pool *pgxpool.Pool
	Log  *slog.Logger
	// Secure marks the cookie Secure (https TRUSS_PUBLIC_URL).
	Secure bool
	// Proxies resolves the client IP for the rate limit.
	Proxies clientip.Resolver
	// Health is the real GET /api/health handler: it is public, so the
	// demo's system health screen shows the real services.
	Health http.Handler
	// RatePerMinute is the per-IP limit (0: DefaultRatePerMinute).
	RatePerMinute int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Handler serves /demo/.
type Handler struct {
	opts    Options
	key     []byte
	limiter *ratelimit.Limiter
	app     http.Handler

	mu     sync.Mutex
	tenant string // the demo tenant's id once ensured
}

// New builds the demo handler.
func New(opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RatePerMinute <= 0 {
		opts.RatePerMinute = DefaultRatePerMinute
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Handler{
		opts: opts, key: key,
		limiter: ratelimit.New(opts.RatePerMinute, time.Minute, opts.Now),
		app:     web.App(web.RuntimeConfig{APIURL: Prefix, BasePath: Prefix, Demo: true}),
	}
}

// ServeHTTP answers every request under /demo/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	stripCredentials(r)
	w.Header().Set("X-Robots-Tag", "noindex")
	if ok, wait := h.limiter.Allow(h.opts.Proxies.ClientIP(r).String()); !ok {
		ratelimit.WriteRetryAfter(w, wait)
		h.fail(w, r, ratelimit.TooMany(wait))
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	case http.MethodPost:
		// A permission check is a read: the one POST the demo answers.
		if rest != "/api"+CheckPath {
			h.fail(w, r, ReadOnly())
			return
		}
	default:
		h.fail(w, r, ReadOnly())
		return
	}
	if rest != "/api" && !strings.HasPrefix(rest, "/api/") {
		h.app.ServeHTTP(w, r)
		return
	}
	if err := h.api(w, r, strings.TrimPrefix(rest, "/api")); err != nil {
		h.fail(w, r, apierror.As(err))
	}
}

// ReadOnly is the answer to every mutation in the demo.
func ReadOnly() *apierror.Error {
	return apierror.New(http.StatusForbidden, CodeReadOnly, "This is the read-only demo: changes are switched off.").
		WithHint("Sign in to your own Truss at / (or install Truss) to make changes.")
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *apierror.Error) {
	if e.Status >= 500 {
		h.opts.Log.Error("demo request failed", "request_id", requestid.From(r.Context()), "code", e.Code, "error", e.Error())
	}
	apierror.Write(w, e, requestid.From(r.Context()))
}

// stripCredentials drops every real credential from a demo request, so
// nothing downstream (the health handler included) can act as a real user.
func stripCredentials(r *http.Request) {
	r.Header.Del("Authorization")
	r.Header.Del("X-Session-Token")
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name == CookieName {
			r.AddCookie(c)
		}
	}
}

// --- the demo cookie ---

// newToken returns a random visitor id with its signature: "id.mac".
func (h *Handler) newToken() string {
	id := make([]byte, 18)
	_, _ = rand.Read(id)
	v := base64.RawURLEncoding.EncodeToString(id)
	return v + "." + h.sign(v)
}

func (h *Handler) sign(v string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("truss-demo:" + v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCookie reports whether the request carries a truss_demo cookie this
// process signed. (Behind a load balancer, another instance re-issues one.)
func (h *Handler) validCookie(r *http.Request) bool {
	for _, c := range r.CookiesNamed(CookieName) {
		v, mac, ok := strings.Cut(c.Value, ".")
		if ok && hmac.Equal([]byte(mac), []byte(h.sign(v))) {
			return true
		}
	}
	return false
}

func (h *Handler) setCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: h.newToken(), Path: CookiePath,
		MaxAge: int(cookieMaxAge.Seconds()), HttpOnly: true, Secure: h.opts.Secure, SameSite: http.SameSiteLaxMode})
}

// ClearCookies expires every truss_demo cookie a browser may hold: host-only
// and on sessionDomain (COOKIE_DOMAIN) and every parent domain of the
// request's host, on the demo path and on /. The server cannot see which
// exist (they are never sent outside /demo/), so it expires them all.
func ClearCookies(w http.ResponseWriter, r *http.Request, sessionDomain string) {
	domains := []string{""}
	if sessionDomain != "" {
		domains = append(domains, strings.TrimPrefix(sessionDomain, "."))
	}
	for _, d := range parentDomains(r.Host) {
		if d != strings.TrimPrefix(sessionDomain, ".") {
			domains = append(domains, d)
		}
	}
	for _, d := range domains {
		for _, p := range []string{CookiePath, "/"} {
			w.Header().Add("Set-Cookie", (&http.Cookie{Name: CookieName, Value: "", Path: p, Domain: d, MaxAge: -1,
				HttpOnly: true, SameSite: http.SameSiteLaxMode}).String())
		}
	}
}

// parentDomains lists the parent domains of host that a cookie may be set
// on: "app.example.com" gives ["example.com"]; IPs and single labels none.
func parentDomains(host string) []string {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(h, "]") {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" || strings.ContainsAny(host, "[]") || isIPv4(host) {
		return nil
	}
	labels := strings.Split(host, ".")
	var out []string
	for i := 1; i < len(labels)-1; i++ {
		out = append(out, strings.Join(labels[i:], "."))
	}
	return out
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// --- the demo tenant ---

// tenantID ensures the demo tenant row and returns its id.
func (h *Handler) tenantID(ctx context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tenant != "" {
		return h.tenant, nil
	}
	if h.opts.Pool == nil {
		return "", apierror.New(http.StatusServiceUnavailable, apierror.CodeDatabaseUnavaible, "The demo needs the database.")
	}
	var id string
	err := h.opts.Pool.QueryRow(ctx, `
		WITH t AS (
			INSERT INTO truss_internal.tenants (name, owner_identity_id, is_demo) VALUES ($1, $2, true)
			ON CONFLICT (owner_identity_id) DO UPDATE SET is_demo = true
			RETURNING id
		), m AS (
			INSERT INTO truss_internal.tenant_members (tenant_id, identity_id, role)
			SELECT id, $2, 'owner' FROM t
			ON CONFLICT DO NOTHING
		)
		SELECT id FROM t`, TenantName, IdentityID).Scan(&id)
	if err != nil {
		return "", err
	}
	h.tenant = id
	return id, nil
}
