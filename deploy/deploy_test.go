// Package deploy_test checks the production deployment files in deploy/
// (docker-compose.yml, .env.example, the Ory configs and the Dockerfile)
// against Truss's configuration, so that they cannot drift apart: a variable
// Truss reads that compose forgets, a URL pointing at the wrong Ory port, a
// migration run with the wrong command or image. It needs no Docker.
package deploy_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/devstack"
	"github.com/trussdev/truss/internal/keto/opl"
)

const (
	composeFile = "docker-compose.yml"
	envExample  = ".env.example"
	dockerfile  = "Dockerfile"
	initSQL     = "postgres/init-databases.sql"
)

// ---- loading ------------------------------------------------------------------

type compose struct {
	raw      map[string]any
	services map[string]service
}

type service struct {
	name string
	raw  map[string]any
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	v := loadYAML(t, composeFile)
	raw, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: top level is not a mapping", composeFile)
	}
	c := compose{raw: raw, services: map[string]service{}}
	svcs, ok := raw["services"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no services mapping", composeFile)
	}
	for name, s := range svcs {
		m, ok := s.(map[string]any)
		if !ok {
			t.Fatalf("%s: service %s is not a mapping", composeFile, name)
		}
		c.services[name] = service{name: name, raw: m}
	}
	return c
}

func loadYAML(t *testing.T, file string) any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseYAML(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return v
}

func (c compose) service(t *testing.T, name string) service {
	t.Helper()
	s, ok := c.services[name]
	if !ok {
		t.Fatalf("%s has no service %q", composeFile, name)
	}
	return s
}

