package dbapi

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TestSchemaLoadsOnce: requests arriving together on a cold cache wait for
// one catalog read instead of each reading it in turn.
func TestSchemaLoadsOnce(t *testing.T) {
	// (testenv imports this package through the server: use the stack's
	// database directly; the test only reads the catalog.)
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests under `truss dev --exec` (make test)")
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := New(pool, nil, slog.New(slog.DiscardHandler), Options{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := s.Schema(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := s.loads.Load(); n != 1 {
		t.Fatalf("the catalog was read %d times for 16 concurrent first requests, want 1", n)
	}
}
