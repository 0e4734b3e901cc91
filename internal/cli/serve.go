package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/database"
	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/version"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve", `
Serves the Truss API and dashboard on API_HOST:API_PORT (default 0.0.0.0:8787),
using the PostgreSQL database and Ory services named by the environment.
Pending migrations of Truss's own schema are applied first. SIGINT/SIGTERM
stop it gracefully.`, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, newLogger(cfg, stderr), nil, func(res auth.BootstrapResult) {
		if res.Password != "" {
			// Printed once, to the terminal only: it is never stored by Truss.
			fmt.Fprintf(stderr, "\nBootstrap admin created: %s / %s\nChange this password after signing in.\n\n", res.Email, res.Password)
		}
	})
}

// serve migrates and serves until ctx ends. ready, if set, is called once
// the listener is open.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ready func(addr string), onAdmin func(auth.BootstrapResult)) error {
	pool, err := database.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := database.Migrate(ctx, pool, log); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("cannot listen on %s (API_HOST/API_PORT): %w", cfg.ListenAddr(), err)
	}
	log.Info("truss listening", "addr", ln.Addr().String(), "version", version.Version, "env", cfg.Env,
		"oauth2", cfg.HydraEnabled())
	if ready != nil {
		// The listener is open, so ready may call the server while Serve starts.
		go ready(ln.Addr().String())
	}
	srv := server.New(cfg, log, pool)
	srv.BootstrapAdmin(ctx, func(res auth.BootstrapResult) {
		if res.Email != "" {
			log.Info("bootstrap admin ready", "email", res.Email, "identity_id", res.IdentityID, "created", res.Created)
		}
		if onAdmin != nil {
			onAdmin(res)
		}
	})
	return srv.Serve(ctx, ln)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
