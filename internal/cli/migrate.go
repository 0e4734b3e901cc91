package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/database"
)

func runMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "migrate up|status", `
Manages the migrations of Truss's own schema (truss_internal) in DATABASE_URL.
  up      apply every pending migration (safe to run from several instances at once)
  status  list the migrations and whether each is applied
serve and dev apply pending migrations themselves; run this to migrate ahead of
a deploy. The Ory servers have their own migrate commands.`, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "status") {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pool, err := database.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if fs.Arg(0) == "up" {
		n, err := database.Migrate(ctx, pool, newLogger(cfg, stderr))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s); schema %s is up to date\n", n, database.Schema)
		return nil
	}
	ms, err := database.Status(ctx, pool)
	if err != nil {
		return err
	}
	for _, m := range ms {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		fmt.Fprintf(stdout, "%05d  %-8s %s\n", m.Version, state, m.Name)
	}
	return nil
}