// resolveDefaults interpolates a compose value the way compose would with no
// deploy/.env at all: ${X:-default} gives the default, ${X} gives "", and a
// required ${X:?...} is an error.
func resolveDefaults(s string) (string, error) {
	return expand(s, composeResolver(map[string]string{}, ""))
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// envValue is one entry of a service's environment as written in compose.
type envValue struct {
	raw         string // before interpolation
	passThrough bool   // `- NAME` or `NAME:` with no value: taken from the shell running compose
}

// environment reads `environment:` in either of its forms, a list of
// NAME=value strings or a mapping.
func (s service) environment(t *testing.T) map[string]envValue {
	t.Helper()
	out := map[string]envValue{}
	switch env := s.raw["environment"].(type) {
	case nil:
	case map[string]any:
		for k, v := range env {
			out[k] = envValue{raw: str(v), passThrough: v == nil}
		}
	case []any:
		for _, item := range env {
			k, v, hasValue := strings.Cut(str(item), "=")
			if _, dup := out[k]; dup {
				t.Errorf("service %s: environment sets %s twice", s.name, k)
			}
			out[k] = envValue{raw: v, passThrough: !hasValue}
		}
	default:
		t.Fatalf("service %s: environment is neither a list nor a mapping", s.name)
	}
	return out
}

// envResolved is the value of an environment variable with defaults applied.
func (s service) envResolved(t *testing.T, name string) (string, bool) {
	t.Helper()
	v, ok := s.environment(t)[name]
	if !ok {
		return "", false
	}
	if v.passThrough {
		t.Errorf("service %s: %s is passed through from the shell running compose; give it a value", s.name, name)
		return "", true
	}
	r, err := resolveDefaults(v.raw)
	if err != nil {
		t.Errorf("service %s: %s: %v", s.name, name, err)
	}
	return r, true
}

// words returns a command or healthcheck test as its arguments, from either a
// string (split on spaces) or a list.
func words(t *testing.T, where string, v any) []string {
	t.Helper()
	switch c := v.(type) {
	case nil:
		return nil
	case string:
		if strings.ContainsAny(c, `"'\`) {
			t.Fatalf("%s: write a command with quotes as a list", where)
		}
		return strings.Fields(c)
	case []any:
		out := make([]string, len(c))
		for i, w := range c {
			out[i] = str(w)
		}
		return out
	}
	t.Fatalf("%s: neither a string nor a list", where)
	return nil
}

func (s service) command(t *testing.T) []string {
	return words(t, "service "+s.name+": command", s.raw["command"])
}

// containerPorts lists the container-side ports of `ports:`, in the short
// ("[IP:][HOST:]CONTAINER[/proto]") or the long (target:) syntax.
func (s service) containerPorts(t *testing.T) []int {
	t.Helper()
	var out []int
	list, _ := s.raw["ports"].([]any)
	for _, p := range list {
		var target string
		switch p := p.(type) {
		case map[string]any:
			target = str(p["target"])
		default:
			spec, err := resolveDefaults(str(p))
			if err != nil {
				t.Errorf("service %s: port %q: %v", s.name, str(p), err)
				continue
			}
			spec, _, _ = strings.Cut(spec, "/")
			target = spec[strings.LastIndex(spec, ":")+1:]
		}
		lo, hi, isRange := strings.Cut(target, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			t.Errorf("service %s: cannot read the container port of %v", s.name, p)
			continue
		}
		for port := a; port <= b; port++ {
			out = append(out, port)
		}
	}
	return out
}

// dependsOn maps each dependency to its condition (list form: service_started).
func (s service) dependsOn(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch d := s.raw["depends_on"].(type) {
	case nil:
	case []any:
		for _, name := range d {
			out[str(name)] = "service_started"
		}
	case map[string]any:
		for name, v := range d {
			cond := "service_started"
			if m, ok := v.(map[string]any); ok && m["condition"] != nil {
				cond = str(m["condition"])
			}
			out[name] = cond
		}
	default:
		t.Fatalf("service %s: depends_on is neither a list nor a mapping", s.name)
	}
	return out
}

type mount struct{ source, target string } // source "" for a named volume

// bindMounts lists the service's bind mounts, sources relative to deploy/.
func (s service) bindMounts(t *testing.T) []mount {
	t.Helper()
	var out []mount
	list, _ := s.raw["volumes"].([]any)
	for _, v := range list {
		var m mount
		switch v := v.(type) {
		case map[string]any:
			if str(v["type"]) != "bind" {
				continue
			}
			m = mount{source: str(v["source"]), target: str(v["target"])}
		default:
			parts := strings.Split(str(v), ":")
			if len(parts) < 2 {
				continue // anonymous volume
			}
			m = mount{source: parts[0], target: parts[1]}
			if !strings.HasPrefix(m.source, ".") && !strings.HasPrefix(m.source, "/") && !strings.HasPrefix(m.source, "~") {
				continue // named volume
			}
		}
		out = append(out, m)
	}
	return out
}

// hostPath maps a path inside the service's container to the file in deploy/
// that a bind mount puts there.
func (s service) hostPath(t *testing.T, containerPath string) (string, bool) {
	t.Helper()
	for _, m := range s.bindMounts(t) {
		if containerPath == m.target {
			return m.source, true
		}
		if rel, ok := strings.CutPrefix(containerPath, strings.TrimSuffix(m.target, "/")+"/"); ok {
			return filepath.Join(m.source, rel), true
		}
	}
	return "", false
}

func (s service) healthcheck() []any {
	h, _ := s.raw["healthcheck"].(map[string]any)
	if h == nil || h["disable"] == "true" {
		return nil
	}
	test, _ := h["test"].([]any)
	if len(test) > 0 && str(test[0]) == "NONE" {
		return nil
	}
	return test
}

// ---- the stack --------------------------------------------------------------

// oryServers are the Ory servers of the stack, their migration one-shots and
// the commands each must run.
var oryServers = []struct {
	service string
	tool    string // name in devstack.Tools
	image   string
	config  string // config file inside the container
	serve   []string
	migrate []string
}{
	{"kratos", "kratos", "oryd/kratos:v1.3.1", "/etc/config/kratos/kratos.yml",
		[]string{"serve"}, []string{"migrate", "sql", "-e", "--yes"}},
	{"keto", "keto", "oryd/keto:v0.13.0-alpha.0", "/etc/config/keto/keto.yml",
		[]string{"serve"}, []string{"migrate", "up", "-y"}},
	{"hydra", "hydra", "oryd/hydra:v2.3.0", "/etc/config/hydra/hydra.yml",
		[]string{"serve", "all"}, []string{"migrate", "sql", "up", "-e", "--yes"}},
}

// oryAPIs are the Truss variables that name an Ory API, the compose service
// serving it and where that server's configuration sets the listener's port.
var oryAPIs = []struct {
	variable string
	service  string
	portKey  string // key in the server's config file; SERVE_..._PORT in its environment
	port     int    // Ory's default when neither sets it
}{
	{"KRATOS_PUBLIC_URL", "kratos", "serve.public.port", 4433},
	{"KRATOS_ADMIN_URL", "kratos", "serve.admin.port", 4434},
	{"KETO_READ_URL", "keto", "serve.read.port", 4466},
	{"KETO_WRITE_URL", "keto", "serve.write.port", 4467},
	{"HYDRA_PUBLIC_URL", "hydra", "serve.public.port", 4444},
	{"HYDRA_ADMIN_URL", "hydra", "serve.admin.port", 4445},
}

// oryConfig reads the config file an Ory service runs with (its -c argument),
// through the service's bind mounts.
func oryConfig(t *testing.T, s service) (file string, cfg map[string]any) {
	t.Helper()
	cmd := s.command(t)
	i := slices.Index(cmd, "-c")
	if i < 0 || i+1 == len(cmd) {
		t.Fatalf("service %s: command %q has no -c <config file>", s.name, cmd)
	}
	file, ok := s.hostPath(t, cmd[i+1])
	if !ok {
		t.Fatalf("service %s: config file %s is not inside any bind mount", s.name, cmd[i+1])
	}
	cfg, ok = loadYAML(t, file).(map[string]any)
	if !ok {
		t.Fatalf("%s: not a mapping", file)
	}
	return file, cfg
}

func lookupKey(m map[string]any, key string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(key, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// listenPort is the port an Ory server listens on for the API configured at
// portKey: its environment overrides its config file, which overrides Ory's default.
func listenPort(t *testing.T, s service, portKey string, def int) int {
	t.Helper()
	envName := strings.ToUpper(strings.ReplaceAll(portKey, ".", "_"))
	raw, where := strconv.Itoa(def), "Ory's default"
	file, cfg := oryConfig(t, s)
	if v, ok := lookupKey(cfg, portKey); ok {
		raw, where = str(v), file+" "+portKey
	}
	if v, ok := s.envResolved(t, envName); ok {
		raw, where = v, "service "+s.name+" environment "+envName
	}
	port, err := strconv.Atoi(raw)
	if err != nil {
		t.Fatalf("%s: port %q is not a number", where, raw)
	}
	return port
}

// ---- tests ----------------------------------------------------------------------

func TestComposeProjectName(t *testing.T) {
	c := loadCompose(t)
	// The troubleshooting guide names containers truss-<service>-1.
	if got := str(c.raw["name"]); got != "truss" {
		t.Errorf("%s: top-level name is %q, want \"truss\" (containers must be named truss-kratos-1 etc.)", composeFile, got)
	}
	for _, s := range c.services {
		if s.raw["container_name"] != nil {
			t.Errorf("service %s sets container_name; remove it so the container is truss-%s-1 as the troubleshooting guide says", s.name, s.name)
		}
	}
}

func TestComposeServicesExist(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"postgres", "kratos-migrate", "kratos", "keto-migrate", "keto", "hydra-migrate", "hydra", "truss"} {
		s, ok := c.services[name]
		if !ok {
			t.Errorf("%s has no service %q", composeFile, name)
			continue
		}
		if s.raw["profiles"] != nil {
			t.Errorf("service %s has profiles; it must start with a plain `docker compose up`", name)
		}
	}
}

func TestComposeImagesPinned(t *testing.T) {
	c := loadCompose(t)
	type pin struct {
		service string
		want    *regexp.Regexp
	}
	tests := []pin{{"postgres", regexp.MustCompile(`^postgres:16(\.\d+)*$`)}}
	for _, o := range oryServers {
		exact := regexp.MustCompile("^" + regexp.QuoteMeta(o.image) + "$")
		tests = append(tests, pin{o.service, exact}, pin{o.service + "-migrate", exact})
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			got := str(c.service(t, tt.service).raw["image"])
			if !tt.want.MatchString(got) {
				t.Errorf("service %s: image %q, want one matching %s", tt.service, got, tt.want)
			}
		})
	}
	// Production runs the Ory versions `truss dev` builds and tests with.
	for _, o := range oryServers {
		for _, tool := range devstack.Tools {
			if tool.Name == o.tool && o.image != "oryd/"+tool.Name+":"+tool.Version {
				t.Errorf("truss dev runs %s %s (internal/devstack.Tools) but production pins %s: upgrade both together",
					tool.Name, tool.Version, o.image)
			}
		}
	}
	if s, ok := c.services["mailpit"]; ok {
		for _, tool := range devstack.Tools {
			if tool.Name == "mailpit" && str(s.raw["image"]) != "axllent/mailpit:"+tool.Version {
				t.Errorf("service mailpit: image %q, want axllent/mailpit:%s like truss dev", str(s.raw["image"]), tool.Version)
			}
		}
	}
}

func TestTrussEnvironmentCoversConfig(t *testing.T) {
	c := loadCompose(t)
	env := c.service(t, "truss").environment(t)
	if _, ok := env["DATABASE_URL"]; !ok {
		t.Errorf("service truss: DATABASE_URL is not set; truss serve cannot start without it")
	}
	for _, v := range config.Variables {
		if _, ok := env[v.Name]; ok {
			continue
		}
		switch {
		case v.Default == "":
			t.Errorf("service truss: %s has no default in config.Variables and is not set in the environment", v.Name)
		case strings.Contains(v.Default, "localhost"):
			t.Errorf("service truss: %s is not set, and its default %q means the truss container itself; set it in the environment",
				v.Name, v.Default)
		}
	}
}

func TestTrussEnvironmentHasNoUnknownVariables(t *testing.T) {
	c := loadCompose(t)
	known := map[string]bool{}
	for _, v := range config.Variables {
		known[v.Name] = true
	}
	for name := range c.service(t, "truss").environment(t) {
		if !known[name] {
			t.Errorf("service truss: environment sets %s, which Truss does not read (not in config.Variables): a typo?", name)
		}
	}
}

func TestTrussOryURLsPointAtTheirAPIs(t *testing.T) {
	c := loadCompose(t)
	truss := c.service(t, "truss")
	for _, api := range oryAPIs {
		t.Run(api.variable, func(t *testing.T) {
			raw, ok := truss.envResolved(t, api.variable)
			if !ok {
				t.Fatalf("service truss: %s is not set", api.variable)
			}
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "http" || u.Host == "" {
				t.Fatalf("service truss: %s=%q is not an http:// URL (inside the compose network the Ory APIs speak plain HTTP)", api.variable, raw)
			}
			if u.Hostname() != api.service {
				t.Errorf("service truss: %s=%q has host %q, want the compose service %q", api.variable, raw, u.Hostname(), api.service)
			}
			ory := c.service(t, api.service)
			want := listenPort(t, ory, api.portKey, api.port)
			if got, _ := strconv.Atoi(u.Port()); got != want {
				t.Errorf("service truss: %s=%q has port %q, but %s serves that API (%s) on %d",
					api.variable, raw, u.Port(), api.service, api.portKey, want)
			}
			if !slices.Contains(ory.containerPorts(t), want) {
				t.Errorf("service %s: ports does not publish container port %d (%s, reached via %s)",
					api.service, want, api.portKey, api.variable)
			}
		})
	}
}

func TestOryHealthchecksProbeTheirOwnListeners(t *testing.T) {
	c := loadCompose(t)
	for _, o := range oryServers {
		t.Run(o.service, func(t *testing.T) {
			s := c.service(t, o.service)
			test := words(t, "service "+o.service+": healthcheck test", s.healthcheck())
			if len(test) == 0 {
				t.Fatalf("service %s has no healthcheck; truss waits for it to be healthy", o.service)
			}
			listening := map[int]bool{}
			for _, api := range oryAPIs {
				if api.service == o.service {
					listening[listenPort(t, s, api.portKey, api.port)] = true
				}
			}
			if slices.Contains(test, "--spider") {
				t.Errorf("service %s: healthcheck %q uses wget --spider; GNU wget sends HEAD then, which Ory's health endpoints answer with 405 (use -O /dev/null)", o.service, test)
			}
			var probed bool
			for _, w := range test {
				u, err := url.Parse(w)
				if err != nil || u.Host == "" {
					continue
				}
				probed = true
				port, _ := strconv.Atoi(u.Port())
				if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" {
					t.Errorf("service %s: healthcheck probes %s, not the container itself", o.service, w)
				}
				if !listening[port] {
					t.Errorf("service %s: healthcheck probes port %d, where %s does not listen (it listens on %v)", o.service, port, o.service, listening)
				}
				if u.Path != "/health/ready" && u.Path != "/health/alive" && u.Path != "/admin/health/ready" {
					t.Errorf("service %s: healthcheck probes %s, not an Ory health endpoint", o.service, w)
				}
			}
			if !probed {
				t.Errorf("service %s: healthcheck %q probes no URL", o.service, test)
			}
		})
	}
}

func TestTrussPublishedPortMatchesAPIPort(t *testing.T) {
	c := loadCompose(t)
	truss := c.service(t, "truss")
	port := config.Default("API_PORT")
	if v, ok := truss.envResolved(t, "API_PORT"); ok {
		port = v
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("service truss: API_PORT %q is not a number", port)
	}
	if got := truss.containerPorts(t); !slices.Contains(got, n) {
		t.Errorf("service truss: listens on API_PORT %d but ports publishes container port(s) %v", n, got)
	}
}

func TestOryCommands(t *testing.T) {
	c := loadCompose(t)
	for _, o := range oryServers {
		t.Run(o.service, func(t *testing.T) {
			server, migrate := c.service(t, o.service), c.service(t, o.service+"-migrate")
			for _, s := range []service{server, migrate} {
				cmd := s.command(t)
				if slices.Contains(cmd, "--dev") {
					t.Errorf("service %s: command %q has --dev, which disables Ory's security checks in production", s.name, cmd)
				}
				if i := slices.Index(cmd, "-c"); i < 0 || i+1 == len(cmd) || cmd[i+1] != o.config {
					t.Errorf("service %s: command %q must read -c %s", s.name, cmd, o.config)
				}
			}
			if cmd := server.command(t); !slices.Equal(cmd[:min(len(o.serve), len(cmd))], o.serve) {
				t.Errorf("service %s: command %q, want it to start with %q", o.service, cmd, o.serve)
			}
			if cmd := migrate.command(t); !slices.Equal(cmd[:min(len(o.migrate), len(cmd))], o.migrate) {
				t.Errorf("service %s-migrate: command %q, want it to start with %q", o.service, cmd, o.migrate)
			}
			if o.service == "kratos" && !slices.Contains(server.command(t), "--watch-courier") {
				t.Errorf("service kratos: command %q lacks --watch-courier, so Kratos would never send its emails", server.command(t))
			}
			// Migrations must be those of the server's version, on the server's database.
			if a, b := str(migrate.raw["image"]), str(server.raw["image"]); a != b {
				t.Errorf("service %s-migrate runs image %q but %s runs %q", o.service, a, o.service, b)
			}
			if a, b := migrate.environment(t)["DSN"].raw, server.environment(t)["DSN"].raw; a != b {
				t.Errorf("service %s-migrate migrates DSN %q but %s uses %q", o.service, a, o.service, b)
			}
			if r := str(migrate.raw["restart"]); r != "" && r != "no" {
				t.Errorf("service %s-migrate: restart %q; a one-shot must not restart, or it never completes", o.service, r)
			}
		})
	}
}

func TestDatabases(t *testing.T) {
	c := loadCompose(t)
	b, err := os.ReadFile(initSQL)
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?i)CREATE DATABASE\s+"?(\w+)`).FindAllStringSubmatch(string(b), -1) {
		created[m[1]] = true
	}
	if db, err := resolveDefaults(str(c.service(t, "postgres").environment(t)["POSTGRES_DB"].raw)); err == nil && db != "" {
		created[db] = true
	}
	check := func(s service, name string) {
		raw, ok := s.envResolved(t, name)
		if !ok {
			t.Errorf("service %s: %s is not set in its environment", s.name, name)
			return
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			t.Errorf("service %s: %s is not a postgres:// URL", s.name, name)
			return
		}
		if u.Hostname() != "postgres" {
			t.Errorf("service %s: %s has host %q, want the compose service \"postgres\"", s.name, name, u.Hostname())
		}
		if db := strings.TrimPrefix(u.Path, "/"); !created[db] {
			t.Errorf("service %s: %s names database %q, which %s does not create", s.name, name, db, initSQL)
		}
		if !slices.Contains(s.dependsOnChain(t, c), "postgres") {
			t.Errorf("service %s uses PostgreSQL but does not depend on the postgres service", s.name)
		}
	}
	check(c.service(t, "truss"), "DATABASE_URL")
	for _, o := range oryServers {
		// Ory reads its database from DSN: the config files hold none, and
		// `docker compose exec kratos kratos migrate sql -e --yes` (no -c)
		// relies on DSN being in the service's environment.
		check(c.service(t, o.service), "DSN")
		check(c.service(t, o.service+"-migrate"), "DSN")
	}
}

// dependsOnChain lists every service s waits for, directly or not.
func (s service) dependsOnChain(t *testing.T, c compose) []string {
	var out []string
	var walk func(service)
	walk = func(s service) {
		for dep := range s.dependsOn(t) {
			if !slices.Contains(out, dep) {
				out = append(out, dep)
				if d, ok := c.services[dep]; ok {
					walk(d)
				}
			}
		}
	}
	walk(s)
	return out
}

func TestDependencies(t *testing.T) {
	c := loadCompose(t)
	want := map[string]map[string]string{
		"truss": {"postgres": "service_healthy", "kratos": "service_healthy", "keto": "service_healthy", "hydra": "service_healthy"},
	}
	for _, o := range oryServers {
		want[o.service] = map[string]string{o.service + "-migrate": "service_completed_successfully"}
		want[o.service+"-migrate"] = map[string]string{"postgres": "service_healthy"}
	}
	for name, deps := range want {
		got := c.service(t, name).dependsOn(t)
		for dep, cond := range deps {
			if got[dep] != cond {
				t.Errorf("service %s: depends_on %s with condition %q, want %q", name, dep, got[dep], cond)
			}
		}
	}
	// Every condition must be one its target can meet.
	for _, s := range c.services {
		for dep, cond := range s.dependsOn(t) {
			d, ok := c.services[dep]
			switch {
			case !ok:
				t.Errorf("service %s depends on %s, which does not exist", s.name, dep)
			case d.raw["profiles"] != nil && s.raw["profiles"] == nil:
				t.Errorf("service %s depends on %s, which only starts with a profile", s.name, dep)
			case cond == "service_healthy" && d.healthcheck() == nil:
				t.Errorf("service %s waits for %s to be healthy, but %s has no healthcheck", s.name, dep, dep)
			case cond == "service_completed_successfully" && str(d.raw["restart"]) != "" && str(d.raw["restart"]) != "no":
				t.Errorf("service %s waits for %s to complete, but %s restarts (%s)", s.name, dep, dep, str(d.raw["restart"]))
			}
		}
	}
}

func TestBindMountsExist(t *testing.T) {
	c := loadCompose(t)
	for _, s := range c.services {
		for _, m := range s.bindMounts(t) {
			// Docker creates a missing source as an empty directory: a typo
			// here starts the server without its configuration.
			if _, err := os.Stat(m.source); err != nil {
				t.Errorf("service %s: bind mount source %s does not exist (relative to deploy/)", s.name, m.source)
			}
		}
	}
	// Files an Ory config refers to must be mounted too.
	for _, o := range oryServers {
		s := c.service(t, o.service)
		file, cfg := oryConfig(t, s)
		walkStrings(cfg, func(v string) {
			p, ok := strings.CutPrefix(v, "file://")
			if !ok {
				return
			}
			host, ok := s.hostPath(t, p)
			if !ok {
				t.Errorf("%s refers to %s, which is not inside any bind mount of service %s", file, v, o.service)
				return
			}
			if _, err := os.Stat(host); err != nil {
				t.Errorf("%s refers to %s, mounted from %s, which does not exist", file, v, host)
			}
		})
	}
	var initMounted bool
	for _, m := range c.service(t, "postgres").bindMounts(t) {
		if filepath.Clean(m.source) == filepath.Clean(initSQL) && path.Dir(m.target) == "/docker-entrypoint-initdb.d" {
			initMounted = true
		}
	}
	if !initMounted {
		t.Errorf("service postgres does not mount %s into /docker-entrypoint-initdb.d/", initSQL)
	}
}

func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case map[string]any:
		for _, x := range v {
			walkStrings(x, f)
		}
	case []any:
		for _, x := range v {
			walkStrings(x, f)
		}
	}
}

