package config

// Variable documents one environment variable.
type Variable struct {
	Name        string
	Default     string
	Description string
}

// Variables is the single list of everything Truss reads from the
// environment. The README table, the deploy/ compose check and Default all
// come from here, so they cannot drift apart.
var Variables = []Variable{
	{"TRUSS_ENV", "development", "`development` or `production`. Production requires HTTPS public URLs for cookies."},
	{"API_HOST", "0.0.0.0", "Interface the HTTP server binds."},
	{"API_PORT", "8787", "Port of the HTTP API and dashboard."},
	{"TRUSS_PUBLIC_URL", "http://localhost:8787", "URL browsers use to reach Truss (links in emails, redirects, cookie checks)."},
	{"TRUSS_DASHBOARD_URL", "", "Where the dashboard is served, if not from `TRUSS_PUBLIC_URL` (e.g. `https://app.example.com`); `truss doctor` checks cookies and CORS against it."},
	{"DATABASE_URL", "", "PostgreSQL URL for Truss's own data (schema `truss_internal`). Required by `truss serve`; `truss dev` starts a private cluster when unset."},
	{"DATABASE_MAX_CONNS", "10", "Maximum connections in Truss's pool."},
	{"KRATOS_PUBLIC_URL", "http://localhost:4433", "Ory Kratos public API (login, registration, sessions). Required for auth."},
	{"KRATOS_ADMIN_URL", "http://localhost:4434", "Ory Kratos admin API (identities). Required for auth."},
	{"KETO_READ_URL", "http://localhost:4466", "Ory Keto read API (permission checks). Required for authorization."},
	{"KETO_WRITE_URL", "http://localhost:4467", "Ory Keto write API (relationships). Required for authorization."},
	{"KETO_OPL_URL", "http://localhost:4469", "Ory Keto OPL API (syntax check of custom permission models). Empty disables custom models."},
	{"KETO_NAMESPACES_FILE", "", "The OPL file Keto loads as its namespaces (`namespaces.location` in keto.yml), which Truss rewrites when a tenant changes its permission model. Must be writable by Truss and watched by Keto; empty disables custom models."},
	{"HYDRA_PUBLIC_URL", "http://localhost:4444", "Ory Hydra public API (OAuth2 / OpenID Connect)."},
	{"HYDRA_ADMIN_URL", "http://localhost:4445", "Ory Hydra admin API. Set to the empty string to disable OAuth2."},
	{"HYDRA_DATABASE_URL", "", "Ory Hydra's own database URL (its DSN). Only for `POST /api/hydra/flush`, which runs `hydra janitor` on it; empty disables flush. Never logged."},
	{"HYDRA_BIN", "hydra", "Path of the Ory Hydra binary that `POST /api/hydra/flush` runs as `hydra janitor`."},
	{"ORY_TIMEOUT", "5s", "Timeout of every call to Kratos, Keto and Hydra; a slower service answers 503."},
	{"SMTP_HOST", "localhost", "SMTP server for Truss's email. Empty disables email. An admin can override every SMTP setting at run time (`PUT /api/settings/smtp`)."},
	{"SMTP_PORT", "587", "SMTP port. 587 (submission with STARTTLS) works where hosts block 465 and 25."},
	{"SMTP_USER", "", "SMTP AUTH user name (empty: no authentication)."},
	{"SMTP_PASS", "", "SMTP AUTH password. Never logged."},
	{"SMTP_FROM", "no-reply@localhost", "Sender address of Truss's email. A display name in it (`Acme <no-reply@acme.com>`) takes precedence over `SMTP_SENDER_NAME`."},
	{"SMTP_SENDER_NAME", "Truss", "Display name of the sender."},
	{"SMTP_TLS", "auto", "`starttls` (required), `tls` (implicit TLS), `none`, or `auto`: 465 implicit TLS, 587 STARTTLS required, any other port STARTTLS when the server offers it."},
	{"SMTP_TIMEOUT", "10s", "Timeout of connecting to the SMTP server (DNS, TCP, TLS, greeting, AUTH) and of sending each message."},
	{"TRUSS_SECRET_KEY", "", "Key that encrypts secrets Truss stores (AES-256-GCM), such as an SMTP password set with `PUT /api/settings/smtp`. At least 32 characters (`openssl rand -base64 32`). Empty: such secrets cannot be stored. `truss dev` generates one."},
	{"CORS_ALLOWED_ORIGINS", "", "Comma-separated origins (e.g. `https://app.example.com`) allowed to call the API with credentials. Empty: same-origin only."},
	{"CSRF_COOKIE_DOMAIN", "", "Domain of the `truss_csrf` cookie, e.g. `.example.com` when dashboard and API are on different subdomains. Empty: host-only."},
	{"COOKIE_DOMAIN", "", "Domain of the `truss_session` cookie (e.g. `.example.com`). Empty: host-only."},
	{"COOKIE_SAMESITE", "lax", "SameSite of the session cookie: `lax`, `strict` or `none` (cross-site; requires an https `TRUSS_PUBLIC_URL`)."},
	{"TRUSS_TRUSTED_PROXIES", "", "Comma-separated IPs/CIDRs of reverse proxies allowed to set X-Forwarded-For / X-Forwarded-Proto."},
	{"SESSION_CACHE_TTL", "30s", "How long a verified session is trusted without asking Kratos again. Logout and revocation apply at once on the instance that served them; other instances within this bound."},
	{"TRUSS_ADMIN_IDENTITY_IDS", "", "Comma-separated Kratos identity IDs that are Truss admins."},
	{"TRUSS_BOOTSTRAP_ADMIN_EMAIL", "", "If set, an admin account with this email is created at start-up when missing."},
	{"TRUSS_BOOTSTRAP_ADMIN_PASSWORD", "", "Its password; if empty, a random one is generated and printed once."},
	{"TRUSS_ADMIN_REQUIRE_MFA", "false", "`true`: admin endpoints require a session with a second factor (AAL2)."},
	{"TRUSS_INVITE_ONLY", "false", "`true`: self-service registration is closed; admins create accounts."},
	{"TRUSS_AUTH_REQUIRED", "true", "`false` serves everything as a local development tenant without login. Refused when `TRUSS_ENV=production`."},
	{"LOG_LEVEL", "info", "`debug`, `info`, `warn` or `error`."},
	{"DB_API_SCHEMAS", "public", "Comma-separated schemas of `DATABASE_URL`'s database that the `/v1` database API exposes (auto-REST and RPC); the first is the default, others are chosen with `Accept-Profile` / `Content-Profile`. Never `truss_internal`."},
	{"DB_API_STATEMENT_TIMEOUT", "8s", "Statement timeout of every `/v1` query, and the longest `timeout` a `/v1/sql` request may ask for."},
	{"DB_API_MAX_ROWS", "10000", "Most rows one `/v1` read or `/v1/sql` statement returns (`limit` defaults to 1000)."},
	{"API_KEY_RATE_LIMIT", "6000", "Requests per minute and API key on `/v1` (`X-RateLimit-*` headers; 429 with `Retry-After` beyond). 0 disables."},
	{"LOG_FORMAT", "json", "`json` or `text`."},
	{"SHUTDOWN_TIMEOUT", "15s", "How long in-flight requests may run after SIGTERM."},
}

// Default returns the documented default of a variable ("" if unknown).
func Default(name string) string {
	for _, v := range Variables {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}
