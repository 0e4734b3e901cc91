package dbapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/tenant"
	"github.com/trussdev/truss/internal/testenv"
)

// BenchmarkRead measures auto-REST reads in process (no sockets between
// client and server), so its CPU profile shows the Go side of a request:
//
//	truss dev --exec -- go test -run '^$' -bench Read -benchmem -cpuprofile cpu.out ./internal/dbapi/
func BenchmarkRead(b *testing.B) {
	cfg := testenv.Config(b, map[string]string{"API_KEY_RATE_LIMIT": "0"})
	pool := testenv.Pool(b, cfg)
	h := server.New(cfg, testenv.Logger(b), pool).Handler()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `
		CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO items (id, name, price) SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 10000) g;
		ANALYZE items;`); err != nil {
		b.Fatal(err)
	}
	tn, err := tenant.Ensure(ctx, pool, "00000000-0000-0000-0000-0000000000be", "bench")
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := apikey.New(pool, testenv.Logger(b), 0).Create(ctx, tn.ID, nil, apikey.ServiceRole, "bench")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, path func(i int) string) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			r := httptest.NewRequest("GET", path(i), nil)
			r.Header.Set("apikey", key)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	b.Run("one row", func(b *testing.B) {
		run(b, func(i int) string { return "/v1/db/items?id=eq." + strconv.Itoa(i%10000+1) })
	})
	b.Run("list 20", func(b *testing.B) {
		run(b, func(int) string { return "/v1/db/items?order=id&limit=20" })
	})
}