func TestOryConfigsHoldNoSecrets(t *testing.T) {
	c := loadCompose(t)
	for _, o := range oryServers {
		file, cfg := oryConfig(t, c.service(t, o.service))
		for _, key := range []string{"dsn", "secrets"} {
			if _, ok := cfg[key]; ok {
				t.Errorf("%s sets %s; it comes from the environment (deploy/.env), never from a checked-in file", file, key)
			}
		}
	}
}

func TestDevAndProductionShareModels(t *testing.T) {
	// The identity schema and the permission model are Truss's data model:
	// production must run the ones `truss dev` tests with.
	for deploy, dev := range map[string]string{
		"ory/kratos/identity.schema.json": "../internal/devstack/templates/identity.schema.json",
	} {
		a, err := os.ReadFile(deploy)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(dev)
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Errorf("deploy/%s differs from %s; copy the template over it", deploy, strings.TrimPrefix(dev, "../"))
		}
	}
	// truss dev writes the same file from internal/keto/opl (no custom models yet).
	keto, err := os.ReadFile("ory/keto/namespaces.keto.ts")
	if err != nil {
		t.Fatal(err)
	}
	if want := (opl.File{Sections: map[string]opl.Section{}}).Render(); string(keto) != want {
		t.Errorf("deploy/ory/keto/namespaces.keto.ts differs from Truss's default model (internal/keto/opl); replace it with:\n%s", want)
	}
}

