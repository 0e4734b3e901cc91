// Package testenv gives tests the real stack: PostgreSQL, Kratos, Keto,
// Hydra and Mailpit. Under `make test` (truss dev --exec) one stack serves
// every package through environment variables; a package run alone with
// `go test` starts its own in TestMain. Each test gets a fresh database, so
// tests run in parallel without seeing each other's rows.
package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/database"
	"github.com/trussdev/truss/internal/devstack"
	"github.com/trussdev/truss/internal/server"
)

// adminURLVar is set by truss dev --exec and by Main: a superuser URL.
const adminURLVar = "TRUSS_DEV_ADMIN_DATABASE_URL"

// Main is the TestMain of packages that need the stack:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv(adminURLVar) != "" {
		return m.Run()
	}
	st, cleanup, err := startStack(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: cannot start the stack:", err)
		return 1
	}
	defer cleanup()
	for k, v := range st.Env() {
		os.Setenv(k, v)
	}
	return m.Run()
}

// startStack starts an ephemeral stack on free ports in a temporary dir.
func startStack(out io.Writer) (*devstack.Stack, func(), error) {
	checkout, err := devstack.FindCheckout(".")
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "truss-test-stack-")
	if err != nil {
		return nil, nil, err
	}
	_ = os.Chmod(dir, 0o755) // the postgres user must reach its cluster inside
	ports, err := devstack.FreePorts()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{Dir: dir, BinDir: filepath.Join(checkout, ".truss", "bin"),
		ToolsDir: filepath.Join(checkout, "tools"), Ports: ports, Ephemeral: true, SkipAPIPort: true,
		PublicURL: fmt.Sprintf("http://localhost:%d", ports.API), Out: out})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return st, func() { st.Stop(); os.RemoveAll(dir) }, nil
}

// Require skips nothing: it fails the test when the stack is missing, so a
// forgotten TestMain never turns integration tests into silent passes.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(adminURLVar) == "" {
		t.Fatal("no stack: call testenv.Main from this package's TestMain, or run under `make test`")
	}
}

// Lookup reads configuration from the stack's environment, with overrides.
func Lookup(overrides map[string]string) config.Lookup {
	return func(name string) (string, bool) {
		if v, ok := overrides[name]; ok {
			return v, true
		}
		return os.LookupEnv(name)
	}
}

// NewDatabase creates an empty database for one test and drops it after.
func NewDatabase(t testing.TB) string {
	t.Helper()
	Require(t)
	ctx := context.Background()
	admin := os.Getenv(adminURLVar)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the stack's PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	name := "test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return strings.Replace(admin, "/postgres?", "/"+name+"?", 1)
}

// Config is a valid configuration for the stack with a fresh database.
func Config(t testing.TB, overrides map[string]string) config.Config {
	t.Helper()
	o := map[string]string{"DATABASE_URL": NewDatabase(t), "LOG_LEVEL": "warn"}
	for k, v := range overrides {
		o[k] = v
	}
	cfg, err := config.Load(Lookup(o))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// Pool opens a migrated pool on cfg's database, closed after the test.
func Pool(t testing.TB, cfg config.Config) *pgxpool.Pool {
	t.Helper()
	pool, err := database.Open(context.Background(), cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := database.Migrate(context.Background(), pool, Logger(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return pool
}

// Server runs a Truss server on the stack for one test.
func Server(t testing.TB, overrides map[string]string) (*httptest.Server, config.Config) {
	t.Helper()
	cfg := Config(t, overrides)
	srv := httptest.NewServer(server.New(cfg, Logger(t), Pool(t, cfg)).Handler())
	t.Cleanup(srv.Close)
	return srv, cfg
}

// Logger writes to the test log, so a failure shows the server's view.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
