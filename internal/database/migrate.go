package database

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Schema holds every table Truss itself owns; user data lives elsewhere.
const Schema = "truss_internal"

// versionTable records applied migrations, inside Truss's own schema.
const versionTable = Schema + ".schema_migrations"

// schemaLockID serialises schema creation between instances starting together.
const schemaLockID = 0x7472757373 // "truss"

// Migration is one migration's state, for `truss migrate status`.
type Migration struct {
	Version int64
	Name    string
	Applied bool
}

// Migrate applies every pending migration. It is safe to run from several
// instances at once: goose holds a PostgreSQL advisory lock for the session,
// so the second instance waits, then finds nothing left to do.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (applied int, err error) {
	p, closeFn, err := provider(ctx, pool)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	results, err := p.Up(ctx)
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return len(results), fmt.Errorf("migrate %s: %w", Schema, err)
	}
	return len(results), nil
}

// Status lists every known migration and whether it is applied.
func Status(ctx context.Context, pool *pgxpool.Pool) ([]Migration, error) {
	p, closeFn, err := provider(ctx, pool)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(st))
	for _, s := range st {
		out = append(out, Migration{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

func provider(ctx context.Context, pool *pgxpool.Pool) (*goose.Provider, func(), error) {
	if err := ensureSchema(ctx, pool); err != nil {
		return nil, nil, err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, err
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, nil, err
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, files,
		goose.WithTableName(versionTable), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return p, func() { _ = p.Close() }, nil
}

// ensureSchema creates truss_internal before goose needs its version table
// there. CREATE SCHEMA IF NOT EXISTS can still fail with a unique violation
// when two sessions race, hence the transaction-scoped advisory lock.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLockID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema); err != nil {
		return fmt.Errorf("create schema %s: %w", Schema, err)
	}
	return tx.Commit(ctx)
}