// readEnvExample returns the NAME=value lines of .env.example.
func readEnvExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(envExample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || nameLen(name) != len(name) {
			t.Errorf("%s:%d: %q is not NAME=value", envExample, n, line)
			continue
		}
		if _, dup := out[name]; dup {
			t.Errorf("%s:%d: %s is set twice", envExample, n, name)
		}
		out[name] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEnvExampleListsEveryVariable(t *testing.T) {
	c := loadCompose(t)
	example := readEnvExample(t)
	used := map[string]bool{}
	walkStrings(c.raw, func(v string) {
		names, err := referencedVars(v)
		if err != nil {
			t.Errorf("%s: %v", composeFile, err)
		}
		for _, n := range names {
			used[n] = true
		}
	})
	for _, n := range sortedKeys(used) {
		if _, ok := example[n]; !ok {
			t.Errorf("%s uses ${%s} but %s does not list it", composeFile, n, envExample)
		}
	}
	for _, n := range sortedKeys(example) {
		if !used[n] {
			t.Errorf("%s sets %s, which %s never uses (a typo, or a leftover?)", envExample, n, composeFile)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestEnvExampleGivesAValidTrussConfig(t *testing.T) {
	// The truss service's environment, interpolated from .env.example (the
	// secrets it leaves empty filled in), must pass Truss's own validation.
	c := loadCompose(t)
	resolve := composeResolver(readEnvExample(t), "placeholder")
	env := map[string]string{}
	for name, v := range c.service(t, "truss").environment(t) {
		s, err := expand(v.raw, resolve)
		if err != nil {
			t.Fatalf("service truss: %s: %v", name, err)
		}
		env[name] = s
	}
	cfg, err := config.Load(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
	if err != nil {
		t.Fatalf("with %s, Truss rejects the truss service's environment:\n%v", envExample, err)
	}
	if cfg.Env == config.Production && cfg.PublicURL.Scheme != "https" {
		t.Errorf("%s: TRUSS_PUBLIC_URL=%s, but production requires an https:// public URL", envExample, cfg.PublicURL)
	}
}

// ---- Dockerfile ---------------------------------------------------------------------

type instruction struct {
	line int
	cmd  string // upper case
	args string
}

type stage struct {
	from  string
	instr []instruction
}

func readDockerfile(t *testing.T) []stage {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	start := 0
	for n, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = n + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		cur.Reset()
		if in.cmd == "FROM" {
			stages = append(stages, stage{from: in.args})
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s:%d: %s before the first FROM", dockerfile, in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, in)
	}
	if len(stages) == 0 {
		t.Fatalf("%s has no FROM", dockerfile)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t)
	final := stages[len(stages)-1]

	var user string
	var exposed []string
	for _, in := range final.instr {
		switch in.cmd {
		case "USER":
			user = in.args
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		}
	}
	name, _, _ := strings.Cut(user, ":")
	switch name {
	case "":
		t.Errorf("%s: the final stage (FROM %s) sets no USER, so Truss would run as root", dockerfile, final.from)
	case "root", "0":
		t.Errorf("%s: the final stage runs as USER %s; use a non-root user", dockerfile, user)
	}
	if api := config.Default("API_PORT"); !slices.Contains(exposed, api) && !slices.Contains(exposed, api+"/tcp") {
		t.Errorf("%s: the final stage exposes %v, not API_PORT's default %s", dockerfile, exposed, api)
	}

	// The binary must be static (distroless/static has no libc): CGO_ENABLED=0
	// in the RUN that builds it, or set by ENV earlier in that stage.
	var built bool
	for _, st := range stages {
		cgoOff := false
		for _, in := range st.instr {
			if in.cmd == "ENV" && regexp.MustCompile(`\bCGO_ENABLED[= ]0\b`).MatchString(in.args) {
				cgoOff = true
			}
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				built = true
				if !cgoOff && !strings.Contains(in.args, "CGO_ENABLED=0") {
					t.Errorf("%s:%d: go build runs without CGO_ENABLED=0; the binary would need libc", dockerfile, in.line)
				}
			}
		}
	}
	if !built {
		t.Errorf("%s: no RUN runs go build", dockerfile)
	}

	// compose builds it from the repository root; what it copies must be there.
	truss := loadCompose(t).service(t, "truss")
	build, _ := truss.raw["build"].(map[string]any)
	if build == nil {
		t.Fatalf("service truss has no build section")
	}
	context := filepath.Clean(str(build["context"]))
	df, _ := filepath.Abs(filepath.Join(context, str(build["dockerfile"])))
	if want, _ := filepath.Abs(dockerfile); df != want {
		t.Errorf("service truss builds %s (context %s), not deploy/%s", df, context, dockerfile)
	}
	if _, err := os.Stat(filepath.Join(context, "go.mod")); err != nil {
		t.Errorf("service truss: build context %s is not the repository root (no go.mod)", context)
	}
	for _, st := range stages {
		for _, in := range st.instr {
			if in.cmd != "COPY" && in.cmd != "ADD" {
				continue
			}
			args := strings.Fields(in.args)
			if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--from") }) {
				continue
			}
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				args = args[1:]
			}
			for _, src := range args[:max(len(args)-1, 0)] {
				if m, _ := filepath.Glob(filepath.Join(context, src)); len(m) == 0 {
					t.Errorf("%s:%d: COPY source %s does not exist in the build context (the repository root)", dockerfile, in.line, src)
				}
			}
		}
	}
}

// flatten lists every leaf of a parsed YAML tree by its dotted path
// (sequence items by index).
func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			flatten(strings.TrimPrefix(prefix+"."+k, "."), x, out)
		}
	case []any:
		for i, x := range v {
			flatten(strings.TrimPrefix(prefix+"."+strconv.Itoa(i), "."), x, out)
		}
	default:
		out[prefix] = str(v)
	}
}

