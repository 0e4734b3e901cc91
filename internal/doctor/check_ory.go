package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/trussdev/truss/internal/devstack"
	"github.com/trussdev/truss/internal/ory"
)

// oryProbe is where each Ory API answers liveness, readiness and version.
var oryProbe = map[string]struct{ alive, ready, version string }{
	"kratos public": {"/health/alive", "/health/ready", ""},
	"kratos admin":  {"/admin/health/alive", "/admin/health/ready", "/admin/version"},
	"keto read":     {"/health/alive", "/health/ready", "/version"},
	"keto write":    {"/health/alive", "/health/ready", "/version"},
	"hydra public":  {"/health/alive", "/health/ready", ""},
	"hydra admin":   {"/health/alive", "/health/ready", "/version"},
}

// migrateCommand is the fix for pending migrations of each server.
var migrateCommand = map[string]string{
	"kratos": "docker compose exec kratos kratos migrate sql -e --yes (truss dev runs it for you)",
	"keto":   "docker compose exec keto keto migrate up -y",
	"hydra":  "docker compose exec hydra hydra migrate sql up -e --yes",
}

var oryCheck = Check{
	ID:    "ory.services",
	Title: "Ory Kratos, Keto and Hydra are up and ready",
	Symptom: "The API answers 502 or 503 for authentication, authorization or OAuth2 endpoints, naming " +
		"`kratos_unavailable`, `keto_unavailable` or `hydra_unavailable`.",
	Fix: "Start the service (docker compose up -d kratos keto hydra), read its log (docker logs truss-kratos-1 --tail 50), " +
		"and check that KRATOS_PUBLIC_URL, KRATOS_ADMIN_URL, KETO_READ_URL, KETO_WRITE_URL, HYDRA_PUBLIC_URL and HYDRA_ADMIN_URL point at it.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		var out []Result
		for _, e := range env.Ory.All() {
			out = append(out, probeOry(ctx, env, c, e))
		}
		return out
	},
}

func probeOry(ctx context.Context, env *Env, c Check, e *ory.Endpoint) Result {
	c.ID = "ory." + e.Service + "_" + e.Role
	c.Title = fmt.Sprintf("%s %s API", strings.ToUpper(e.Service[:1])+e.Service[1:], e.Role)
	if !e.Enabled() {
		return c.result(OK, e.EnvVar+" is empty: OAuth2 is disabled (set HYDRA_ADMIN_URL and HYDRA_PUBLIC_URL to enable it)")
	}
	p := oryProbe[e.Name()]
	base := e.URL.String()
	status, body, err := get(ctx, env.HTTP, base+p.alive)
	if err != nil {
		return c.resultFix(Fail, fmt.Sprintf("%s%s: %v", base, p.alive, err),
			fmt.Sprintf("Start %s (docker compose up -d %s; docker logs truss-%s-1 --tail 50) and check %s=%s. If its log says "+
				"\"Unable to locate the table\" or shows a migration error, apply its migrations: %s.",
				e.Service, e.Service, e.Service, e.EnvVar, base, migrateCommand[e.Service]))
	}
	if status != http.StatusOK {
		return c.resultFix(Fail, fmt.Sprintf("%s%s answered %d: %.200s", base, p.alive, status, body),
			fmt.Sprintf("%s does not point at %s's %s API; check the port (see ory.ports).", e.EnvVar, e.Service, e.Role))
	}
	status, body, err = get(ctx, env.HTTP, base+p.ready)
	if err != nil || status != http.StatusOK {
		if strings.Contains(strings.ToLower(body), "migrat") {
			return c.resultFix(Fail, fmt.Sprintf("%s is alive but not ready: %.200s", e.Service, body), "Apply its migrations: "+migrateCommand[e.Service])
		}
		return c.resultFix(Fail, fmt.Sprintf("%s%s answered %d: %.200s", base, p.ready, status, body),
			fmt.Sprintf("%s is alive but not ready: usually its database is unreachable; read docker logs truss-%s-1 --tail 50.", e.Service, e.Service))
	}
	if p.version == "" {
		return c.result(OK, fmt.Sprintf("%s alive and ready (%s)", base, e.EnvVar))
	}
	_, body, _ = get(ctx, env.HTTP, base+p.version)
	var v struct{ Version string }
	_ = json.Unmarshal([]byte(body), &v)
	want := pinned(e.Service)
	if v.Version != "" && want != "" && v.Version != want {
		return c.resultFix(Warn, fmt.Sprintf("%s runs %s; Truss is tested with %s", e.Service, v.Version, want),
			fmt.Sprintf("Run %s %s (deploy/docker-compose.yml pins it).", e.Service, want))
	}
	return c.result(OK, fmt.Sprintf("%s alive and ready, version %s (%s)", base, v.Version, e.EnvVar))
}

func pinned(service string) string {
	for _, t := range devstack.Tools {
		if t.Name == service {
			return t.Version
		}
	}
	return ""
}

var oryPortsCheck = Check{
	ID:    "ory.ports",
	Title: "Ory's local ports belong to Ory",
	Symptom: "An Ory URL on localhost answers, but with 404s or someone else's pages: another program took port " +
		"4433, 4434, 4444, 4445, 4466 or 4467.",
	Fix: "Stop the program holding the port, or move Ory to free ports and update the matching *_URL variable.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		var bad []string
		for _, e := range env.Ory.All() {
			if !e.Enabled() || !isLoopback(e.URL.Hostname()) {
				continue
			}
			status, body, err := get(ctx, env.HTTP, e.URL.String()+oryProbe[e.Name()].alive)
			if err != nil || (status == http.StatusOK && strings.Contains(body, "status")) {
				continue // down (reported by ory.services) or Ory itself
			}
			port := e.URL.Port()
			owner := devstack.PortOwner(atoi(port))
			bad = append(bad, fmt.Sprintf("port %s (%s) answers %d to %s and is held%s", port, e.EnvVar, status, oryProbe[e.Name()].alive, owner))
		}
		if len(bad) > 0 {
			return []Result{c.result(Fail, strings.Join(bad, "; "))}
		}
		return []Result{c.result(OK, "every local Ory port that answers is an Ory server")}
	},
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func get(ctx context.Context, hc *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), nil
}
