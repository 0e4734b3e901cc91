//go:build bench

package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/devstack"
)

// PocketBase is pinned by the tool module tools/pocketbase. It is built here
// only, not by `truss dev`: nothing but this benchmark runs it.
const (
	pocketBaseVersion = "v0.36.8"
	pocketBasePackage = "github.com/pocketbase/pocketbase/examples/base"
	pocketBaseVarX    = "github.com/pocketbase/pocketbase.Version"
	pbRows            = 10000
)

// TestBenchPocketBase compares auto-REST with PocketBase serving the same
// data on the same machine: GET one row by primary key and list 20 rows.
// It reports the ratio Truss / PocketBase and asserts nothing (issue 8:
// "report the ratio; aim to beat it").
func TestBenchPocketBase(t *testing.T) {
	pb := startPocketBase(t, pocketBaseBinary(t))
	pb.seed(t)

	// Truss: the same table and rows as TestBenchDatabaseAPI.
	srv, _, key := itemsServer(t, pbRows)

	client := &http.Client{Transport: drainBodies{&http.Transport{MaxIdleConnsPerHost: 64}}}
	get := func(url string, header map[string]string) *http.Request {
		r, _ := http.NewRequest("GET", url, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		return r
	}
	apiKey := map[string]string{"apikey": key}
	records := pb.url + "/api/collections/items/records"
	cases := []struct {
		name      string
		truss, pb func() *http.Request
	}{
		{"one row by primary key",
			func() *http.Request {
				return get(fmt.Sprintf("%s/v1/db/items?id=eq.%d", srv.URL, rand.IntN(pbRows)+1), apiKey)
			},
			func() *http.Request { return get(records+"/"+pbID(rand.IntN(pbRows)+1), nil) }},
		// Like for like: ordered by the primary key, no total count (auto-REST
		// counts only when asked to).
		{"list 20 rows",
			func() *http.Request { return get(srv.URL+"/v1/db/items?order=id&limit=20", apiKey) },
			func() *http.Request { return get(records+"?perPage=20&sort=id&skipTotal=1", nil) }},
		// PocketBase's default list query: unordered, and it counts the
		// collection for totalItems/totalPages on every request.
		{"list 20 rows, PB default query",
			func() *http.Request { return get(srv.URL+"/v1/db/items?order=id&limit=20", apiKey) },
			func() *http.Request { return get(records+"?perPage=20", nil) }},
	}
	const n, workers, rounds = 10000, 8, 5
	var summary []string
	for _, c := range cases {
		load("warm-up", 500, workers, client, c.pb)
		load("warm-up", 500, workers, client, c.truss)
		// Interleaved rounds, median of the per-round ratios: see
		// TestBenchDatabaseAPI.
		var ratios []float64
		var trs, pbs []result
		for i := range rounds {
			p := load(fmt.Sprintf("%s: PocketBase, round %d", c.name, i+1), n, workers, client, c.pb)
			a := load(fmt.Sprintf("%s: auto-REST, round %d", c.name, i+1), n, workers, client, c.truss)
			t.Log(p)
			t.Log(a)
			if a.statuses[200] != n || p.statuses[200] != n {
				t.Fatalf("non-200 answers: PocketBase %v, auto-REST %v", p.statuses, a.statuses)
			}
			ratios = append(ratios, a.rps()/p.rps())
			trs, pbs = append(trs, a), append(pbs, p)
		}
		slices.Sort(ratios)
		ratio := ratios[len(ratios)/2]
		t.Logf("%s: auto-REST throughput / PocketBase = %.2f, median of rounds %.2f", c.name, ratio, ratios)
		a, p := medianRound(trs), medianRound(pbs)
		summary = append(summary,
			fmt.Sprintf("%-33s auto-REST  %7.0f req/s  p50 %-9s p99 %-9s", c.name, a.rps(), a.p50.Round(time.Microsecond), a.p99.Round(time.Microsecond)),
			fmt.Sprintf("%-33s PocketBase %7.0f req/s  p50 %-9s p99 %-9s", "", p.rps(), p.p50.Round(time.Microsecond), p.p99.Round(time.Microsecond)),
			fmt.Sprintf("%-33s Truss / PocketBase = %.2f (median of per-round ratios)", "", ratio))
	}
	t.Logf("summary (median round by throughput; %d requests, %d workers, %d rounds):\n%s", n, workers, rounds, strings.Join(summary, "\n"))
}

// medianRound is the round with the median throughput.
func medianRound(rs []result) result {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b result) int {
		switch {
		case a.rps() < b.rps():
			return -1
		case a.rps() > b.rps():
			return 1
		}
		return 0
	})
	return rs[len(rs)/2]
}

// pbID is the PocketBase id of row i: record ids are 15 characters of
// [a-z0-9], so the integer key is zero-padded.
func pbID(i int) string { return fmt.Sprintf("%015d", i) }

