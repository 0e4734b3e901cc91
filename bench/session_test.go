//go:build bench

package bench

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// TestBenchCachedSession compares GET /api/auth/session with a cached
// session against the same handler without one (401 without any Kratos
// call). Target: the authenticated request costs at most 1.2x.
func TestBenchCachedSession(t *testing.T) {
	srv, _ := testenv.Server(t, map[string]string{"SESSION_CACHE_TTL": "5m"})
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	email := "bench-" + strings.ToLower(rand.Text()[:8]) + "@example.com"
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": "bench passphrase 12345"}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	token := b.Cookie("truss_session")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	anon := func() *http.Request { r, _ := http.NewRequest("GET", srv.URL+"/api/auth/session", nil); return r }
	authed := func() *http.Request {
		r, _ := http.NewRequest("GET", srv.URL+"/api/auth/session", nil)
		r.AddCookie(&http.Cookie{Name: "truss_session", Value: token})
		return r
	}
	const n, workers, rounds = 4000, 8, 3
	load("warm-up", 500, workers, client, authed)
	whoamiBefore := whoamiCalls(t, srv.URL)
	var base, auth []result
	for i := range rounds { // interleave so drift hits both equally
		base = append(base, load(fmt.Sprintf("unauthenticated (401), round %d", i+1), n, workers, client, anon))
		auth = append(auth, load(fmt.Sprintf("cached session (200), round %d", i+1), n, workers, client, authed))
	}
	whoami := whoamiCalls(t, srv.URL) - whoamiBefore
	var baseRPS, authRPS float64
	for i := range rounds {
		t.Log(base[i])
		t.Log(auth[i])
		baseRPS += base[i].rps()
		authRPS += auth[i].rps()
	}
	ratio := baseRPS / authRPS // cost ratio = time per authenticated request / time per baseline request
	t.Logf("cost ratio authenticated/unauthenticated: %.2fx (target <= 1.20x)", ratio)
	t.Logf("Kratos whoami calls during %d authenticated requests: %d", n*rounds, whoami)
	if whoami > 0 {
		t.Errorf("the session cache let %d requests through to Kratos", whoami)
	}
	if ratio > 1.2 {
		t.Errorf("cached session costs %.2fx an unauthenticated request, target 1.2x", ratio)
	}
}

// whoamiCalls reads truss_ory_requests_total for /sessions/whoami.
func whoamiCalls(t *testing.T, base string) int {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "truss_ory_requests_total{") && strings.Contains(line, `path="/sessions/whoami"`) {
			var v float64
			fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &v)
			total += int(v)
		}
	}
	return total
}
