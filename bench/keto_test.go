//go:build bench

package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/testenv"
)

// ketoBench is a signed-in tenant with a small model to check against.
type ketoBench struct {
	t      *testing.T
	base   string
	token  string
	tenant string
	client *http.Client
}

func newKetoBench(t *testing.T) *ketoBench {
	srv, _ := testenv.Server(t, map[string]string{"SESSION_CACHE_TTL": "5m"})
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	email := "bench-" + strings.ToLower(rand.Text()[:8]) + "@example.com"
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": "bench passphrase 12345"}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	var p struct {
		TenantID string `json:"tenant_id"`
	}
	b.Do("GET", "/api/auth/session", nil, &p)
	kb := &ketoBench{t: t, base: srv.URL, token: b.Cookie("truss_session"), tenant: p.TenantID,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for _, tp := range []map[string]any{
		{"namespace": "Organization", "object": "acme", "relation": "admins", "subject_id": "bob"},
		{"namespace": "Project", "object": "web", "relation": "organization", "subject_set": map[string]any{"namespace": "Organization", "object": "acme", "relation": ""}},
	} {
		if resp := kb.truss("PUT", "/api/keto/relation-tuples", tp); resp.StatusCode != 201 {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
	}
	return kb
}

func (kb *ketoBench) req(method, path string, body any) *http.Request {
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	r, _ := http.NewRequest(method, kb.base+path, rd)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Session-Token", kb.token)
	return r
}

func (kb *ketoBench) truss(method, path string, body any) *http.Response {
	resp, err := kb.client.Do(kb.req(method, path, body))
	if err != nil {
		kb.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// The same question both ways: may bob manage Project web (true, through
// the organization, so Keto evaluates a traversal)?
var benchCheck = map[string]any{"namespace": "Project", "object": "web", "relation": "manage", "subject_id": "bob"}

func (kb *ketoBench) trussCheck() *http.Request { return kb.req("POST", "/api/keto/check", benchCheck) }

func (kb *ketoBench) directCheck() *http.Request {
	q := url.Values{"namespace": {"Project"}, "object": {kb.tenant + ":web"}, "relation": {"manage"}, "subject_id": {"bob"}}
	r, _ := http.NewRequest("GET", os.Getenv("KETO_READ_URL")+"/relation-tuples/check/openapi?"+q.Encode(), nil)
	return r
}

// TestBenchKetoCheck compares POST /api/keto/check through Truss with the
// same check sent to Keto directly: latency one request at a time (what
// Truss adds to a check; target under 1 ms at p50), then throughput and
// p50/p99 with 8 concurrent clients.
func TestBenchKetoCheck(t *testing.T) {
	kb := newKetoBench(t)
	load("warm-up truss", 300, 8, kb.client, kb.trussCheck)
	load("warm-up keto", 300, 8, kb.client, kb.directCheck)
	measure := func(n, workers, rounds int) (direct, truss []result) {
		for i := range rounds { // interleaved, so drift hits both equally
			direct = append(direct, load(fmt.Sprintf("keto direct, %d client(s), round %d", workers, i+1), n, workers, kb.client, kb.directCheck))
			truss = append(truss, load(fmt.Sprintf("through truss, %d client(s), round %d", workers, i+1), n, workers, kb.client, kb.trussCheck))
		}
		for i := range rounds {
			t.Log(direct[i])
			t.Log(truss[i])
			if truss[i].statuses[200] != n || direct[i].statuses[200] != n {
				t.Errorf("not every check answered 200: %v / %v", truss[i].statuses, direct[i].statuses)
			}
		}
		return direct, truss
	}
	stat := func(rs []result, f func(result) time.Duration) time.Duration {
		var d []time.Duration
		for _, r := range rs {
			d = append(d, f(r))
		}
		return median(d)
	}
	p50 := func(r result) time.Duration { return r.p50 }
	p99 := func(r result) time.Duration { return r.p99 }

	d1, t1 := measure(1000, 1, 3)
	added := stat(t1, p50) - stat(d1, p50)
	t.Logf("one at a time: p50 through Truss %s, direct %s: Truss adds %s (target < 1ms); p99 %s vs %s",
		stat(t1, p50), stat(d1, p50), added, stat(t1, p99), stat(d1, p99))

	d8, t8 := measure(3000, 8, 3)
	var dRPS, tRPS float64
	for i := range d8 {
		dRPS += d8[i].rps()
		tRPS += t8[i].rps()
	}
	t.Logf("8 clients: through Truss %.0f req/s, direct %.0f req/s (Truss/direct = %.2f); p50 %s vs %s; p99 %s vs %s",
		tRPS/3, dRPS/3, tRPS/dRPS, stat(t8, p50), stat(d8, p50), stat(t8, p99), stat(d8, p99))
	if added > time.Millisecond {
		t.Errorf("Truss adds %s at p50, target under 1ms", added)
	}
}

// TestBenchKetoBatchCheck compares one batch-check of 50 with 50
// sequential checks, both through Truss.
func TestBenchKetoBatchCheck(t *testing.T) {
	kb := newKetoBench(t)
	batch := make([]map[string]any, 50)
	for i := range batch {
		batch[i] = map[string]any{"namespace": "Project", "object": fmt.Sprint("web", i%5), "relation": "view", "subject_id": "bob"}
	}
	batch[0] = benchCheck
	one := func() time.Duration {
		t0 := time.Now()
		if resp := kb.truss("POST", "/api/keto/batch-check", map[string]any{"tuples": batch}); resp.StatusCode != 200 {
			t.Fatalf("batch-check: %d", resp.StatusCode)
		}
		return time.Since(t0)
	}
	sequential := func() time.Duration {
		t0 := time.Now()
		for _, c := range batch {
			if resp := kb.truss("POST", "/api/keto/check", c); resp.StatusCode != 200 {
				t.Fatalf("check: %d", resp.StatusCode)
			}
		}
		return time.Since(t0)
	}
	one()
	sequential()
	const rounds = 30
	var b, s []time.Duration
	for range rounds {
		b = append(b, one())
		s = append(s, sequential())
	}
	mb, ms := median(b), median(s)
	t.Logf("batch-check of 50: median %s; 50 sequential checks: median %s; speed-up %.1fx", mb, ms, float64(ms)/float64(mb))
	if mb >= ms {
		t.Errorf("a batch of 50 (%s) is not faster than 50 sequential checks (%s)", mb, ms)
	}
}
