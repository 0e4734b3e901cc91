// Package config reads Truss's configuration from environment variables into
// a typed struct, once, at start-up. Every variable, its default and its
// meaning is listed in Variables; the README's configuration table is
// generated from the same list (see TestReadmeTableMatchesVariables).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/clientip"
	"github.com/trussdev/truss/internal/cors"
	"github.com/trussdev/truss/internal/csrf"
)

// Environment names the mode Truss runs in.
type Environment string

const (
	// Development relaxes cookie and TLS requirements for http://localhost.
	Development Environment = "development"
	// Production enforces HTTPS-only cookies and refuses insecure defaults.
	Production Environment = "production"
)

// Config is the whole runtime configuration of a Truss server.
type Config struct {
	Env       Environment
	APIHost   string
	APIPort   int
	PublicURL *url.URL
	// DashboardURL is TRUSS_DASHBOARD_URL, or PublicURL when unset.
	DashboardURL *url.URL

	DatabaseURL      string
	DatabaseMaxConns int

	KratosPublicURL *url.URL
	KratosAdminURL  *url.URL
	KetoReadURL     *url.URL
	KetoWriteURL    *url.URL
	// KetoOPLURL is nil when custom permission models are disabled.
	KetoOPLURL *url.URL
	// KetoNamespacesFile is "" when custom permission models are disabled.
	KetoNamespacesFile string
	// HydraPublicURL and HydraAdminURL are nil when OAuth2 is disabled
	// (HYDRA_ADMIN_URL set to the empty string).
	HydraPublicURL *url.URL
	HydraAdminURL  *url.URL
	// HydraDatabaseURL (Hydra's own DSN) and HydraBin let POST
	// /api/hydra/flush run `hydra janitor`; empty disables flush.
	HydraDatabaseURL string
	HydraBin         string
	OryTimeout       time.Duration

	SMTP SMTP
	// SecretKey (TRUSS_SECRET_KEY) encrypts secrets stored in the database;
	// empty means none can be stored.
	SecretKey string

	Cookies         Cookies
	CORSOrigins     []string
	TrustedProxies  clientip.Resolver
	SessionCacheTTL time.Duration
	AdminIDs        []string
	BootstrapAdmin  BootstrapAdmin
	InviteOnly      bool
	AdminRequireMFA bool
	AuthRequired    bool

	// DBAPI configures the /v1 database platform (internal/dbapi).
	DBAPI DBAPI

	LogLevel        slog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
}

// SMTP is the outgoing mail configuration from the environment. Host empty
// means email is disabled. An admin may override it at run time
// (internal/email stores the override in the database).
type SMTP struct {
	Host string
	Port int
	User string
	Pass string
	// From is the bare sender address; SenderName its display name (the
	// name written in SMTP_FROM, if any, else SMTP_SENDER_NAME).
	From       string
	SenderName string
	// TLS is auto, starttls, tls or none (see TLS modes in internal/email).
	TLS     string
	Timeout time.Duration
}

// Cookies configures the cookies Truss sets.
type Cookies struct {
	SessionDomain string
	CSRFDomain    string
	SameSite      http.SameSite
	// Secure is true when TRUSS_PUBLIC_URL is https: browsers drop Secure
	// cookies on http://, so localhost development uses non-Secure ones.
	Secure bool
}

// BootstrapAdmin is the admin account ensured at start-up.
type BootstrapAdmin struct {
	Email    string
	Password string
}

// HydraEnabled reports whether OAuth2 (Ory Hydra) is configured.
func (c Config) HydraEnabled() bool { return c.HydraAdminURL != nil }

// ListenAddr is the host:port the HTTP server binds.
func (c Config) ListenAddr() string { return fmt.Sprintf("%s:%d", c.APIHost, c.APIPort) }

// Lookup returns the value of an environment variable and whether it is set,
// like os.LookupEnv. Tests pass a map-backed lookup.
type Lookup func(name string) (string, bool)

// FieldError is one invalid variable.
type FieldError struct {
	Name     string
	Value    string
	Expected string
}

func (e FieldError) Error() string {
	return fmt.Sprintf("%s=%q: expected %s", e.Name, e.Value, e.Expected)
}

// Errors is every invalid variable found in one pass, so an operator can fix
// them all at once instead of one restart per mistake.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, 0, len(es)+1)
	lines = append(lines, fmt.Sprintf("invalid configuration (%d problem(s)):", len(es)))
	for _, e := range es {
		// Never echo secrets back into logs.
		if isSecret(e.Name) {
			e.Value = "<redacted>"
		}
		lines = append(lines, "  - "+e.Error())
	}
	return strings.Join(lines, "\n")
}

