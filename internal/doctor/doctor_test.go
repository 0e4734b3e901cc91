package doctor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/database"
	"github.com/trussdev/truss/internal/doctor"
	"github.com/trussdev/truss/internal/ory"
	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// envFor builds a doctor environment from the stack's configuration plus
// overrides, with a migrated database unless noMigrate.
func envFor(t *testing.T, overrides map[string]string) *doctor.Env {
	t.Helper()
	cfg := testenv.Config(t, overrides)
	env := &doctor.Env{Cfg: cfg, Raw: testenv.Lookup(overrides), Ory: ory.New(cfg), Dashboard: cfg.DashboardURL,
		HTTP: &http.Client{Timeout: 3 * time.Second}, Now: time.Now}
	return env
}

// run returns the results of one check by id prefix.
func run(t *testing.T, env *doctor.Env, id string) []doctor.Result {
	t.Helper()
	for _, c := range doctor.Checks {
		if strings.HasPrefix(c.ID, strings.SplitN(id, ".", 2)[0]) && (c.ID == id || strings.HasPrefix(id, c.ID)) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			return c.Run(ctx, env, c)
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

func expect(t *testing.T, rs []doctor.Result, id string, want doctor.Status, fixHas string) {
	t.Helper()
	for _, r := range rs {
		if r.ID != id {
			continue
		}
		if r.Status != want {
			t.Fatalf("%s = %s (%s), want %s", id, r.Status, r.Evidence, want)
		}
		if fixHas != "" && !strings.Contains(r.Fix+" "+r.Evidence, fixHas) {
			t.Fatalf("%s: fix/evidence lacks %q: %s / %s", id, fixHas, r.Evidence, r.Fix)
		}
		return
	}
	t.Fatalf("no result %s in %+v", id, rs)
}

func TestCookieAndCORSChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id string
		env      map[string]string
		want     doctor.Status
		fixHas   string
	}{
		{"same origin", "cookies.csrf_domain", nil, doctor.OK, ""},
		{"subdomains without CSRF_COOKIE_DOMAIN", "cookies.csrf_domain",
			map[string]string{"TRUSS_PUBLIC_URL": "https://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.example.com"}, doctor.Fail, "CSRF_COOKIE_DOMAIN=.example.com"},
		{"subdomains with a covering domain", "cookies.csrf_domain",
			map[string]string{"TRUSS_PUBLIC_URL": "https://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.example.com", "CSRF_COOKIE_DOMAIN": ".example.com"}, doctor.OK, ""},
		{"domain not covering the dashboard", "cookies.csrf_domain",
			map[string]string{"TRUSS_PUBLIC_URL": "https://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.other.org", "CSRF_COOKIE_DOMAIN": ".example.com"}, doctor.Fail, "does not cover"},
		{"cross-site dashboard with SameSite=Lax", "cookies.session",
			map[string]string{"TRUSS_PUBLIC_URL": "https://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.other.org"}, doctor.Fail, "COOKIE_SAMESITE=none"},
		{"cross-site dashboard with SameSite=None over https", "cookies.session",
			map[string]string{"TRUSS_PUBLIC_URL": "https://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.other.org", "COOKIE_SAMESITE": "none"}, doctor.OK, ""},
		{"https dashboard, http API", "cookies.session",
			map[string]string{"TRUSS_PUBLIC_URL": "http://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.example.com"}, doctor.Warn, "https"},
		{"dashboard origin missing from CORS", "cors.dashboard_origin",
			map[string]string{"TRUSS_PUBLIC_URL": "https://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.example.com", "CORS_ALLOWED_ORIGINS": "https://admin.example.com"}, doctor.Fail, "CORS_ALLOWED_ORIGINS=https://admin.example.com,https://app.example.com"},
		{"dashboard origin listed", "cors.dashboard_origin",
			map[string]string{"TRUSS_PUBLIC_URL": "https://api.example.com", "TRUSS_DASHBOARD_URL": "https://app.example.com", "CORS_ALLOWED_ORIGINS": "https://app.example.com"}, doctor.OK, ""},
		{"trailing slash entry", "cors.entries", map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com/"}, doctor.Warn, "trailing slash"},
		{"weak bootstrap password", "secrets.strength", map[string]string{"TRUSS_BOOTSTRAP_ADMIN_PASSWORD": "changeme"}, doctor.Warn, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, run(t, envFor(t, tc.env), tc.id), tc.id, tc.want, tc.fixHas)
		})
	}
}

