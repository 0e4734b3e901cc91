package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/ory"
)

// PostgresProbe checks the pool can run a query and reports the server version.
func PostgresProbe(pool *pgxpool.Pool) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		var v string
		err := pool.QueryRow(ctx, "SELECT current_setting('server_version')").Scan(&v)
		return v, err
	}
}

// oryPaths are the readiness and version paths of each Ory API. Kratos's
// admin API lives under /admin (its /health/ready there redirects).
var oryPaths = map[string][2]string{
	"kratos public": {"/health/ready", ""},
	"kratos admin":  {"/admin/health/ready", "/admin/version"},
	"keto read":     {"/health/ready", "/version"},
	"keto write":    {"/health/ready", "/version"},
	"hydra public":  {"/health/ready", ""},
	"hydra admin":   {"/health/ready", "/version"},
}

// OryCheck checks an Ory endpoint's readiness (and version when it has one).
func OryCheck(e *ory.Endpoint) Check {
	paths := oryPaths[e.Name()]
	c := Check{Name: e.Service + "_" + e.Role, Required: true, Disabled: !e.Enabled()}
	if c.Disabled {
		return c
	}
	c.Target = e.URL.String()
	c.Probe = func(ctx context.Context) (string, error) {
		if err := getJSON(ctx, e.HTTP, e.URL.String()+paths[0], nil); err != nil {
			return "", err
		}
		if paths[1] == "" {
			return "", nil
		}
		var v struct {
			Version string `json:"version"`
		}
		_ = getJSON(ctx, e.HTTP, e.URL.String()+paths[1], &v) // version is informative only
		return v.Version, nil
	}
	return c
}

func getJSON(ctx context.Context, hc *http.Client, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s", url, resp.Status)
	}
	if into != nil {
		return json.Unmarshal(body, into)
	}
	return nil
}

// SMTPCheck is the mail server's entry. Email is optional for serving the
// API, so a failure degrades rather than fails health. The probe comes from
// internal/email: it resolves the SMTP settings in effect at each run (an
// admin may change them at run time), speaks TLS first on implicit-TLS
// ports (465) and waits for the greeting. target names the configured
// server (host:port); disabled when SMTP_HOST is empty.
func SMTPCheck(target string, disabled bool, probe func(ctx context.Context) (string, error)) Check {
	return Check{Name: "smtp", Required: false, Target: target, Disabled: disabled, Probe: probe}
}