func TestOryConfigsMatchDevTemplates(t *testing.T) {
	// Production must behave like the stack the tests run on: every setting of
	// a dev template is in the production file with the same value, except
	// those that depend on the deployment. A value the template computes
	// ({{...}}) only has to be present.
	tests := []struct {
		service, template string
		differ            []string // keys (or key prefixes) allowed to differ or be missing
	}{
		{"kratos", "kratos.yml.tmpl", []string{
			"dsn", "secrets", // from the environment
			"serve.public.host", "serve.admin.host", "serve.public.base_url", "serve.admin.base_url",
			"log.format",          // json for log collectors
			"hashers.bcrypt.cost", // dev tests use a low cost for speed
			"selfservice.methods.password.config.haveibeenpwned_enabled", // dev has no internet
			"courier.smtp", // from the environment
		}},
		{"keto", "keto.yml.tmpl", []string{"dsn", "serve.read.host", "serve.write.host", "serve.metrics.host", "serve.opl.host", "log.format"}},
		{"hydra", "hydra.yml.tmpl", []string{"dsn", "secrets", "serve.public.host", "serve.admin.host", "log.format"}},
	}
	c := loadCompose(t)
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("..", "internal", "devstack", "templates", tt.template))
			if err != nil {
				t.Fatal(err)
			}
			// Template actions become a marker, so the template parses as YAML.
			rendered := regexp.MustCompile(`\{\{[^}]*\}\}`).ReplaceAll(src, []byte("TEMPLATED"))
			tree, err := parseYAML(rendered)
			if err != nil {
				t.Fatalf("%s: %v", tt.template, err)
			}
			dev, prod := map[string]string{}, map[string]string{}
			flatten("", tree, dev)
			file, cfg := oryConfig(t, c.service(t, tt.service))
			flatten("", cfg, prod)
			mayDiffer := func(key string) bool {
				return slices.ContainsFunc(tt.differ, func(d string) bool { return key == d || strings.HasPrefix(key, d+".") })
			}
			for _, key := range sortedKeys(dev) {
				want, got := dev[key], prod[key]
				_, present := prod[key]
				switch {
				case mayDiffer(key):
				case !present:
					t.Errorf("%s lacks %s, which the dev template %s sets (to %q)", file, key, tt.template, want)
				case !strings.Contains(want, "TEMPLATED") && got != want:
					t.Errorf("%s sets %s to %q, the dev template %s to %q", file, key, got, tt.template, want)
				}
			}
			for _, key := range sortedKeys(prod) {
				if _, ok := dev[key]; !ok && !mayDiffer(key) {
					t.Errorf("%s sets %s, which the dev template %s does not: add it there too, so the tests run with it", file, key, tt.template)
				}
			}
		})
	}
}

