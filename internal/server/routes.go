package server

import (
	"net/http"

	"github.com/trussdev/truss/internal/doctor"
)

// routes is the one place every URL of Truss is wired to its handler. Each
// handler lives in the package named after its first path segment under /api.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	h := s.handle

	// internal/health
	mux.Handle("GET /api/health/live", h(healthLive))
	mux.Handle("GET /api/health", h(s.health.Handler))

	// internal/doctor
	mux.Handle("GET /api/doctor", h(s.auth.RequireAdmin(doctor.Handler(s.doctorEnv))))
	mux.Handle("GET /api/doctor/echo", h(doctor.Echo(s.cfg.TrustedProxies)))

	// internal/auth
	mux.Handle("GET /api/auth/login", h(s.auth.LoginInfo))
	mux.Handle("POST /api/auth/login", h(s.auth.Login))
	mux.Handle("GET /api/auth/register", h(s.auth.RegisterInfo))
	mux.Handle("POST /api/auth/register", h(s.auth.Register))
	mux.Handle("POST /api/auth/logout", h(s.auth.Logout))
	mux.Handle("GET /api/auth/session", h(s.auth.Session))
	mux.Handle("GET /api/auth/recovery", h(s.auth.RecoveryInfo))
	mux.Handle("POST /api/auth/recovery", h(s.auth.Recover))
	mux.Handle("GET /api/auth/verification", h(s.auth.VerificationInfo))
	mux.Handle("POST /api/auth/verification", h(s.auth.Verify))
	mux.Handle("GET /api/auth/settings", h(s.auth.Require(s.auth.SettingsInfo)))
	mux.Handle("POST /api/auth/settings", h(s.auth.Require(s.auth.UpdateSettings)))

	// internal/auth: multi-factor authentication (mfa.go)
	mux.Handle("GET /api/auth/mfa/status", h(s.auth.Require(s.auth.MFAStatus)))
	mux.Handle("POST /api/auth/mfa/totp/setup", h(s.auth.Require(s.auth.TOTPSetupStart)))
	mux.Handle("POST /api/auth/mfa/totp/verify", h(s.auth.Require(s.auth.TOTPVerify)))
	mux.Handle("DELETE /api/auth/mfa/totp", h(s.auth.Require(s.auth.TOTPRemove)))
	mux.Handle("POST /api/auth/mfa/recovery-codes", h(s.auth.Require(s.auth.RecoveryCodesGenerate)))
	mux.Handle("POST /api/auth/mfa/recovery-codes/confirm", h(s.auth.Require(s.auth.RecoveryCodesConfirm)))
	mux.Handle("DELETE /api/auth/mfa/recovery-codes", h(s.auth.Require(s.auth.RecoveryCodesDisable)))

	// internal/auth: admin endpoints on identities (admin_identities.go)
	mux.Handle("GET /api/admin/identities", h(s.auth.RequireAdmin(s.auth.AdminListIdentities)))
	mux.Handle("POST /api/admin/identities", h(s.auth.RequireAdmin(s.auth.AdminCreateIdentity)))
	mux.Handle("POST /api/admin/identities/import", h(s.auth.RequireAdmin(s.auth.AdminImportIdentities)))
	mux.Handle("GET /api/admin/identities/{id}", h(s.auth.RequireAdmin(s.auth.AdminGetIdentity)))
	mux.Handle("DELETE /api/admin/identities/{id}", h(s.auth.RequireAdmin(s.auth.AdminDeleteIdentity)))
	mux.Handle("PATCH /api/admin/identities/{id}/state", h(s.auth.RequireAdmin(s.auth.AdminSetIdentityState)))
	mux.Handle("POST /api/admin/identities/{id}/reset-password", h(s.auth.RequireAdmin(s.auth.AdminResetPassword)))
	mux.Handle("POST /api/admin/identities/{id}/recovery-link", h(s.auth.RequireAdmin(s.auth.AdminCreateRecoveryLink)))
	mux.Handle("GET /api/admin/identities/{id}/sessions", h(s.auth.RequireAdmin(s.auth.AdminListIdentitySessions)))
	mux.Handle("DELETE /api/admin/identities/{id}/sessions", h(s.auth.RequireAdmin(s.auth.AdminRevokeIdentitySessions)))
	mux.Handle("GET /api/admin/identities/{id}/logins", h(s.auth.RequireAdmin(s.auth.AdminIdentityLogins)))
	mux.Handle("DELETE /api/admin/sessions/{session_id}", h(s.auth.RequireAdmin(s.auth.AdminRevokeSession)))

	// internal/oauth2
	mux.Handle("GET /api/oauth2/discovery", h(s.oauth2.Discovery))

	// internal/email: SMTP settings, test, outbox

	// internal/keto: relation tuples, checks, namespaces (OPL)

	// internal/hydra: login/consent/logout bridge, OAuth2 clients

	// Prometheus
	mux.Handle("GET /metrics", s.metrics.handler())

	// web: the dashboard owns every other GET; unknown /api paths stay JSON 404s.
	mux.Handle("GET /", s.dashboard())

	// Unknown paths and methods get JSON 404/405 from jsonMuxErrors.
	return mux
}
