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
	mux.Handle("GET /api/doctor/ws", h(doctor.EchoWebSocket))

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
	mux.Handle("GET /api/auth/sessions", h(s.auth.Require(s.auth.ListMySessions)))
	mux.Handle("DELETE /api/auth/sessions", h(s.auth.Require(s.auth.RevokeMyOtherSessions)))
	mux.Handle("DELETE /api/auth/sessions/{id}", h(s.auth.Require(s.auth.RevokeMySession)))

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
	mux.Handle("GET /api/oauth2/discovery", h(s.oauth2.Public(s.oauth2.Discovery)))

	// internal/email: SMTP settings, test, outbox
	mux.Handle("GET /api/settings/smtp", h(s.auth.RequireAdmin(s.email.GetSettings)))
	mux.Handle("PUT /api/settings/smtp", h(s.auth.RequireAdmin(s.email.PutSettings)))
	mux.Handle("DELETE /api/settings/smtp", h(s.auth.RequireAdmin(s.email.DeleteSettings)))
	mux.Handle("POST /api/settings/smtp/test", h(s.auth.RequireAdmin(s.email.TestSettings)))
	mux.Handle("GET /api/email/outbox", h(s.auth.RequireAdmin(s.email.ListOutbox)))

	// internal/keto: relation tuples, checks, namespaces (OPL)
	mux.Handle("GET /api/keto/relation-tuples", h(s.auth.Require(s.keto.ListTuples)))
	mux.Handle("PUT /api/keto/relation-tuples", h(s.auth.Require(s.keto.PutTuple)))
	mux.Handle("DELETE /api/keto/relation-tuples", h(s.auth.Require(s.keto.DeleteTuples)))
	mux.Handle("POST /api/keto/relation-tuples/import", h(s.auth.Require(s.keto.Import)))
	mux.Handle("GET /api/keto/relation-tuples/export", h(s.auth.Require(s.keto.Export)))
	mux.Handle("POST /api/keto/check", h(s.auth.Require(s.keto.Check)))
	mux.Handle("POST /api/keto/batch-check", h(s.auth.Require(s.keto.BatchCheck)))
	mux.Handle("GET /api/keto/expand", h(s.auth.Require(s.keto.Expand)))
	mux.Handle("GET /api/keto/namespaces", h(s.auth.Require(s.keto.Namespaces)))
	mux.Handle("GET /api/keto/health", h(s.auth.Require(s.keto.Health)))
	mux.Handle("GET /api/keto/model", h(s.auth.Require(s.keto.GetModel)))
	mux.Handle("PUT /api/keto/model", h(s.auth.Require(s.keto.PutModel)))
	mux.Handle("POST /api/keto/model/check", h(s.auth.Require(s.keto.CheckModel)))
	mux.Handle("GET /api/keto/model/versions", h(s.auth.Require(s.keto.ListModelVersions)))
	mux.Handle("GET /api/keto/model/versions/{version}", h(s.auth.Require(s.keto.GetModelVersion)))
	mux.Handle("POST /api/keto/model/versions/{version}/restore", h(s.auth.Require(s.keto.RestoreModelVersion)))

	// internal/orgs: organizations and projects (roles are Keto tuples)
	mux.Handle("POST /api/orgs", h(s.auth.Require(s.orgs.CreateOrg)))
	mux.Handle("GET /api/orgs", h(s.auth.Require(s.orgs.ListOrgs)))
	mux.Handle("GET /api/orgs/{id}", h(s.auth.Require(s.orgs.GetOrg)))
	mux.Handle("GET /api/orgs/{id}/members", h(s.auth.Require(s.orgs.ListOrgMembers)))
	mux.Handle("PUT /api/orgs/{id}/members", h(s.auth.Require(s.orgs.PutOrgMember)))
	mux.Handle("DELETE /api/orgs/{id}/members/{subject}", h(s.auth.Require(s.orgs.DeleteOrgMember)))
	mux.Handle("POST /api/orgs/{id}/projects", h(s.auth.Require(s.orgs.CreateProject)))
	mux.Handle("GET /api/orgs/{id}/projects", h(s.auth.Require(s.orgs.ListProjects)))
	mux.Handle("GET /api/projects/{id}", h(s.auth.Require(s.orgs.GetProject)))
	mux.Handle("GET /api/projects/{id}/members", h(s.auth.Require(s.orgs.ListProjectMembers)))
	mux.Handle("PUT /api/projects/{id}/members", h(s.auth.Require(s.orgs.PutProjectMember)))
	mux.Handle("DELETE /api/projects/{id}/members/{subject}", h(s.auth.Require(s.orgs.DeleteProjectMember)))

	// internal/hydra: login/consent/logout bridge, OAuth2 clients
	// (served by internal/oauth2; every route answers 503 oauth2_not_configured without HYDRA_ADMIN_URL)
	o := s.oauth2
	mux.Handle("GET /api/hydra/bridge/login", h(o.Public(o.BridgeLogin)))
	mux.Handle("GET /api/hydra/bridge/consent", h(o.Public(o.BridgeConsent)))
	mux.Handle("GET /api/hydra/bridge/logout", h(o.Public(o.BridgeLogout)))
	mux.Handle("GET /api/hydra/login", h(o.Public(o.LoginInfo)))
	mux.Handle("GET /api/hydra/consent", h(o.User(o.ConsentInfo)))
	mux.Handle("POST /api/hydra/consent/accept", h(o.User(o.ConsentAccept)))
	mux.Handle("POST /api/hydra/consent/reject", h(o.User(o.ConsentReject)))
	mux.Handle("POST /api/hydra/logout/accept", h(o.Public(o.LogoutAccept)))
	mux.Handle("POST /api/hydra/logout/reject", h(o.Public(o.LogoutReject)))
	mux.Handle("GET /api/hydra/clients", h(o.User(o.ListClients)))
	mux.Handle("POST /api/hydra/clients", h(o.User(o.CreateClient)))
	mux.Handle("GET /api/hydra/clients/{id}", h(o.User(o.GetClient)))
	mux.Handle("PUT /api/hydra/clients/{id}", h(o.User(o.UpdateClient)))
	mux.Handle("DELETE /api/hydra/clients/{id}", h(o.User(o.DeleteClient)))
	mux.Handle("POST /api/hydra/clients/{id}/rotate-secret", h(o.User(o.RotateSecret)))
	mux.Handle("PUT /api/hydra/clients/{id}/lifespans", h(o.User(o.SetLifespans)))
	mux.Handle("DELETE /api/hydra/clients/{id}/tokens", h(o.User(o.DeleteClientTokens)))
	mux.Handle("POST /api/hydra/introspect", h(o.User(o.Introspect)))
	mux.Handle("POST /api/hydra/revoke", h(o.User(o.Revoke)))
	mux.Handle("GET /api/hydra/consent-sessions", h(o.User(o.ListConsentSessions)))
	mux.Handle("DELETE /api/hydra/consent-sessions", h(o.User(o.RevokeConsentSessions)))
	mux.Handle("DELETE /api/hydra/consent-sessions/{client_id}", h(o.User(o.RevokeConsentSessions)))
	mux.Handle("GET /api/hydra/jwks", h(o.Public(o.JWKS)))
	mux.Handle("GET /api/hydra/discovery", h(o.Public(o.Discovery)))
	mux.Handle("POST /api/hydra/flush", h(o.Admin(o.Flush)))

	// Prometheus
	mux.Handle("GET /metrics", s.metrics.handler())

	// internal/demo: read-only demo under /demo/
	mux.Handle("GET /demo", http.RedirectHandler("/demo/", http.StatusFound))
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} { // every write: 403 demo_read_only
		mux.Handle(m+" /demo/", s.demo)
	}

	// internal/apikey, internal/dbapi: API keys and the database platform (/v1)
	mux.Handle("GET /api/keys", h(s.auth.Require(s.keys.ListHandler)))
	mux.Handle("POST /api/keys", h(s.auth.Require(s.keys.CreateHandler)))
	mux.Handle("DELETE /api/keys/{id}", h(s.auth.Require(s.keys.RevokeHandler)))
	mux.Handle("POST /api/keys/{id}/rotate", h(s.auth.Require(s.keys.RotateHandler)))
	v1 := func(fn HandlerFunc) http.Handler { return h(s.keys.Require(s.auth, fn)) }
	v1Service := func(fn HandlerFunc) http.Handler { return h(s.keys.RequireService(s.auth, fn)) }
	// /v1/db answers again after a schema reload when a request names a
	// column or relation the schema cache does not know yet.
	db := func(fn HandlerFunc) http.Handler { return v1(s.dbapi.RetryStale(fn)) }
	mux.Handle("GET /v1/keys", v1Service(s.keys.V1List))
	mux.Handle("POST /v1/keys", v1Service(s.keys.V1Create))
	mux.Handle("DELETE /v1/keys/{id}", v1Service(s.keys.V1Revoke))
	mux.Handle("POST /v1/keys/{id}/rotate", v1Service(s.keys.V1Rotate))
	mux.Handle("POST /v1/sql", v1Service(s.dbapi.SQL))
	mux.Handle("POST /v1/sql/transaction", v1Service(s.dbapi.Transaction))
	// Auto-REST and RPC answer under /v1/db and, the same, under /rest/v1:
	// where supabase-js's createClient(TRUSS_PUBLIC_URL, key) sends them.
	for _, base := range []string{"/v1/db", "/rest/v1"} {
		mux.Handle("GET "+base+"/{$}", db(s.dbapi.OpenAPI))
		mux.Handle("GET "+base+"/{table}", db(s.dbapi.Read))
		mux.Handle("POST "+base+"/{table}", db(s.dbapi.Insert))
		mux.Handle("PATCH "+base+"/{table}", db(s.dbapi.Update))
		mux.Handle("DELETE "+base+"/{table}", db(s.dbapi.Delete))
		mux.Handle("GET "+base+"/rpc/{function}", db(s.dbapi.RPC))
		mux.Handle("POST "+base+"/rpc/{function}", db(s.dbapi.RPC))
	}
	mux.Handle("GET /v1/", h(s.dbapi.NotFound))
	mux.Handle("GET /rest/v1/", h(s.dbapi.NotFound))

	// internal/dbapi: SQL workbench (dashboard, admins)
	mux.Handle("POST /api/sql/query", h(s.auth.RequireAdmin(s.sqlwb.Query)))
	mux.Handle("GET /api/sql/history", h(s.auth.RequireAdmin(s.sqlwb.History)))
	mux.Handle("GET /api/sql/saved", h(s.auth.RequireAdmin(s.sqlwb.ListSaved)))
	mux.Handle("POST /api/sql/saved", h(s.auth.RequireAdmin(s.sqlwb.CreateSaved)))
	mux.Handle("PUT /api/sql/saved/{id}", h(s.auth.RequireAdmin(s.sqlwb.UpdateSaved)))
	mux.Handle("DELETE /api/sql/saved/{id}", h(s.auth.RequireAdmin(s.sqlwb.DeleteSaved)))
	mux.Handle("GET /api/sql/schema", h(s.auth.RequireAdmin(s.sqlwb.Schema)))

	// web: the dashboard owns every other GET; unknown /api paths stay JSON 404s.
	mux.Handle("GET /", s.dashboard())

	// Unknown paths and methods get JSON 404/405 from jsonMuxErrors.
	return mux
}
