package server_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/testenv"
)

func TestHealthEveryDependencyUp(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)

	var rep healthReport
	resp := get(t, srv.URL+"/api/health", &rep)
	if resp.StatusCode != http.StatusOK || rep.Status != "ok" {
		t.Fatalf("GET /api/health = %d %q, want 200 ok; report: %+v", resp.StatusCode, rep.Status, rep)
	}
	wantVersions := map[string]string{
		"postgres": "", "kratos_public": "", "kratos_admin": "v1.3.1", "keto_read": "v0.13.0-alpha.0",
		"keto_write": "v0.13.0-alpha.0", "hydra_public": "", "hydra_admin": "v2.3.0", "smtp": "",
	}
	for name, version := range wantVersions {
		dep, ok := rep.Dependencies[name]
		if !ok {
			t.Errorf("dependency %s missing from the report", name)
			continue
		}
		if dep.Status != "up" {
			t.Errorf("%s: status %q (%s), want up", name, dep.Status, dep.Error)
		}
		if version != "" && dep.Version != version {
			t.Errorf("%s: version %q, want %q", name, dep.Version, version)
		}
		if dep.LatencyMS <= 0 {
			t.Errorf("%s: latency %v ms, want > 0", name, dep.LatencyMS)
		}
	}
	if rep.Dependencies["postgres"].Version == "" {
		t.Error("postgres: no server version reported")
	}
	if len(rep.Dependencies) != len(wantVersions) {
		t.Errorf("report has %d dependencies, want %d", len(rep.Dependencies), len(wantVersions))
	}
}

func TestHealthLiveNeedsNothing(t *testing.T) {
	t.Parallel()
	// Everything points at nothing: liveness must still be 200.
	srv, _ := testenv.Server(t, map[string]string{"KRATOS_PUBLIC_URL": "http://127.0.0.1:1", "KETO_READ_URL": "http://127.0.0.1:1"})
	var body struct{ Status string }
	if resp := get(t, srv.URL+"/api/health/live", &body); resp.StatusCode != http.StatusOK || body.Status != "ok" {
		t.Fatalf("GET /api/health/live = %d %+v, want 200 ok", resp.StatusCode, body)
	}
}

// TestKratosStopsAndComesBack is the self-hoster's classic: Kratos goes down.
// Health must name it, auth calls must answer 503 naming the service, URL
// and variable, and everything must recover without restarting Truss.
func TestKratosStopsAndComesBack(t *testing.T) {
	t.Parallel()
	kratos := testenv.PrivateKratos(t)
	env := kratos.Env()
	srv, _ := testenv.Server(t, map[string]string{
		"KRATOS_PUBLIC_URL": env["KRATOS_PUBLIC_URL"], "KRATOS_ADMIN_URL": env["KRATOS_ADMIN_URL"], "ORY_TIMEOUT": "2s",
	})

	var rep healthReport
	if resp := get(t, srv.URL+"/api/health", &rep); resp.StatusCode != http.StatusOK {
		t.Fatalf("before stopping kratos: GET /api/health = %d %+v", resp.StatusCode, rep)
	}

	if err := kratos.StopServer("kratos"); err != nil {
		t.Fatal(err)
	}
	rep = healthReport{}
	resp := get(t, srv.URL+"/api/health", &rep)
	if resp.StatusCode != http.StatusServiceUnavailable || rep.Status != "down" {
		t.Fatalf("kratos stopped: GET /api/health = %d %q, want 503 down", resp.StatusCode, rep.Status)
	}
	if !slices.Equal(rep.Failing, []string{"kratos_admin", "kratos_public"}) {
		t.Errorf("failing = %v, want [kratos_admin kratos_public]", rep.Failing)
	}
	if rep.Error == nil || rep.Error.Code != "dependencies_down" {
		t.Errorf("health error = %+v, want code dependencies_down", rep.Error)
	}
	if rep.Dependencies["keto_read"].Status != "up" {
		t.Errorf("keto_read = %q: stopping kratos must not affect other checks", rep.Dependencies["keto_read"].Status)
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/auth/session", nil)
	req.Header.Set("X-Session-Token", "any-token")
	var e apiError
	start := time.Now()
	resp = do(t, req, &e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "kratos_unavailable" {
		t.Fatalf("GET /api/auth/session with kratos down = %d %q, want 503 kratos_unavailable", resp.StatusCode, e.Error.Code)
	}
	if e.Error.Details["url"] != env["KRATOS_PUBLIC_URL"] || e.Error.Details["env"] != "KRATOS_PUBLIC_URL" {
		t.Errorf("error details = %v, want url %s and env KRATOS_PUBLIC_URL", e.Error.Details, env["KRATOS_PUBLIC_URL"])
	}
	if e.Error.Hint == "" || e.Error.RequestID == "" {
		t.Errorf("error lacks hint or request_id: %+v", e.Error)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the 503 took %s; an unreachable service must fail fast", d)
	}

	if err := kratos.StartServer(t.Context(), "kratos"); err != nil {
		t.Fatal(err)
	}
	rep = healthReport{}
	if resp := get(t, srv.URL+"/api/health", &rep); resp.StatusCode != http.StatusOK {
		t.Fatalf("kratos back: GET /api/health = %d, failing %v, want 200", resp.StatusCode, rep.Failing)
	}
	e = apiError{}
	if resp := do(t, req.Clone(t.Context()), &e); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("kratos back, bogus token: GET /api/auth/session = %d %q, want 401", resp.StatusCode, e.Error.Code)
	}
}

func TestHydraDisabledIsNotDown(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, map[string]string{"HYDRA_ADMIN_URL": ""})

	var rep healthReport
	if resp := get(t, srv.URL+"/api/health", &rep); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/health = %d, failing %v; a disabled Hydra must not fail health", resp.StatusCode, rep.Failing)
	}
	for _, name := range []string{"hydra_admin", "hydra_public"} {
		if got := rep.Dependencies[name].Status; got != "disabled" {
			t.Errorf("%s status = %q, want disabled", name, got)
		}
	}

	var e apiError
	resp := get(t, srv.URL+"/api/oauth2/discovery", &e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "oauth2_not_configured" {
		t.Fatalf("GET /api/oauth2/discovery = %d %q, want 503 oauth2_not_configured", resp.StatusCode, e.Error.Code)
	}
	if e.Error.Details["env"] != "HYDRA_ADMIN_URL" {
		t.Errorf("details = %v, want env HYDRA_ADMIN_URL", e.Error.Details)
	}
}
