package oauth2

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/ory"
)

// HandlerFunc is the error-returning handler shape of the server.
type HandlerFunc = func(w http.ResponseWriter, r *http.Request) error

// Handlers serves /api/oauth2/* and /api/hydra/*: Hydra's login, consent
// and logout bridge, per-tenant OAuth2 clients, tokens and consent sessions.
type Handlers struct {
	Ory *ory.Clients
	// Auth resolves truss_session cookies and ends Truss sessions on logout.
	Auth *auth.Service
	// PublicURL is TRUSS_PUBLIC_URL: where the bridge and the dashboard's
	// login, consent and logout pages live.
	PublicURL *url.URL
	// HydraDatabaseURL and HydraBin run `hydra janitor` for POST
	// /api/hydra/flush (Hydra v2 has no flush API); empty disables flush.
	HydraDatabaseURL string
	HydraBin         string
	cfg              config.Config
	pool             *pgxpool.Pool
	log              *slog.Logger
}

// New builds the handlers.
func New(cfg config.Config, clients *ory.Clients, authService *auth.Service, pool *pgxpool.Pool, log *slog.Logger) *Handlers {
	return &Handlers{Ory: clients, Auth: authService, PublicURL: cfg.PublicURL,
		HydraDatabaseURL: cfg.HydraDatabaseURL, HydraBin: cfg.HydraBin, cfg: cfg, pool: pool, log: log}
}

// Public runs fn when OAuth2 is configured (HYDRA_ADMIN_URL set); otherwise
// it answers 503 oauth2_not_configured, before any authentication, so every
// OAuth2 endpoint says the same thing on a server without Hydra.
func (h *Handlers) Public(fn HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := h.Ory.HydraAdmin.Require(); err != nil {
			return err
		}
		return fn(w, r)
	}
}

// User is Public plus a signed-in Truss user (auth.FromContext in fn).
func (h *Handlers) User(fn HandlerFunc) HandlerFunc { return h.Public(h.Auth.Require(fn)) }

// Admin is Public plus a Truss admin.
func (h *Handlers) Admin(fn HandlerFunc) HandlerFunc { return h.Public(h.Auth.RequireAdmin(fn)) }

// principal is the signed-in user of a request wrapped by User or Admin.
func principal(r *http.Request) *auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

// dashboardURL is a page of the dashboard (served at TRUSS_PUBLIC_URL) with
// query parameters.
func (h *Handlers) dashboardURL(path string, q url.Values) string {
	u := *h.PublicURL
	u.Path = joinPath(u.Path, path)
	u.RawQuery = q.Encode()
	return u.String()
}

// bridgeURL is this server's own bridge endpoint, as Hydra calls it.
func (h *Handlers) bridgeURL(path string, q url.Values) string { return h.dashboardURL(path, q) }

func joinPath(base, p string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}
