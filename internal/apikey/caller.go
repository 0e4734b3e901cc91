package apikey

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/ratelimit"
)

// Database roles of /v1 requests.
const (
	RoleAnon          = "anon"
	RoleAuthenticated = "authenticated"
	RoleServiceRole   = "service_role"
)

// Caller is who a /v1 request acts as: its key, its tenant and its role.
type Caller struct {
	KeyID    string
	TenantID string
	KeyType  Type
	// Role is anon, authenticated (an anon key with a Truss session) or
	// service_role.
	Role string
	// Sub and Email are the signed-in user's (authenticated only).
	Sub   string
	Email string
}

type callerKey struct{}

// FromContext returns the caller of a /v1 request.
func FromContext(ctx context.Context) (*Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	return c, ok
}

// WithCaller returns ctx carrying c (for tests of handlers).
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// Sessions authenticates a Truss session (auth.Service).
type Sessions interface {
	Authenticate(r *http.Request) (*auth.Principal, error)
}

// HandlerFunc is the server's handler shape.
type HandlerFunc = func(w http.ResponseWriter, r *http.Request) error

// presented returns the key a request carries: the apikey or x-api-key
// header, or a Bearer token that is a Truss key. (Header names are given
// in canonical form: Get must otherwise build that form on every call.)
func presented(r *http.Request) string {
	if k := r.Header.Get("Apikey"); k != "" {
		return strings.TrimSpace(k)
	}
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return strings.TrimSpace(k)
	}
	if t := bearer(r); strings.HasPrefix(t, PrefixAnon) || strings.HasPrefix(t, PrefixService) {
		return t
	}
	return ""
}

func bearer(r *http.Request) string {
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// Require authenticates a /v1 request by its API key, applies the key's
// rate limit (X-RateLimit-* headers, 429 with Retry-After) and runs next with
// the Caller in the context. An anon key with a Truss session token
// (X-Session-Token, or Authorization: Bearer other than the key) acts as
// role authenticated. Cookies are ignored on /v1: it has no CSRF protection,
// so a browser's ambient session must never authenticate it.
func (s *Service) Require(sessions Sessions, next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		secret := presented(r)
		if secret == "" {
			return apierror.New(http.StatusUnauthorized, "api_key_missing", "This endpoint needs an API key.").
				WithHint("Send it in the apikey (or x-api-key) header. Create keys in the dashboard or with POST /api/keys.")
		}
		v, ok, err := s.verify(r.Context(), secret)
		if err != nil {
			return err
		}
		if !ok {
			return apierror.New(http.StatusUnauthorized, "api_key_invalid", "The API key is unknown or revoked.").
				WithHint("Keys start with truss_pk_ (anon) or truss_sk_ (service_role) and are shown once; create a new one if it was lost or revoked.")
		}
		if s.limiter != nil {
			allowed, remaining, reset := s.limiter.take(v.ID)
			h := w.Header()
			h.Set("X-RateLimit-Limit", strconv.Itoa(s.limiter.limit))
			h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
			h.Set("X-RateLimit-Reset", strconv.FormatInt(ratelimit.Seconds(reset), 10))
			if !allowed {
				ratelimit.WriteRetryAfter(w, reset)
				return ratelimit.TooMany(reset).WithHint("This API key is limited to " + strconv.Itoa(s.limiter.limit) +
					" requests per minute (API_KEY_RATE_LIMIT). Wait for Retry-After, or spread the load over several keys.")
			}
		}
		c := &Caller{KeyID: v.ID, TenantID: v.TenantID, KeyType: v.Type, Role: RoleAnon}
		if v.Type == ServiceRole {
			c.Role = RoleServiceRole
		} else if tok := sessionToken(r, secret); tok != "" && sessions != nil {
			p, err := sessions.Authenticate(sessionOnly(r, tok))
			if err != nil {
				return err
			}
			c.Role, c.Sub, c.Email = RoleAuthenticated, p.IdentityID, p.Email
		}
		return next(w, r.WithContext(WithCaller(r.Context(), c)))
	}
}

// RequireService is Require for service_role keys only.
func (s *Service) RequireService(sessions Sessions, next HandlerFunc) HandlerFunc {
	return s.Require(sessions, func(w http.ResponseWriter, r *http.Request) error {
		if c, _ := FromContext(r.Context()); c.Role != RoleServiceRole {
			return apierror.New(http.StatusForbidden, "service_role_required", "This endpoint needs a service_role key.").
				WithHint("Use a truss_sk_ key, on a server only: it bypasses row-level security.")
		}
		return next(w, r)
	})
}

// sessionToken is a Truss session token sent next to an anon key.
func sessionToken(r *http.Request, key string) string {
	if t := r.Header.Get("X-Session-Token"); t != "" {
		return t
	}
	if t := bearer(r); t != "" && t != key && !strings.HasPrefix(t, PrefixAnon) && !strings.HasPrefix(t, PrefixService) {
		return t
	}
	return ""
}

// sessionOnly is r carrying only the session token (no cookies).
func sessionOnly(r *http.Request, token string) *http.Request {
	c := r.Clone(r.Context())
	c.Header = http.Header{"X-Session-Token": {token}}
	return c
}