// Load reads and validates the configuration. On failure the error is an
// Errors value listing every problem.
func Load(lookup Lookup) (Config, error) {
	r := reader{lookup: lookup}
	var c Config
	c.Env = Environment(r.oneOf("TRUSS_ENV", string(Development), string(Production)))
	c.APIHost = r.str("API_HOST")
	c.APIPort = r.port("API_PORT")
	c.PublicURL = r.url("TRUSS_PUBLIC_URL", true)
	c.DashboardURL = r.url("TRUSS_DASHBOARD_URL", false)
	if c.DashboardURL == nil {
		c.DashboardURL = c.PublicURL
	}
	c.DatabaseURL = r.databaseURL("DATABASE_URL")
	c.DatabaseMaxConns = r.intRange("DATABASE_MAX_CONNS", 1, 1000)
	c.KratosPublicURL = r.url("KRATOS_PUBLIC_URL", true)
	c.KratosAdminURL = r.url("KRATOS_ADMIN_URL", true)
	c.KetoReadURL = r.url("KETO_READ_URL", true)
	c.KetoWriteURL = r.url("KETO_WRITE_URL", true)
	c.KetoOPLURL = r.url("KETO_OPL_URL", false)
	c.KetoNamespacesFile = r.str("KETO_NAMESPACES_FILE")
	c.HydraAdminURL = r.url("HYDRA_ADMIN_URL", false)
	c.HydraPublicURL = r.url("HYDRA_PUBLIC_URL", false)
	if c.HydraAdminURL == nil {
		c.HydraPublicURL = nil // one switch turns OAuth2 off
	}
	c.HydraDatabaseURL = r.dsn("HYDRA_DATABASE_URL")
	c.HydraBin = r.str("HYDRA_BIN")
	c.OryTimeout = r.duration("ORY_TIMEOUT")
	c.SMTP = r.smtp()
	c.SecretKey = r.secretKey("TRUSS_SECRET_KEY")
	c.Cookies = Cookies{SessionDomain: r.cookieDomain("COOKIE_DOMAIN"), CSRFDomain: r.cookieDomain("CSRF_COOKIE_DOMAIN"),
		SameSite: r.sameSite("COOKIE_SAMESITE"), Secure: c.PublicURL != nil && c.PublicURL.Scheme == "https"}
	c.CORSOrigins = r.origins("CORS_ALLOWED_ORIGINS")
	c.TrustedProxies = r.trustedProxies("TRUSS_TRUSTED_PROXIES")
	c.SessionCacheTTL = r.durationZero("SESSION_CACHE_TTL")
	c.AdminIDs = r.list("TRUSS_ADMIN_IDENTITY_IDS")
	c.BootstrapAdmin = BootstrapAdmin{Email: r.str("TRUSS_BOOTSTRAP_ADMIN_EMAIL"), Password: r.str("TRUSS_BOOTSTRAP_ADMIN_PASSWORD")}
	c.InviteOnly = r.boolean("TRUSS_INVITE_ONLY")
	c.AdminRequireMFA = r.boolean("TRUSS_ADMIN_REQUIRE_MFA")
	c.AuthRequired = r.boolean("TRUSS_AUTH_REQUIRED")
	c.DBAPI = DBAPI{Schemas: r.schemas("DB_API_SCHEMAS"), StatementTimeout: r.duration("DB_API_STATEMENT_TIMEOUT"),
		MaxRows: r.intRange("DB_API_MAX_ROWS", 1, 1_000_000), KeyRateLimit: r.intRange("API_KEY_RATE_LIMIT", 0, 100_000_000)}
	r.crossChecks(&c)
	c.LogLevel = r.logLevel("LOG_LEVEL")
	c.LogFormat = r.oneOf("LOG_FORMAT", "json", "text")
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT")
	if len(r.errs) > 0 {
		return Config{}, r.errs
	}
	return c, nil
}

// AsErrors unwraps a configuration error list.
func AsErrors(err error) (Errors, bool) {
	var es Errors
	ok := errors.As(err, &es)
	return es, ok
}

type reader struct {
	lookup Lookup
	errs   Errors
}

// raw returns the variable's value, or its documented default when unset.
func (r *reader) raw(name string) string {
	if v, ok := r.lookup(name); ok {
		return strings.TrimSpace(v)
	}
	return Default(name)
}

