// Package dbapi serves Truss's database platform under /v1: SQL over HTTP
// (/v1/sql), PostgREST-compatible auto-REST (/v1/db/{table}) and RPC
// (/v1/db/rpc/{function}).
//
// Which database: DATABASE_URL's, the one holding truss_internal. User
// tables live in the schemas listed in DB_API_SCHEMAS (public by default);
// truss_internal is never exposed and the API roles have no privilege on it.
// The Ory servers use separate databases, which /v1 cannot name: a
// connection is bound to one database and the API roles cannot log in.
//
// How: every request runs in one transaction on a connection of
// truss_authenticator (a LOGIN role with no privileges of its own), with
// the role set locally to anon, authenticated or service_role and the
// caller's claims in request.jwt.claims ({"role","sub","email","tenant_id",
// "key_id"}); truss_api.uid(), truss_api.tenant_id() and truss_api.role() read them in
// policies. Auto-REST requests are pipelined: setup and query go in one
// round trip, in one implicit transaction. Identifiers come from the schema
// cache and are quoted; values are always parameters.
package dbapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/apikey"
)

// AuthenticatorRole is the login role of /v1 connections (migration 00006).
const AuthenticatorRole = "truss_authenticator"

// SchemaChannel is notified by the event trigger on DDL.
const SchemaChannel = "truss_schema"

// Options configure the service (from DB_API_* variables).
type Options struct {
	Schemas          []string      // exposed schemas, first is the default
	StatementTimeout time.Duration // per statement, and the longest a caller may ask for
	MaxRows          int           // most rows one read returns
}

// DefaultLimit is the number of rows a read returns without limit=.
const DefaultLimit = 1000

// Service holds the connections and the schema cache.
type Service struct {
	main *pgxpool.Pool
	keys *apikey.Service
	log  *slog.Logger
	opts Options

	mu       sync.Mutex
	ready    atomic.Pointer[connected] // set once both pools are up: the lock-free path
	initErr  error
	initAt   time.Time
	listened bool

	schema     atomic.Pointer[Schema]
	reloadMu   sync.Mutex
	lastReload time.Time
	loads      atomic.Int64 // catalog reads, for tests
}

// New returns the service. Connections open on first use, so Truss starts
// even while PostgreSQL does not answer yet.
func New(main *pgxpool.Pool, keys *apikey.Service, log *slog.Logger, opts Options) *Service {
	if len(opts.Schemas) == 0 {
		opts.Schemas = []string{"public"}
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = 10000
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = 8 * time.Second
	}
	return &Service{main: main, keys: keys, log: log, opts: opts}
}

// connected are the two pools of truss_authenticator.
type connected struct {
	api *pgxpool.Pool // statement cache on: generated SQL
	raw *pgxpool.Pool // no statement cache, reset after use: user SQL
}