// pocketBaseBinary builds PocketBase from tools/pocketbase into the stack's
// bin dir, the way devstack builds the Ory servers: the stamp (same recipe
// as devstack's Tool.stamp) changes with the tool module or the build
// flags, and only then is it rebuilt.
func pocketBaseBinary(t *testing.T) string {
	t.Helper()
	checkout, err := devstack.FindCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	binDir := os.Getenv("TRUSS_DEV_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join(checkout, ".truss", "bin")
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	modDir := filepath.Join(checkout, "tools", "pocketbase")
	args := func(out string) []string {
		return []string{"build", "-ldflags", "-X " + pocketBaseVarX + "=" + pocketBaseVersion, "-o", out, pocketBasePackage}
	}
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(modDir, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	h.Write([]byte(strings.Join(args(""), " ")))
	stamp := hex.EncodeToString(h.Sum(nil))
	bin := filepath.Join(binDir, "pocketbase")
	if old, err := os.ReadFile(bin + ".stamp"); err == nil && string(old) == stamp {
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
	}
	t.Logf("building pocketbase %s from tools/pocketbase (a cold build takes 1-2 minutes)", pocketBaseVersion)
	start := time.Now()
	// A private temporary name, renamed atomically: a concurrent run never
	// executes a half-written binary.
	tmp := fmt.Sprintf("%s.tmp.%d", bin, os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args(tmp)...)
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("build pocketbase: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin+".stamp", []byte(stamp), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("built pocketbase in %s", time.Since(start).Round(time.Second))
	return bin
}

type pocketBase struct {
	url   string
	token string // superuser
}

const pbEmail, pbPassword = "bench@example.com", "bench-password-1"

// startPocketBase runs `pocketbase serve` on a free loopback port with a
// data dir of the test's own, with a superuser, and stops it after the test.
func startPocketBase(t *testing.T, bin string) *pocketBase {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "pb_data")
	if out, err := exec.Command(bin, "superuser", "upsert", pbEmail, pbPassword, "--dir", data).CombinedOutput(); err != nil {
		t.Fatalf("pocketbase superuser upsert: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--http", addr, "--dir", data)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	pb := &pocketBase{url: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(pb.url + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("pocketbase serve exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("pocketbase not healthy after 30s:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var auth struct{ Token string }
	pb.call(t, "POST", "/api/collections/_superusers/auth-with-password", map[string]string{"identity": pbEmail, "password": pbPassword}, &auth)
	pb.token = auth.Token
	return pb
}

// call sends a JSON request as the superuser and decodes a 2xx answer.
func (pb *pocketBase) call(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd.Reset(raw)
	}
	req, _ := http.NewRequest(method, pb.url+path, &rd)
	req.Header.Set("Content-Type", "application/json")
	if pb.token != "" {
		req.Header.Set("Authorization", pb.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, buf.Bytes())
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, buf.Bytes())
		}
	}
}

// seed creates the collection `items` with the fields of the auto-REST
// bench's table (id, name, price, created_at), public list and view rules,
// and the same rows, inserted through the batch API. It also turns
// PocketBase's request log off (see below).
func (pb *pocketBase) seed(t *testing.T) {
	t.Helper()
	pb.call(t, "POST", "/api/collections", map[string]any{
		"name": "items", "type": "base",
		"listRule": "", "viewRule": "", // "" is public, null superusers only
		"fields": []map[string]any{
			{"name": "name", "type": "text", "required": true},
			{"name": "price", "type": "number", "required": true},
			{"name": "created_at", "type": "autodate", "onCreate": true},
		},
	}, nil)
	const batch = 1000
	// Request logs off (maxDays 0): by default PocketBase writes a SQLite row
	// per request, which more than halves its throughput here; auto-REST
	// persists no per-request log, and the aim is to beat PocketBase at its
	// fastest.
	pb.call(t, "PATCH", "/api/settings", map[string]any{
		"batch": map[string]any{"enabled": true, "maxRequests": batch, "timeout": 60},
		"logs":  map[string]any{"maxDays": 0},
	}, nil)
	for from := 1; from <= pbRows; from += batch {
		var reqs []map[string]any
		for i := from; i < from+batch && i <= pbRows; i++ {
			reqs = append(reqs, map[string]any{"method": "POST", "url": "/api/collections/items/records",
				"body": map[string]any{"id": pbID(i), "name": fmt.Sprintf("item %d", i), "price": float64(i) * 1.5}})
		}
		pb.call(t, "POST", "/api/batch", map[string]any{"requests": reqs}, nil)
	}
	var list struct{ TotalItems int }
	pb.call(t, "GET", "/api/collections/items/records?perPage=1", nil, &list)
	if list.TotalItems != pbRows {
		t.Fatalf("PocketBase holds %d records, want %d", list.TotalItems, pbRows)
	}
}