func (r *reader) fail(name, value, expected string) {
	r.errs = append(r.errs, FieldError{Name: name, Value: value, Expected: expected})
}

func (r *reader) str(name string) string { return r.raw(name) }

func (r *reader) oneOf(name string, allowed ...string) string {
	v := r.raw(name)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, v, "one of "+strings.Join(allowed, ", "))
	return allowed[0]
}

func (r *reader) intRange(name string, lo, hi int) int {
	v := r.raw(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, v, fmt.Sprintf("an integer from %d to %d", lo, hi))
		return lo
	}
	return n
}

func (r *reader) port(name string) int { return r.intRange(name, 1, 65535) }

func (r *reader) duration(name string) time.Duration {
	v := r.raw(name)
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, v, "a positive duration such as 5s or 500ms")
		return time.Second
	}
	return d
}

// url parses an absolute http(s) URL. An empty value is an error when
// required, and means "disabled" (nil) otherwise.
func (r *reader) url(name string, required bool) *url.URL {
	v := r.raw(name)
	if v == "" {
		if required {
			r.fail(name, v, "an absolute http:// or https:// URL")
		}
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, v, "an absolute http:// or https:// URL")
		return nil
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u
}

func (r *reader) databaseURL(name string) string {
	v := r.raw(name)
	if v == "" {
		r.fail(name, v, "a PostgreSQL URL such as postgres://user:password@host:5432/truss (truss dev sets one for you)")
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		r.fail(name, v, "a postgres:// or postgresql:// URL")
	}
	return v
}

// dsn is an optional database URL of another server (any scheme that
// server understands, e.g. postgres:// or cockroach://).
func (r *reader) dsn(name string) string {
	v := r.raw(name)
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" {
		r.fail(name, v, "a database URL such as postgres://user:password@host:5432/hydra")
	}
	return v
}

func (r *reader) logLevel(name string) slog.Level {
	v := r.raw(name)
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, v, "one of debug, info, warn, error")
	}
	return l
}

func (r *reader) origins(name string) []string {
	v := r.raw(name)
	o, err := cors.ParseOrigins(v)
	if err != nil {
		r.fail(name, v, "comma-separated exact origins such as https://app.example.com ("+err.Error()+")")
	}
	return o
}

func (r *reader) trustedProxies(name string) clientip.Resolver {
	v := r.raw(name)
	res, err := clientip.ParseTrusted(v)
	if err != nil {
		r.fail(name, v, "comma-separated IPs or CIDRs such as 10.0.0.0/8 ("+err.Error()+")")
	}
	return res
}

func (r *reader) failed(name string) bool {
	for _, e := range r.errs {
		if e.Name == name {
			return true
		}
	}
	return false
}

func (r *reader) boolean(name string) bool {
	v := r.raw(name)
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "true or false")
	}
	return b
}

func (r *reader) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.raw(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// durationZero is a duration where 0 is allowed (0 = disabled).
func (r *reader) durationZero(name string) time.Duration {
	v := r.raw(name)
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, v, "a duration such as 30s (0 disables)")
	}
	return d
}

func (r *reader) cookieDomain(name string) string {
	v := r.raw(name)
	if v == "" {
		return ""
	}
	host := strings.TrimPrefix(v, ".")
	if strings.ContainsAny(v, "/:; ,") || host == "" || !strings.Contains(host, ".") && host != "localhost" {
		r.fail(name, v, "a domain such as .example.com (no scheme, port or path)")
	}
	return v
}