// pools returns the authenticator pools, connecting on first use. A failure
// is retried at most once per 2 s.
func (s *Service) pools(ctx context.Context) (api, raw *pgxpool.Pool, err error) {
	if c := s.ready.Load(); c != nil {
		return c.api, c.raw, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.ready.Load(); c != nil {
		return c.api, c.raw, nil
	}
	if s.initErr != nil && time.Since(s.initAt) < 2*time.Second {
		return nil, nil, s.initErr
	}
	s.initAt = time.Now()
	api, raw, err = s.connect(ctx)
	if err != nil {
		s.log.Error("database API unavailable", "error", err)
		s.initErr = apierror.New(http.StatusServiceUnavailable, "database_api_unavailable",
			"The database API cannot connect to PostgreSQL as "+AuthenticatorRole+".").
			WithHint("Run `truss migrate up` (migration 00006 creates the roles anon, authenticated, service_role and " +
				AuthenticatorRole + "; it needs a user with CREATEROLE). The server log has the cause.")
		return nil, nil, s.initErr
	}
	s.ready.Store(&connected{api: api, raw: raw})
	s.initErr = nil
	if !s.listened {
		s.listened = true
		go s.listen()
	}
	return api, raw, nil
}

// authenticatorPassword is derived from DATABASE_URL's credentials, so every
// instance sharing DATABASE_URL computes the same one and nobody without
// DATABASE_URL can.
func authenticatorPassword(c *pgconn.Config) string {
	m := hmac.New(sha256.New, []byte(c.User+"\x00"+c.Password+"\x00"+c.Host))
	m.Write([]byte("truss_authenticator v1"))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Service) connect(ctx context.Context) (*pgxpool.Pool, *pgxpool.Pool, error) {
	base := s.main.Config()
	pw := authenticatorPassword(&base.ConnConfig.Config)
	mk := func(raw bool) (*pgxpool.Pool, error) {
		cfg := base.Copy()
		cfg.ConnConfig.User = AuthenticatorRole
		cfg.ConnConfig.Password = pw
		cfg.ConnConfig.RuntimeParams["application_name"] = "truss-dbapi"
		cfg.BeforeConnect, cfg.AfterConnect, cfg.BeforeAcquire, cfg.AfterRelease = nil, nil, nil, nil
		cfg.BeforeClose = forgetPrepared
		if raw {
			// User SQL can change session state (SET, temp tables, LISTEN,
			// prepared statements): no statement cache, and every connection
			// is reset before it is reused, or closed.
			cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
			cfg.MaxConns = max(2, cfg.MaxConns/2)
			cfg.AfterRelease = func(c *pgx.Conn) bool {
				if c.PgConn().TxStatus() != 'I' {
					return false
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_, err := c.Exec(ctx, "DISCARD ALL", pgx.QueryExecModeSimpleProtocol)
				return err == nil
			}
		}
		return pgxpool.NewWithConfig(ctx, cfg)
	}
	api, err := mk(false)
	if err != nil {
		return nil, nil, err
	}
	if err := s.ensureLogin(ctx, api, pw); err != nil {
		api.Close()
		return nil, nil, err
	}
	raw, err := mk(true)
	if err != nil {
		api.Close()
		return nil, nil, err
	}
	return api, raw, nil
}

// ensureLogin pings as truss_authenticator and, when the password is not
// (yet) the derived one, sets it. Concurrent instances set the same value.
func (s *Service) ensureLogin(ctx context.Context, api *pgxpool.Pool, pw string) error {
	var lastErr error
	for attempt := range 4 {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := api.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "28P01" && pgErr.Code != "28000") {
			return fmt.Errorf("connect as %s: %w", AuthenticatorRole, err)
		}
		// The password is hex, so quoting it as a literal is exact.
		_, aerr := s.main.Exec(ctx, "ALTER ROLE "+AuthenticatorRole+" WITH LOGIN PASSWORD '"+pw+"'")
		if aerr != nil {
			var ae *pgconn.PgError
			if errors.As(aerr, &ae) && ae.Code == "42704" {
				return fmt.Errorf("role %s does not exist: run the migrations", AuthenticatorRole)
			}
			lastErr = fmt.Errorf("set the password of %s: %w", AuthenticatorRole, aerr)
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return lastErr
}

// Schema returns the cache, loading it on first use. Requests arriving
// together before it exists wait for one load instead of each reading the
// catalog in turn.
func (s *Service) Schema(ctx context.Context) (*Schema, error) {
	if sc := s.schema.Load(); sc != nil {
		return sc, nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if sc := s.schema.Load(); sc != nil {
		return sc, nil
	}
	return s.load(ctx)
}

// reload reads the catalog again. A forced reload (a notification) runs at
// once. A reload for a name the cache does not know (since: when that
// request arrived) returns a cache read after since, waiting if needed so
// that the catalog is read at most once per second: an unknown name must
// not become a way to make Truss scan the catalog on every request, and a
// table created just before the request must still be found.
func (s *Service) reload(ctx context.Context, force bool, since ...time.Time) (*Schema, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if cur := s.schema.Load(); cur != nil && !force {
		if len(since) > 0 && s.lastReload.After(since[0]) {
			return cur, nil
		}
		if wait := time.Second - time.Since(s.lastReload); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return s.load(ctx)
}

// load reads the catalog into the cache; reloadMu is held.
func (s *Service) load(ctx context.Context) (*Schema, error) {
	start := time.Now()
	sc, err := LoadSchema(ctx, s.main, s.opts.Schemas)
	if err != nil {
		return nil, err
	}
	s.schema.Store(sc)
	s.lastReload = start
	s.loads.Add(1)
	return sc, nil
}

// listen follows NOTIFY truss_schema (DDL) and truss_api_keys (revocations)
// on a dedicated connection, reconnecting with backoff. It stops when the
// main pool is closed or the database is gone.
func (s *Service) listen() {
	backoff := 500 * time.Millisecond
	for {
		err := s.listenOnce()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // database dropped
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		perr := s.main.Ping(ctx)
		cancel()
		if perr != nil && strings.Contains(perr.Error(), "closed pool") { // puddle.ErrClosedPool
			return
		}
		s.log.Debug("database API listener reconnecting", "error", err)
		time.Sleep(backoff)
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (s *Service) listenOnce() error {
	ctx := context.Background()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, s.main.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	listening := time.Now()
	if _, err := conn.Exec(ctx, "LISTEN "+SchemaChannel+"; LISTEN "+apikey.NotifyChannel); err != nil {
		return err
	}
	// Changes made while disconnected were missed: start from fresh state
	// (a cache read since LISTEN began, as on first start, is fresh).
	s.keys.InvalidateCache()
	if s.schema.Load() != nil {
		if _, err := s.reload(ctx, false, listening); err != nil {
			return err
		}
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch n.Channel {
		case SchemaChannel:
			if _, err := s.reload(ctx, true); err != nil {
				return err // the loop reconnects, or stops when the pool is closed
			}
		case apikey.NotifyChannel:
			s.keys.InvalidateCache()
		}
	}
}
