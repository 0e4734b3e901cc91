// Package keto serves /api/keto: Ory Keto's relationship-based permissions,
// isolated per tenant. Every object a tenant names is stored in Keto as
// "<tenant-id>:<object>" (subject sets included) and stripped on the way
// out, and every namespace it names is resolved through its own model, so a
// tenant cannot read, write, check or expand anything of another tenant:
// there is no way to spell it. Tenants may also replace Truss's default
// model with their own OPL (model.go), which Truss validates with Keto,
// versions in PostgreSQL and writes into the namespaces file Keto watches.
package keto

import (
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/ory"
)

// Limits of the API.
const (
	MaxBatchCheck    = 50
	MaxImport        = 500
	MaxExport        = 10000
	DefaultPageSize  = 100
	MaxPageSize      = 500
	DefaultMaxDepth  = 5
	MaxMaxDepth      = 10
	maxFieldLength   = 256
	scanPagesPerCall = 10
	// batchConcurrency bounds the checks of one batch in flight at Keto.
	// It matches the max_idle_conns=4 of the Keto DSN Truss ships (truss
	// dev, deploy/): with more checks in flight than idle connections, Keto
	// opens and closes PostgreSQL connections on every burst, and a batch
	// of 50 measured slower than 50 sequential checks at 8 (make bench:
	// 0.9x at 8, 1.4x at 4, on 2 cores).
	batchConcurrency = 4
)

// Service holds the Keto handlers' dependencies.
type Service struct {
	cfg   config.Config
	read  *ory.Endpoint
	write *ory.Endpoint
	// opl is Keto's OPL API; disabled (URL nil) without KETO_OPL_URL.
	opl  *ory.Endpoint
	pool *pgxpool.Pool
	log  *slog.Logger
	// nsFile is nil without KETO_NAMESPACES_FILE (custom models off).
	nsFile *namespacesFile
	models *modelCache
	// rolesSynced records tenants whose roles are mirrored into Keto.
	rolesSynced sync.Map
	// loadTimeout bounds how long a model change waits for Keto to load it.
	loadTimeout time.Duration
}

// New builds the service on Truss's Ory clients.
func New(cfg config.Config, clients *ory.Clients, pool *pgxpool.Pool, log *slog.Logger) *Service {
	s := &Service{cfg: cfg, read: clients.KetoRead, write: clients.KetoWrite, pool: pool, log: log,
		models: newModelCache(2 * time.Second), loadTimeout: 5 * time.Second}
	s.opl = &ory.Endpoint{Service: "keto", Role: "opl", EnvVar: "KETO_OPL_URL", URL: cfg.KetoOPLURL, HTTP: clients.KetoRead.HTTP}
	if cfg.KetoOPLURL != nil {
		sc := client.NewConfiguration()
		sc.Servers = client.ServerConfigurations{{URL: cfg.KetoOPLURL.String()}}
		sc.HTTPClient = clients.KetoRead.HTTP
		sc.UserAgent = "truss"
		s.opl.API = client.NewAPIClient(sc)
	}
	if cfg.KetoNamespacesFile != "" {
		s.nsFile = &namespacesFile{path: cfg.KetoNamespacesFile, svc: s}
	}
	return s
}
