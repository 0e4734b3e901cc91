package database_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/trussdev/truss/internal/database"
	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestConcurrentMigrations starts several "instances" at once on an empty
// database: all must succeed, and the migrations must be applied once.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	url := testenv.NewDatabase(t)
	ctx := context.Background()
	const instances = 4
	var wg sync.WaitGroup
	applied := make([]int, instances)
	errs := make([]error, instances)
	for i := range instances {
		wg.Go(func() {
			pool, err := database.Open(ctx, url, 2)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			applied[i], errs[i] = database.Migrate(ctx, pool, quiet)
		})
	}
	wg.Wait()
	total := 0
	for i := range instances {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	pool, err := database.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	status, err := database.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if total != len(status) {
		t.Errorf("instances applied %d migrations in total, want each of the %d once", total, len(status))
	}
	for _, m := range status {
		if !m.Applied {
			t.Errorf("migration %d (%s) not applied", m.Version, m.Name)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'truss_internal'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 3 { // tenants, tenant_members, schema_migrations
		t.Errorf("truss_internal has %d tables, want at least 3", n)
	}
	// Idempotent: running again applies nothing.
	if again, err := database.Migrate(ctx, pool, quiet); err != nil || again != 0 {
		t.Errorf("second run applied %d (err %v), want 0", again, err)
	}
}

func TestOpenReportsUnreachableServerWithoutPassword(t *testing.T) {
	t.Parallel()
	_, err := database.Open(context.Background(), "postgres://truss:s3cret-pass@127.0.0.1:1/truss?connect_timeout=2", 1)
	if err == nil {
		t.Fatal("want an error for a closed port")
	}
	if msg := err.Error(); !contains(msg, "127.0.0.1:1") || contains(msg, "s3cret-pass") {
		t.Errorf("error must name host:port and hide the password: %s", msg)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