// TestProxyCheck runs Truss behind real reverse proxies: one that passes
// everything, one that strips Set-Cookie, one that rewrites it.
func TestProxyCheck(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config(t, nil)
	truss := httptest.NewServer(server.New(cfg, testenv.Logger(t), testenv.Pool(t, cfg)).Handler())
	defer truss.Close()
	target, _ := url.Parse(truss.URL)
	tests := []struct {
		name   string
		modify func(*http.Response) error
		want   doctor.Status
		has    string
	}{
		{"pass-through", nil, doctor.OK, "unchanged"},
		{"strips Set-Cookie", func(r *http.Response) error { r.Header.Del("Set-Cookie"); return nil }, doctor.Fail, "strips Set-Cookie"},
		{"rewrites Set-Cookie", func(r *http.Response) error {
			vals := r.Header.Values("Set-Cookie")
			r.Header.Del("Set-Cookie")
			for _, v := range vals { // what nginx's proxy_cookie_path / proxy_cookie_domain do
				r.Header.Add("Set-Cookie", strings.Replace(v, "Path=/api/doctor", "Path=/", 1)+"; Domain=example.com")
			}
			return nil
		}, doctor.Fail, "rewrote Set-Cookie"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp := httputil.NewSingleHostReverseProxy(target)
			rp.ModifyResponse = tc.modify
			proxy := httptest.NewServer(rp)
			defer proxy.Close()
			env := envFor(t, map[string]string{"TRUSS_PUBLIC_URL": proxy.URL})
			rs := run(t, env, "proxy.passthrough")
			expect(t, rs, "proxy.passthrough.set_cookie", tc.want, tc.has)
			expect(t, rs, "proxy.passthrough.websocket", doctor.OK, "passes through")
		})
	}
	t.Run("refuses WebSocket upgrades", func(t *testing.T) {
		rp := httputil.NewSingleHostReverseProxy(target)
		inner := rp.Director
		rp.Director = func(r *http.Request) { inner(r); r.Header.Del("Upgrade"); r.Header.Del("Connection") }
		proxy := httptest.NewServer(rp)
		defer proxy.Close()
		rs := run(t, envFor(t, map[string]string{"TRUSS_PUBLIC_URL": proxy.URL}), "proxy.passthrough")
		expect(t, rs, "proxy.passthrough.websocket", doctor.Fail, "Upgrade $http_upgrade")
		expect(t, rs, "proxy.passthrough.set_cookie", doctor.OK, "")
	})
}

func TestOryChecksWithKratosStoppedAndAPortTaken(t *testing.T) {
	t.Parallel()
	kratos := testenv.PrivateKratos(t)
	kenv := kratos.Env()
	intruder := httptest.NewServer(http.NotFoundHandler()) // something else on the "Keto" port
	defer intruder.Close()
	env := envFor(t, map[string]string{"KRATOS_PUBLIC_URL": kenv["KRATOS_PUBLIC_URL"], "KRATOS_ADMIN_URL": kenv["KRATOS_ADMIN_URL"], "KETO_READ_URL": intruder.URL})
	rs := run(t, env, "ory.services")
	expect(t, rs, "ory.kratos_public", doctor.OK, "")
	expect(t, rs, "ory.hydra_admin", doctor.OK, "v2.3.0")
	expect(t, rs, "ory.keto_read", doctor.Fail, "KETO_READ_URL")
	port := intruder.URL[strings.LastIndex(intruder.URL, ":")+1:]
	expect(t, run(t, env, "ory.ports"), "ory.ports", doctor.Fail, "port "+port)
	expect(t, run(t, env, "ory.ports"), "ory.ports", doctor.Fail, "pid "+strconv.Itoa(os.Getpid()))

	if err := kratos.StopServer("kratos"); err != nil {
		t.Fatal(err)
	}
	rs = run(t, env, "ory.services")
	expect(t, rs, "ory.kratos_public", doctor.Fail, "docker compose up -d kratos")
	expect(t, rs, "ory.kratos_admin", doctor.Fail, "KRATOS_ADMIN_URL")
}

func TestHydraDisabledIsOK(t *testing.T) {
	t.Parallel()
	expect(t, run(t, envFor(t, map[string]string{"HYDRA_ADMIN_URL": ""}), "ory.services"), "ory.hydra_admin", doctor.OK, "disabled")
}

