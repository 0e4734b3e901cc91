// Package devstack runs Truss's whole development and test stack without
// Docker: a private PostgreSQL cluster from the system binaries, Ory Kratos,
// Keto and Hydra built from the Go module proxy, and Mailpit as the mail
// catcher. `truss dev` and the test harness (internal/testenv) both use it.
package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Options configure a stack.
type Options struct {
	// Dir holds the stack's state: config/, logs/, postgres/, secrets.json.
	Dir string
	// BinDir caches the built servers; ToolsDir is the checkout's tools/.
	BinDir   string
	ToolsDir string
	Ports    Ports
	// Ephemeral stacks (tests) trade durability and hashing cost for speed.
	Ephemeral bool
	// SkipAPIPort leaves Ports.API unchecked (the test harness runs no
	// Truss server of its own on it).
	SkipAPIPort bool
	PublicURL   string
	Out         io.Writer
	// ExternalDatabaseURL, when set (DATABASE_URL in the environment), is
	// used instead of a private cluster: Truss uses it as is, and the Ory
	// servers get databases kratos, keto and hydra on the same server.
	ExternalDatabaseURL string
	// Only, if set, limits the servers started (tests that stop and start
	// a Kratos of their own); DatabasePrefix then keeps their databases apart
	// from the main stack's.
	Only           []string
	DatabasePrefix string
	// SkipMigrations starts the servers on unmigrated databases (for the
	// doctor's pending-migration test) without waiting for them.
	SkipMigrations bool
}

// Stack is a running development stack.
type Stack struct {
	opts    Options
	Ports   Ports
	secrets Secrets
	procs   []*Process
	started time.Time
	mu      sync.Mutex
	// Crashes receives every child that exits on its own.
	Crashes chan *Process
}

// Start brings the stack up, reporting progress to opts.Out. On error it
// stops whatever it had started.
func Start(ctx context.Context, opts Options) (st *Stack, err error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = abs
	s := &Stack{opts: opts, Ports: opts.Ports, started: time.Now(), Crashes: make(chan *Process, 8)}
	for _, d := range []string{"config", "logs"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if s.secrets, err = loadSecrets(filepath.Join(opts.Dir, "secrets.json")); err != nil {
		return nil, err
	}
	if err := s.Ports.CheckFree(opts.SkipAPIPort); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := s.ensureBuilt(ctx); err != nil {
		return nil, err
	}
	if opts.ExternalDatabaseURL != "" {
		s.step("using the PostgreSQL server of DATABASE_URL; creating databases kratos, keto, hydra there if missing")
		if err := s.useExternalPostgres(ctx); err != nil {
			return nil, err
		}
	} else {
		s.step("starting PostgreSQL on 127.0.0.1:%d", s.Ports.Postgres)
		if err := s.startPostgres(ctx); err != nil {
			return nil, err
		}
	}
	for _, srv := range s.servers() {
		if !s.wanted(srv.name) {
			continue
		}
		s.step("starting %s", srv.name)
		if _, err := s.startServer(ctx, srv); err != nil {
			return nil, err
		}
	}
	s.info("stack ready in %s", time.Since(s.started).Round(100*time.Millisecond))
	return s, nil
}

// Stop stops every child, newest first, so PostgreSQL outlives its clients.
func (s *Stack) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].Stop(15 * time.Second); err != nil {
			s.info("%v", err)
		}
	}
	s.procs = nil
}

func (s *Stack) wanted(name string) bool {
	if len(s.opts.Only) == 0 {
		return true
	}
	return slices.Contains(s.opts.Only, name)
}

// StopServer stops one running server (to test how Truss copes).
func (s *Stack) StopServer(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.procs {
		if p.Name == name {
			s.procs = slices.Delete(s.procs, i, i+1)
			return p.Stop(15 * time.Second)
		}
	}
	return fmt.Errorf("%s is not running", name)
}

// StartServer starts a server again after StopServer.
func (s *Stack) StartServer(ctx context.Context, name string) error {
	for _, srv := range s.servers() {
		if srv.name == name {
			_, err := s.startServer(ctx, srv)
			return err
		}
	}
	return fmt.Errorf("unknown server %q", name)
}

// Env is the configuration Truss (and the tests) need to use this stack,
// as environment variables.
func (s *Stack) Env() map[string]string {
	u := func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }
	return map[string]string{
		"DATABASE_URL":      s.trussDatabaseURL(),
		"KRATOS_PUBLIC_URL": u(s.Ports.KratosPublic),
		"KRATOS_ADMIN_URL":  u(s.Ports.KratosAdmin),
		"KETO_READ_URL":     u(s.Ports.KetoRead),
		"KETO_WRITE_URL":    u(s.Ports.KetoWrite),
		"HYDRA_PUBLIC_URL":  u(s.Ports.HydraPublic),
		"HYDRA_ADMIN_URL":   u(s.Ports.HydraAdmin),
		"SMTP_HOST":         "127.0.0.1",
		"SMTP_PORT":         strconv.Itoa(s.Ports.SMTP),
		"SMTP_FROM":         "no-reply@truss.localhost", // as Kratos's courier (kratos.yml)
		"TRUSS_SECRET_KEY":  s.secrets.TrussSecretKey,
		"API_PORT":          strconv.Itoa(s.Ports.API),
		"TRUSS_PUBLIC_URL":  s.opts.PublicURL,
		// For the test harness: a superuser URL to create per-test
		// databases, and where the built servers and the mail API are.
		"TRUSS_DEV_ADMIN_DATABASE_URL": s.adminURL("postgres"),
		"TRUSS_DEV_BIN_DIR":            s.opts.BinDir,
		"TRUSS_DEV_DIR":                s.opts.Dir,
		"TRUSS_DEV_MAILPIT_URL":        u(s.Ports.MailUI),
		"TRUSS_DEV_KETO_OPL_URL":       u(s.Ports.KetoOPL),

		// Custom permission models: Keto's OPL API, and the file keto.yml's
		// namespaces.location names, which Truss rewrites.
		"KETO_OPL_URL":         u(s.Ports.KetoOPL),
		"KETO_NAMESPACES_FILE": filepath.Join(s.opts.Dir, "config", "namespaces.keto.ts"),
	}
}

// Logs is the directory of the children's logs.
func (s *Stack) Logs() string { return filepath.Join(s.opts.Dir, "logs") }

func (s *Stack) logPath(name string) string { return filepath.Join(s.opts.Dir, "logs", name+".log") }

// crashed reports a child that exited on its own with the tail of its log.
// The other children keep running: the developer decides what to do.
func (s *Stack) crashed(p *Process) {
	fmt.Fprintf(s.opts.Out, "\n✗ %s exited unexpectedly (%v). Last lines of %s:\n%s\n\n", p.Name, p.ExitErr(), p.LogPath, indent(p.Tail(20)))
	select {
	case s.Crashes <- p:
	default:
	}
}

func (s *Stack) step(format string, args ...any) {
	fmt.Fprintf(s.opts.Out, "[%5.1fs] → %s\n", time.Since(s.started).Seconds(), fmt.Sprintf(format, args...))
}

func (s *Stack) info(format string, args ...any) {
	fmt.Fprintf(s.opts.Out, "[%5.1fs]   %s\n", time.Since(s.started).Seconds(), fmt.Sprintf(format, args...))
}
