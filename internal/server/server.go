// Package server builds Truss's HTTP server: it wires configuration, the
// database pool and the Ory clients into the handlers (see routes.go for
// every URL) and runs until its context is cancelled, then shuts down
// gracefully.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/cors"
	"github.com/trussdev/truss/internal/csrf"
	"github.com/trussdev/truss/internal/dbapi"
	"github.com/trussdev/truss/internal/demo"
	"github.com/trussdev/truss/internal/doctor"
	"github.com/trussdev/truss/internal/email"
	"github.com/trussdev/truss/internal/health"
	"github.com/trussdev/truss/internal/keto"
	"github.com/trussdev/truss/internal/oauth2"
	"github.com/trussdev/truss/internal/orgs"
	"github.com/trussdev/truss/internal/ory"
	"github.com/trussdev/truss/internal/requestid"
	"github.com/trussdev/truss/internal/version"
)

// Server is a configured Truss HTTP server.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	pool    *pgxpool.Pool
	ory     *ory.Clients
	metrics *metrics
	health  *health.Checker
	auth    *auth.Service
	oauth2  *oauth2.Handlers
	keto    *keto.Service
	orgs    *orgs.Service
	email   *email.Service
	demo    *demo.Handler
	keys    *apikey.Service
	dbapi   *dbapi.Service
	sqlwb   *dbapi.Workbench
	handler http.Handler
}

// New wires a server. The pool must be open and migrated.
func New(cfg config.Config, log *slog.Logger, pool *pgxpool.Pool) *Server {
	clients := ory.New(cfg)
	s := &Server{cfg: cfg, log: log, pool: pool, ory: clients, metrics: newMetrics()}
	s.metrics.reg.MustRegister(clients.Requests)
	s.email = email.New(cfg, pool, log, email.Options{})
	s.health = newChecker(cfg, pool, clients, s.metrics, s.email.HealthCheck())
	csrfCfg := csrf.Config{CookieDomain: cfg.Cookies.CSRFDomain, Secure: cfg.Cookies.Secure}
	s.auth = auth.New(cfg, clients, pool, log)
	// A session change (login, logout) gets a fresh CSRF token, and stale
	// copies on other cookie scopes are expired.
	// A real login also expires every demo cookie (internal/demo).
	s.auth.OnLogin = func(w http.ResponseWriter, r *http.Request) {
		csrf.Rotate(w, r, csrfCfg)
		demo.ClearCookies(w, r, cfg.Cookies.SessionDomain)
	}
	s.auth.OnSignIn = func(r *http.Request, p *auth.Principal) { s.email.NotifySignIn(r, p.IdentityID, p.Email, p.Name) }
	s.oauth2 = oauth2.New(cfg, clients, s.auth, pool, log)
	s.keto = keto.New(cfg, clients, pool, log)
	s.orgs = orgs.New(pool, s.keto, log)
	s.demo = demo.New(demo.Options{Pool: pool, Log: log, Secure: cfg.Cookies.Secure, Proxies: cfg.TrustedProxies,
		Health: s.handle(s.health.Handler)})
	s.keys = apikey.New(pool, log, cfg.DBAPI.KeyRateLimit)
	s.dbapi = dbapi.New(pool, s.keys, log, dbapi.Options{Schemas: cfg.DBAPI.Schemas,
		StatementTimeout: cfg.DBAPI.StatementTimeout, MaxRows: cfg.DBAPI.MaxRows})
	s.sqlwb = dbapi.NewWorkbench(s.dbapi)
	// Outermost first: request id, logs+metrics, CORS, then unknown routes
	// (404/405) before CSRF, so a wrong URL is never reported as a CSRF problem.
	corsMW := cors.Middleware(cors.Options{Allowed: cfg.CORSOrigins, SelfOrigin: cfg.PublicURL.String(), Log: log})
	mux := s.routes()
	s.handler = requestid.Middleware(s.observe(corsMW(jsonMuxErrors(mux, csrf.Middleware(csrfCfg, log)(mux)))))
	return s
}

func newChecker(cfg config.Config, pool *pgxpool.Pool, c *ory.Clients, m *metrics, smtp health.Check) *health.Checker {
	checks := []health.Check{{Name: "postgres", Required: true, Target: "DATABASE_URL", Probe: health.PostgresProbe(pool)}}
	for _, e := range c.All() {
		checks = append(checks, health.OryCheck(e))
	}
	checks = append(checks, smtp)
	return &health.Checker{Checks: checks, Timeout: min(cfg.OryTimeout, 3*time.Second),
		Version: version.Version, Observe: m.observeDependency}
}

// BootstrapAdmin ensures TRUSS_BOOTSTRAP_ADMIN_EMAIL's account in the
// background (Kratos may still be starting) and reports the result.
func (s *Server) BootstrapAdmin(ctx context.Context, done func(auth.BootstrapResult)) {
	go s.auth.BootstrapUntilDone(ctx, done)
}

// doctorEnv is what GET /api/doctor diagnoses: this server's own view.
func (s *Server) doctorEnv() *doctor.Env {
	return &doctor.Env{Cfg: s.cfg, Raw: os.LookupEnv, Ory: s.ory, Pool: s.pool, Dashboard: s.cfg.DashboardURL,
		HTTP: &http.Client{Timeout: 8 * time.Second}}
}

// Handler is the complete HTTP handler (for tests with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx is cancelled, then lets in-flight requests
// finish for up to SHUTDOWN_TIMEOUT.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// The email outbox workers live as long as the server; stopping them
	// waits for the messages being sent (internal/email).
	stopEmail := s.email.Start(ctx)
	defer stopEmail()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