func TestSMTPListenerThatNeverAnswers(t *testing.T) {
	t.Parallel()
	addr := testenv.SilentListener(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	start := time.Now()
	expect(t, run(t, envFor(t, map[string]string{"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}), "smtp.reachable"), "smtp.reachable", doctor.Fail, "587")
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("took %s", d)
	}
	expect(t, run(t, envFor(t, nil), "smtp.reachable"), "smtp.reachable", doctor.OK, "connected") // the stack's Mailpit
}

func TestDatabaseAndClockChecks(t *testing.T) {
	t.Parallel()
	env := envFor(t, nil)
	pool, err := database.Open(context.Background(), env.Cfg.DatabaseURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	env.Pool = pool
	expect(t, run(t, env, "database.migrations"), "database.migrations", doctor.Fail, "00001_tenants.sql")
	if _, err := database.Migrate(context.Background(), pool, testenv.Logger(t)); err != nil {
		t.Fatal(err)
	}
	expect(t, run(t, env, "database.migrations"), "database.migrations", doctor.OK, "")
	expect(t, run(t, env, "time.skew"), "time.skew", doctor.OK, "")
	env.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	expect(t, run(t, env, "time.skew"), "time.skew", doctor.Fail, "TOTP")
	env.Pool = nil
	expect(t, run(t, env, "database.migrations"), "database.migrations", doctor.Fail, "DATABASE_URL")
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rs   []doctor.Result
		want int
	}{
		{[]doctor.Result{{Status: doctor.OK}}, 0},
		{[]doctor.Result{{Status: doctor.OK}, {Status: doctor.Warn}}, 1},
		{[]doctor.Result{{Status: doctor.Warn}, {Status: doctor.Fail}}, 2},
	} {
		if got := doctor.ExitCode(tc.rs); got != tc.want {
			t.Errorf("ExitCode = %d, want %d", got, tc.want)
		}
	}
}

func TestDemoCookieCheck(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config(t, nil)
	truss := httptest.NewServer(server.New(cfg, testenv.Logger(t), testenv.Pool(t, cfg)).Handler())
	defer truss.Close()
	expect(t, run(t, envFor(t, map[string]string{"TRUSS_PUBLIC_URL": truss.URL}), "demo.separation"), "demo.separation", doctor.OK, "Path=/demo")

	target, _ := url.Parse(truss.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(r *http.Response) error { // a proxy that widens cookie paths to /
		vals := r.Header.Values("Set-Cookie")
		r.Header.Del("Set-Cookie")
		for _, v := range vals {
			r.Header.Add("Set-Cookie", strings.Replace(v, "Path=/demo", "Path=/", 1))
		}
		return nil
	}
	proxy := httptest.NewServer(rp)
	defer proxy.Close()
	expect(t, run(t, envFor(t, map[string]string{"TRUSS_PUBLIC_URL": proxy.URL}), "demo.separation"), "demo.separation", doctor.Fail, "truss_demo")
}

func TestRolesCheck(t *testing.T) {
	t.Parallel()
	env := envFor(t, nil)
	env.Pool = testenv.Pool(t, env.Cfg) // migrated: roles exist and are fenced off
	expect(t, run(t, env, "database.roles"), "database.roles", doctor.OK, "none can use")
	// Break it for real: grant a role usage on Truss's schema in this database.
	if _, err := env.Pool.Exec(context.Background(), "GRANT USAGE ON SCHEMA truss_internal TO anon"); err != nil {
		t.Fatal(err)
	}
	expect(t, run(t, env, "database.roles"), "database.roles", doctor.Fail, "anon")
}

func TestSchemaEventsCheck(t *testing.T) {
	t.Parallel()
	env := envFor(t, nil)
	env.Pool = testenv.Pool(t, env.Cfg) // migrated by a superuser: the event trigger exists
	expect(t, run(t, env, "database.schema_events"), "database.schema_events", doctor.OK, "truss_schema_change")
	// What a migration without a superuser leaves: no event trigger.
	if _, err := env.Pool.Exec(context.Background(), "DROP EVENT TRIGGER truss_schema_change"); err != nil {
		t.Fatal(err)
	}
	expect(t, run(t, env, "database.schema_events"), "database.schema_events", doctor.Warn, "NOTIFY truss_schema")
}

func TestOryPendingMigrations(t *testing.T) {
	t.Parallel()
	kenv := testenv.UnmigratedKratos(t).Env()
	env := envFor(t, map[string]string{"KRATOS_PUBLIC_URL": kenv["KRATOS_PUBLIC_URL"], "KRATOS_ADMIN_URL": kenv["KRATOS_ADMIN_URL"]})
	expect(t, run(t, env, "ory.services"), "ory.kratos_public", doctor.Fail, "kratos migrate sql -e --yes")
}