// copyArgs splits a COPY/ADD instruction into its --from stage (if any), its
// sources and its destination.
func copyArgs(in instruction) (from string, srcs []string, dest string) {
	args := strings.Fields(in.args)
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		if v, ok := strings.CutPrefix(args[0], "--from="); ok {
			from = v
		}
		args = args[1:]
	}
	if len(args) < 2 {
		return from, nil, ""
	}
	return from, args[:len(args)-1], args[len(args)-1]
}

func TestDockerfileCopiesWhatTheBinaryNeeds(t *testing.T) {
	// The image builds from named paths only, so a new top-level package or
	// embedded directory must be added to the Dockerfile: `go list` names
	// every file the binary is compiled from or embeds.
	stages := readDockerfile(t)
	var build *stage
	for i := range stages {
		for _, in := range stages[i].instr {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				build = &stages[i]
			}
		}
	}
	if build == nil {
		t.Fatalf("%s: no stage runs go build", dockerfile)
	}
	var sources, produced []string // paths relative to the repository root / WORKDIR
	workdir := "/"
	for _, in := range build.instr {
		switch in.cmd {
		case "WORKDIR":
			workdir = path.Join(workdir, in.args)
		case "COPY", "ADD":
			from, srcs, dest := copyArgs(in)
			if from != "" {
				produced = append(produced, strings.TrimPrefix(path.Join(workdir, dest), workdir+"/"))
				continue
			}
			for _, src := range srcs {
				// The check below assumes each source keeps its path under WORKDIR.
				target := path.Join(workdir, dest)
				if strings.HasSuffix(dest, "/") || len(srcs) > 1 {
					target = path.Join(target, path.Base(src))
				}
				if rel := strings.TrimPrefix(target, workdir+"/"); !strings.ContainsAny(src, "*?[") && rel != path.Clean(src) {
					t.Errorf("%s:%d: COPY %s lands at %s, not at the same path under WORKDIR %s", dockerfile, in.line, src, rel, workdir)
				}
				sources = append(sources, path.Clean(src))
			}
		}
	}
	covered := func(file string) bool {
		for _, s := range sources {
			if m, _ := path.Match(s, file); m || file == s || strings.HasPrefix(file, s+"/") {
				return true
			}
		}
		return slices.ContainsFunc(produced, func(p string) bool { return strings.HasPrefix(file, p+"/") })
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if !covered(f) {
			t.Errorf("%s does not copy %s", dockerfile, f)
		}
	}

	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the binary's files")
	}
	root, _ := filepath.Abs("..")
	cmd := exec.Command(goBin, "list", "-deps", "-json=Dir,ImportPath,Module,GoFiles,EmbedFiles", "./cmd/truss")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux") // as the Dockerfile builds
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps ./cmd/truss: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var pkg struct {
			Dir, ImportPath     string
			Module              *struct{ Main bool }
			GoFiles, EmbedFiles []string
		}
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if pkg.Module == nil || !pkg.Module.Main {
			continue
		}
		for _, f := range append(pkg.GoFiles, pkg.EmbedFiles...) {
			rel, _ := filepath.Rel(root, filepath.Join(pkg.Dir, f))
			if rel = filepath.ToSlash(rel); !covered(rel) {
				t.Errorf("%s: the image build does not copy %s (package %s); add it to a COPY", dockerfile, rel, pkg.ImportPath)
			}
		}
	}
}
