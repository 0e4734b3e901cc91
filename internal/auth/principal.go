package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/tenant"
)

// ResponseWriter and Request are aliases so hooks read naturally.
type (
	ResponseWriter = http.ResponseWriter
	Request        = http.Request
)

// Principal is who a request acts as.
type Principal struct {
	IdentityID string    `json:"identity_id"`
	Email      string    `json:"email"`
	Name       string    `json:"name,omitempty"`
	TenantID   string    `json:"tenant_id"`
	IsAdmin    bool      `json:"is_admin"`
	IsDemo     bool      `json:"is_demo"`
	SessionID  string    `json:"session_id"`
	AAL        string    `json:"aal"`
	ExpiresAt  time.Time `json:"expires_at"`
	// token is the Kratos session token; it never leaves the server.
	token string
}

type principalKey struct{}

// FromContext returns the authenticated principal of a request.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}

// HandlerFunc is the error-returning handler shape of the server.
type HandlerFunc = func(w http.ResponseWriter, r *http.Request) error

// Require runs next only for authenticated requests, with the principal in
// the context.
func (s *Service) Require(next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.Authenticate(r)
		if err != nil {
			return err
		}
		return next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// RequireAdmin is Require plus the admin check.
func (s *Service) RequireAdmin(next HandlerFunc) HandlerFunc {
	return s.Require(func(w http.ResponseWriter, r *http.Request) error {
		p, _ := FromContext(r.Context())
		if !p.IsAdmin {
			return apierror.New(http.StatusForbidden, apierror.CodeForbidden, "This endpoint is for Truss admins.").
				WithHint("Admins are listed in TRUSS_ADMIN_IDENTITY_IDS or created with TRUSS_BOOTSTRAP_ADMIN_EMAIL.")
		}
		if s.cfg.AdminRequireMFA && p.AAL != "aal2" && s.cfg.AuthRequired {
			return apierror.New(http.StatusForbidden, "mfa_required", "Admin endpoints require a second factor on this server.").
				WithHint("Set up TOTP with POST /api/auth/mfa/totp/setup, then sign in with it (TRUSS_ADMIN_REQUIRE_MFA=true).")
		}
		return next(w, r)
	})
}

// Authenticate resolves the request's session: from the truss_session
// cookie, an X-Session-Token header or "Authorization: Bearer". Verified
// sessions are cached for SESSION_CACHE_TTL.
func (s *Service) Authenticate(r *http.Request) (*Principal, error) {
	token := sessionToken(r)
	if token == "" {
		if !s.cfg.AuthRequired {
			return s.devPrincipal(r.Context())
		}
		return nil, apierror.Unauthorized("Not signed in: the request carries no truss_session cookie or session token.")
	}
	key := cacheKey(token)
	if p, ok := s.cache.get(key); ok {
		return p, nil
	}
	p, err := s.whoami(r.Context(), token)
	if err != nil {
		return nil, err
	}
	if err := refuseDemoTenant(p); err != nil { // demo.go: the demo tenant only under /demo/
		return nil, err
	}
	s.cache.put(key, p)
	return p, nil
}

func (s *Service) whoami(ctx context.Context, token string) (*Principal, error) {
	kp := s.ory.KratosPublic
	sess, resp, err := kp.API.FrontendAPI.ToSession(ctx).XSessionToken(token).Execute()
	if apiErr := kp.Check(err, resp); apiErr != nil {
		return nil, apiErr
	}
	if resp != nil && resp.StatusCode == http.StatusForbidden {
		return nil, apierror.New(http.StatusForbidden, "mfa_required", "This account uses a second factor: complete it to continue.").
			WithHint("POST /api/auth/login with {\"totp_code\"} or {\"recovery_code\"}.")
	}
	if err != nil || sess == nil || sess.Identity == nil || !sess.GetActive() {
		return nil, apierror.Unauthorized("The session is invalid or has expired. Sign in again.")
	}
	email, name := traitsOf(sess.Identity.Traits)
	p := &Principal{IdentityID: sess.Identity.Id, Email: email, Name: name, SessionID: sess.Id, token: token}
	if sess.ExpiresAt != nil {
		p.ExpiresAt = *sess.ExpiresAt
	}
	if sess.AuthenticatorAssuranceLevel != nil {
		p.AAL = string(*sess.AuthenticatorAssuranceLevel)
	}
	t, err := tenant.Ensure(ctx, s.pool, p.IdentityID, "")
	if err != nil {
		return nil, err
	}
	p.TenantID, p.IsDemo = t.ID, t.IsDemo
	p.IsAdmin, err = s.isAdmin(ctx, p.IdentityID)
	return p, err
}

func (s *Service) isAdmin(ctx context.Context, identityID string) (bool, error) {
	if s.isConfiguredAdmin(identityID) {
		return true, nil
	}
	var ok bool
	err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM truss_internal.admins WHERE identity_id = $1)", identityID).Scan(&ok)
	return ok, err
}

// devPrincipal is the local tenant of TRUSS_AUTH_REQUIRED=false (refused in
// production by config).
func (s *Service) devPrincipal(ctx context.Context) (*Principal, error) {
	const devIdentity = "00000000-0000-0000-0000-000000000001"
	t, err := tenant.Ensure(ctx, s.pool, devIdentity, "Local development")
	if err != nil {
		return nil, err
	}
	return &Principal{IdentityID: devIdentity, Email: "dev@localhost", TenantID: t.ID, IsAdmin: true, AAL: "aal1",
		ExpiresAt: time.Now().Add(24 * time.Hour)}, nil
}

func sessionToken(r *http.Request) string {
	if t := r.Header.Get("X-Session-Token"); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// cacheKey hashes the token: the cache never holds a usable credential as key.
func cacheKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func traitsOf(traits any) (email, name string) {
	m, _ := traits.(map[string]any)
	email, _ = m["email"].(string)
	name, _ = m["name"].(string)
	return email, name
}
