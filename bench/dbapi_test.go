//go:build bench

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/tenant"
	"github.com/trussdev/truss/internal/testenv"
)

// TestBenchDatabaseAPI compares auto-REST (GET one row by primary key, list
// 20 rows) with the same queries through a minimal pgx + net/http handler
// on the same pool size: the floor. Target: auto-REST reaches at least 0.8
// of the floor's throughput.
func TestBenchDatabaseAPI(t *testing.T) {
	cfg := testenv.Config(t, map[string]string{"API_KEY_RATE_LIMIT": "0"})
	pool := testenv.Pool(t, cfg)
	srv := httptest.NewServer(server.New(cfg, testenv.Logger(t), pool).Handler())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `
		CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO items (id, name, price) SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 10000) g;
		ANALYZE items;`); err != nil {
		t.Fatal(err)
	}
	tn, err := tenant.Ensure(ctx, pool, "00000000-0000-0000-0000-0000000000be", "bench")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := apikey.New(pool, testenv.Logger(t), 0).Create(ctx, tn.ID, nil, apikey.ServiceRole, "bench")
	if err != nil {
		t.Fatal(err)
	}

	// The floor: one query, JSON built by PostgreSQL, written as is.
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var err error
		if id := r.URL.Query().Get("id"); id != "" {
			err = pool.QueryRow(r.Context(), `SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT * FROM items WHERE id = $1) t`, id).Scan(&body)
		} else {
			err = pool.QueryRow(r.Context(), `SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT * FROM items ORDER BY id LIMIT 20) t`).Scan(&body)
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(floor.Close)

	// load closes bodies unread, which makes net/http drop the connection: every
	// request would dial anew and the bench would measure TCP set-up. Real
	// clients keep connections alive, so read each body here.
	client := &http.Client{Transport: drainBodies{&http.Transport{MaxIdleConnsPerHost: 64}}}
	mk := func(base, path string, withKey bool, byID bool) func() *http.Request {
		return func() *http.Request {
			p := path
			if byID {
				p += fmt.Sprint(rand.IntN(10000) + 1)
			}
			r, _ := http.NewRequest("GET", base+p, nil)
			if withKey {
				r.Header.Set("apikey", key)
			}
			return r
		}
	}
	cases := []struct {
		name         string
		floor, truss func() *http.Request
	}{
		{"one row by primary key", mk(floor.URL, "/?id=", false, true), mk(srv.URL, "/v1/db/items?id=eq.", true, true)},
		{"list 20 rows", mk(floor.URL, "/", false, false), mk(srv.URL, "/v1/db/items?order=id&limit=20", true, false)},
	}
	const n, workers, rounds = 10000, 8, 5
	for _, c := range cases {
		load("warm-up", 500, workers, client, c.floor)
		load("warm-up", 500, workers, client, c.truss)
		// Rounds are interleaved so drift hits both equally; the median of
		// the per-round ratios keeps one disturbed round (this machine runs
		// PostgreSQL, client and servers on the same CPUs) from deciding.
		var ratios []float64
		for i := range rounds {
			f := load(fmt.Sprintf("%s: pgx floor, round %d", c.name, i+1), n, workers, client, c.floor)
			a := load(fmt.Sprintf("%s: auto-REST, round %d", c.name, i+1), n, workers, client, c.truss)
			t.Log(f)
			t.Log(a)
			if a.statuses[200] != n || f.statuses[200] != n {
				t.Fatalf("non-200 answers: floor %v, auto-REST %v", f.statuses, a.statuses)
			}
			ratios = append(ratios, a.rps()/f.rps())
		}
		slices.Sort(ratios)
		ratio := ratios[len(ratios)/2]
		t.Logf("%s: auto-REST throughput / pgx floor = %.2f, median of rounds %.2f (target >= 0.80)", c.name, ratio, ratios)
		if ratio < 0.8 {
			t.Errorf("%s: auto-REST reaches %.2f of the floor's throughput, target 0.80", c.name, ratio)
		}
	}
}

// drainBodies reads every response body to the end (so the connection is
// reused) and hands the caller a copy.
type drainBodies struct{ next http.RoundTripper }

func (d drainBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}
