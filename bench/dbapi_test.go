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
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

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
	srv, pool, key := itemsServer(t, 10000)

	// The floor: one query, JSON built by PostgreSQL, written as is.
	floor := httptest.NewServer(floorHandler(pool))
	t.Cleanup(floor.Close)
	// The floor with the security setup the issue asks of every /v1
	// request (SET LOCAL ROLE and request.jwt.claims in the query's
	// transaction): reported, so that what that setup costs by itself is
	// told apart from Truss's own overhead.
	floorSetup := httptest.NewServer(setupFloorHandler(pool))
	t.Cleanup(floorSetup.Close)

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
		name                     string
		floor, floorSetup, truss func() *http.Request
	}{
		{"one row by primary key", mk(floor.URL, "/?id=", false, true), mk(floorSetup.URL, "/?id=", false, true), mk(srv.URL, "/v1/db/items?id=eq.", true, true)},
		{"list 20 rows", mk(floor.URL, "/", false, false), mk(floorSetup.URL, "/", false, false), mk(srv.URL, "/v1/db/items?order=id&limit=20", true, false)},
	}
	const n, workers, rounds = 10000, 8, 7
	for _, c := range cases {
		load("warm-up", 500, workers, client, c.floor)
		load("warm-up", 500, workers, client, c.floorSetup)
		load("warm-up", 500, workers, client, c.truss)
		// Rounds are interleaved so drift hits both equally; the median of
		// the per-round ratios keeps one disturbed round (this machine runs
		// PostgreSQL, client and servers on the same CPUs) from deciding.
		var ratios, setupRatios, vsSetup []float64
		for i := range rounds {
			f := load(fmt.Sprintf("%s: pgx floor, round %d", c.name, i+1), n, workers, client, c.floor)
			fs := load(fmt.Sprintf("%s: floor + role/claims, round %d", c.name, i+1), n, workers, client, c.floorSetup)
			a := load(fmt.Sprintf("%s: auto-REST, round %d", c.name, i+1), n, workers, client, c.truss)
			t.Log(f)
			t.Log(fs)
			t.Log(a)
			if a.statuses[200] != n || f.statuses[200] != n || fs.statuses[200] != n {
				t.Fatalf("non-200 answers: floor %v, floor + setup %v, auto-REST %v", f.statuses, fs.statuses, a.statuses)
			}
			ratios = append(ratios, a.rps()/f.rps())
			setupRatios = append(setupRatios, fs.rps()/f.rps())
			vsSetup = append(vsSetup, a.rps()/fs.rps())
		}
		slices.Sort(ratios)
		ratio := median(ratios)
		t.Logf("%s: floor + role/claims setup / pgx floor = %.2f (what the per-transaction SET LOCAL ROLE and claims cost by themselves)", c.name, median(setupRatios))
		t.Logf("%s: auto-REST / (floor + role/claims setup) = %.2f (Truss's own overhead)", c.name, median(vsSetup))
		t.Logf("%s: auto-REST throughput / pgx floor = %.2f, median of rounds %.2f (target >= 0.80)", c.name, ratio, ratios)
		if ratio < 0.8 {
			t.Errorf("%s: auto-REST reaches %.2f of the floor's throughput, target 0.80", c.name, ratio)
		}
	}
}

// itemsServer is Truss on a fresh database holding a table items of n rows
// (id, name, price, created_at), with a service_role key for it (API key
// rate limit off: the bench sends more than a minute's allowance).
func itemsServer(t *testing.T, n int) (*httptest.Server, *pgxpool.Pool, string) {
	t.Helper()
	cfg := testenv.Config(t, map[string]string{"API_KEY_RATE_LIMIT": "0"})
	pool := testenv.Pool(t, cfg)
	srv := httptest.NewServer(server.New(cfg, testenv.Logger(t), pool).Handler())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, fmt.Sprintf(`
		CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO items (id, name, price) SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, %d) g;
		ANALYZE items;`, n)); err != nil {
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
	return srv, pool, key
}

// floorHandler answers ?id=N (one row) or anything else (20 rows) with one
// query through pgx, the JSON built by PostgreSQL: the floor.
func floorHandler(pool *pgxpool.Pool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sql, args := floorSQL(r)
		var body []byte
		if err := pool.QueryRow(r.Context(), sql, args...).Scan(&body); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

func floorSQL(r *http.Request) (string, []any) {
	if id := r.URL.Query().Get("id"); id != "" {
		return `SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT * FROM items WHERE id = $1) t`, []any{id}
	}
	return `SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT * FROM items ORDER BY id LIMIT 20) t`, nil
}

// setupFloorHandler is the floor plus the security setup the issue asks of
// every /v1 request: the role, claims and statement timeout set local to the
// query's transaction, sent with the query in one round trip. It takes the
// cheapest path pgx has, the one auto-REST takes (prepared statements, one
// pgconn batch: an implicit transaction), so that it is the ceiling of any
// implementation doing that setup, and auto-REST's distance to it is
// Truss's own overhead. (pgx.Batch costs a few more µs of Go per request
// and would hide part of that overhead in the setup's cost.)
func setupFloorHandler(pool *pgxpool.Pool) http.Handler {
	const claims = `{"role":"service_role","tenant_id":"00000000-0000-0000-0000-0000000000be","key_id":"00000000-0000-0000-0000-0000000000be","iss":"truss"}`
	setup := [][]byte{[]byte("service_role"), []byte(claims), []byte("8000")}
	var prepared sync.Map // *pgx.Conn -> map[string]*pgconn.StatementDescription
	prepare := func(ctx context.Context, conn *pgx.Conn, sql string) (*pgconn.StatementDescription, error) {
		m, _ := prepared.LoadOrStore(conn, &sync.Map{})
		if sd, ok := m.(*sync.Map).Load(sql); ok {
			return sd.(*pgconn.StatementDescription), nil
		}
		sd, err := conn.Prepare(ctx, sql, sql)
		if err == nil {
			m.(*sync.Map).Store(sql, sd)
		}
		return sd, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := func() ([]byte, error) {
			c, err := pool.Acquire(r.Context())
			if err != nil {
				return nil, err
			}
			defer c.Release()
			sql, args := floorSQL(r)
			sds := make([]*pgconn.StatementDescription, 2)
			for i, q := range []string{`SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`, sql} {
				if sds[i], err = prepare(r.Context(), c.Conn(), q); err != nil {
					return nil, err
				}
			}
			var params [][]byte
			for _, a := range args {
				params = append(params, []byte(a.(string)))
			}
			var b pgconn.Batch
			b.ExecStatement(sds[0], setup, nil, nil)
			b.ExecStatement(sds[1], params, nil, nil)
			results, err := c.Conn().PgConn().ExecBatch(r.Context(), &b).ReadAll()
			if err != nil {
				return nil, err
			}
			return results[1].Rows[0][0], nil
		}()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// median of xs (durations or ratios).
func median[T time.Duration | float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
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