func (r *reader) sameSite(name string) http.SameSite {
	switch v := r.oneOf(name, "lax", "strict", "none"); v {
	case "strict":
		return http.SameSiteStrictMode
	case "none":
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

// crossChecks rejects combinations that browsers or security forbid, so
// they fail at start-up instead of as "Not authenticated" after login.
func (r *reader) crossChecks(c *Config) {
	if c.Cookies.SameSite == http.SameSiteNoneMode && !c.Cookies.Secure {
		r.fail("COOKIE_SAMESITE", "none", "lax or strict unless TRUSS_PUBLIC_URL is https: browsers reject SameSite=None cookies without Secure, which needs HTTPS")
	}
	if !c.AuthRequired && c.Env == Production {
		r.fail("TRUSS_AUTH_REQUIRED", "false", "true when TRUSS_ENV=production (false serves everything without login)")
	}
	if c.PublicURL != nil && !r.failed("CSRF_COOKIE_DOMAIN") {
		if err := (csrf.Config{CookieDomain: c.Cookies.CSRFDomain}).Validate(c.PublicURL.Hostname()); err != nil {
			r.fail("CSRF_COOKIE_DOMAIN", c.Cookies.CSRFDomain, "a parent domain of TRUSS_PUBLIC_URL's host ("+err.Error()+")")
		}
		if d := c.Cookies.SessionDomain; d != "" && !r.failed("COOKIE_DOMAIN") {
			if err := (csrf.Config{CookieDomain: d}).Validate(c.PublicURL.Hostname()); err != nil {
				r.fail("COOKIE_DOMAIN", d, "a parent domain of TRUSS_PUBLIC_URL's host ("+err.Error()+")")
			}
		}
	}
	if c.BootstrapAdmin.Password != "" && len(c.BootstrapAdmin.Password) < 8 {
		r.fail("TRUSS_BOOTSTRAP_ADMIN_PASSWORD", "", "at least 8 characters (or empty for a generated one)")
	}
	if c.Env == Production && c.PublicURL != nil && c.PublicURL.Scheme != "https" {
		r.fail("TRUSS_PUBLIC_URL", c.PublicURL.String(), "an https:// URL when TRUSS_ENV=production (session cookies are Secure)")
	}
}

func isSecret(name string) bool {
	return strings.Contains(name, "PASSWORD") || strings.HasSuffix(name, "_PASS") || strings.Contains(name, "SECRET") ||
		strings.HasSuffix(name, "DATABASE_URL")
}

// smtp reads the SMTP_* variables.
func (r *reader) smtp() SMTP {
	s := SMTP{
		Host:    r.str("SMTP_HOST"),
		Port:    r.port("SMTP_PORT"),
		User:    r.str("SMTP_USER"),
		Pass:    r.str("SMTP_PASS"),
		TLS:     r.oneOf("SMTP_TLS", "auto", "starttls", "tls", "none"),
		Timeout: r.duration("SMTP_TIMEOUT"),
	}
	if strings.ContainsAny(s.Host, " /@\r\n") || strings.Count(s.Host, ":") == 1 {
		r.fail("SMTP_HOST", s.Host, "a host name or IP address such as smtp.example.com (no scheme, port or path)")
	}
	from := r.str("SMTP_FROM")
	addr, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(from, "\r\n") {
		r.fail("SMTP_FROM", from, "an email address such as no-reply@example.com or Truss <no-reply@example.com>")
	} else {
		s.From, s.SenderName = addr.Address, addr.Name
	}
	name := r.str("SMTP_SENDER_NAME")
	if strings.ContainsAny(name, "\r\n") || len(name) > 200 {
		r.fail("SMTP_SENDER_NAME", name, "a display name of at most 200 characters on one line")
	} else if s.SenderName == "" {
		s.SenderName = name
	}
	return s
}

// secretKey is TRUSS_SECRET_KEY: empty, or long enough to derive a key from.
func (r *reader) secretKey(name string) string {
	v := r.raw(name)
	if v != "" && len(v) < 32 {
		r.fail(name, v, "at least 32 characters, e.g. the output of `openssl rand -base64 32` (or empty)")
	}
	return v
}

// DBAPI configures the database platform under /v1 (internal/dbapi).
type DBAPI struct {
	Schemas          []string      // DB_API_SCHEMAS: exposed schemas, the first is the default
	StatementTimeout time.Duration // DB_API_STATEMENT_TIMEOUT
	MaxRows          int           // DB_API_MAX_ROWS
	KeyRateLimit     int           // API_KEY_RATE_LIMIT: requests per minute and key, 0 = unlimited
}

// schemas reads DB_API_SCHEMAS: plain names, never Truss's own schemas or
// PostgreSQL's catalogs.
func (r *reader) schemas(name string) []string {
	v := r.raw(name)
	out := r.list(name)
	for _, s := range out {
		ok := s != "" && !strings.HasPrefix(s, "pg_") && s != "information_schema" && s != "truss_internal" && s != "truss_api"
		for _, c := range s {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				ok = false
			}
		}
		if !ok {
			r.fail(name, v, "comma-separated lower-case schema names such as public,api (not truss_internal, truss_api, pg_* or information_schema)")
			return []string{"public"}
		}
	}
	if len(out) == 0 {
		r.fail(name, v, "at least one schema, such as public")
		return []string{"public"}
	}
	return out
}
