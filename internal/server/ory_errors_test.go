package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/testenv"
)

func TestOAuth2DiscoveryFromHydra(t *testing.T) {
	t.Parallel()
	srv, cfg := testenv.Server(t, nil)
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if resp := get(t, srv.URL+"/api/oauth2/discovery", &doc); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/oauth2/discovery = %d", resp.StatusCode)
	}
	if doc.Issuer == "" || doc.TokenEndpoint == "" {
		t.Fatalf("discovery document lacks issuer or token endpoint: %+v (hydra %s)", doc, cfg.HydraPublicURL)
	}
}

// The faults below cannot be produced on demand by a real Kratos, so a fake
// stands in; TestKratosStopsAndComesBack covers the real one.

func TestKratosAnsweringGarbageIs502(t *testing.T) {
	t.Parallel()
	proxyPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
	}))
	defer proxyPage.Close()
	srv, _ := testenv.Server(t, map[string]string{"KRATOS_PUBLIC_URL": proxyPage.URL})

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/auth/session", nil)
	req.Header.Set("Authorization", "Bearer some-token")
	var e apiError
	resp := do(t, req, &e)
	if resp.StatusCode != http.StatusBadGateway || e.Error.Code != "kratos_bad_gateway" {
		t.Fatalf("got %d %q, want 502 kratos_bad_gateway", resp.StatusCode, e.Error.Code)
	}
	if e.Error.Details["env"] != "KRATOS_PUBLIC_URL" {
		t.Errorf("details = %v, want env KRATOS_PUBLIC_URL", e.Error.Details)
	}
}

func TestKratosHangingTimesOutAs503(t *testing.T) {
	t.Parallel()
	// Accepts connections and never answers: a hung server or a firewall
	// that drops packets.
	srv, _ := testenv.Server(t, map[string]string{"KRATOS_PUBLIC_URL": "http://" + testenv.SilentListener(t), "ORY_TIMEOUT": "300ms"})

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/auth/session", nil)
	req.Header.Set("X-Session-Token", "t")
	var e apiError
	start := time.Now()
	resp := do(t, req, &e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "kratos_unavailable" {
		t.Fatalf("got %d %q, want 503 kratos_unavailable", resp.StatusCode, e.Error.Code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s with ORY_TIMEOUT=300ms", d)
	}
}
