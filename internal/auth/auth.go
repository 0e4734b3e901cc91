// Package auth serves Truss's accounts and sessions (/api/auth/*) on Ory
// Kratos. Truss drives Kratos's API (native) flows and keeps the Kratos
// session token in its own HttpOnly cookie, truss_session, so browsers never
// deal with Kratos's cookies, CSRF tokens or domains.
package auth

import (
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/ory"
)

// SessionCookie holds the Kratos session token for browsers.
const SessionCookie = "truss_session"

// Service holds what the auth handlers and the session middleware share.
type Service struct {
	cfg   config.Config
	ory   *ory.Clients
	pool  *pgxpool.Pool
	log   *slog.Logger
	cache *sessionCache
	// OnLogin runs after a session is issued (CSRF rotation lives in the
	// csrf package; the server wires it here).
	OnLogin func(w ResponseWriter, r *Request)
	// OnSignIn runs after a successful sign-in (the new-device alert of
	// internal/email); it must not fail or block the login.
	OnSignIn   func(r *Request, p *Principal)
	limiters   limiters
	pendingMFA pendingMFA
}

// New builds the service.
func New(cfg config.Config, clients *ory.Clients, pool *pgxpool.Pool, log *slog.Logger) *Service {
	return &Service{cfg: cfg, ory: clients, pool: pool, log: log, cache: newSessionCache(cfg.SessionCacheTTL),
		limiters: newLimiters(time.Now)}
}

func (s *Service) isConfiguredAdmin(identityID string) bool {
	return slices.Contains(s.cfg.AdminIDs, identityID)
}
