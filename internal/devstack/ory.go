package devstack

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/trussdev/truss/internal/keto/opl"
)

//go:embed templates
var templates embed.FS

// server describes how to configure, migrate, start and health-wait one of
// the stack's servers.
type server struct {
	name    string
	files   []string // templates/<file>[.tmpl] rendered into config/
	migrate []string
	serve   []string
	ready   func(Ports) string
}

func (s *Stack) servers() []server {
	cfg := func(name string) string { return filepath.Join(s.opts.Dir, "config", name) }
	return []server{
		{
			name: "mailpit",
			serve: []string{"--listen", "127.0.0.1:" + strconv.Itoa(s.Ports.MailUI), "--smtp", "127.0.0.1:" + strconv.Itoa(s.Ports.SMTP),
				"--database", filepath.Join(s.opts.Dir, "mailpit.db"), "--smtp-auth-accept-any", "--smtp-auth-allow-insecure"},
			ready: func(p Ports) string { return fmt.Sprintf("http://127.0.0.1:%d/api/v1/info", p.MailUI) },
		},
		{
			name:    "kratos",
			files:   append([]string{"kratos.yml", "identity.schema.json"}, courierTemplates()...),
			migrate: []string{"migrate", "sql", "-e", "--yes", "-c", cfg("kratos.yml")},
			serve:   []string{"serve", "-c", cfg("kratos.yml"), "--dev", "--sqa-opt-out", "--watch-courier"},
			ready:   func(p Ports) string { return fmt.Sprintf("http://127.0.0.1:%d/health/ready", p.KratosPublic) },
		},
		{
			name:    "keto",
			files:   []string{"keto.yml", "namespaces.keto.ts"},
			migrate: []string{"migrate", "up", "-y", "-c", cfg("keto.yml")},
			serve:   []string{"serve", "-c", cfg("keto.yml"), "--sqa-opt-out"},
			ready:   func(p Ports) string { return fmt.Sprintf("http://127.0.0.1:%d/health/ready", p.KetoRead) },
		},
		{
			name:    "hydra",
			files:   []string{"hydra.yml"},
			migrate: []string{"migrate", "sql", "up", "-e", "--yes", "-c", cfg("hydra.yml")},
			serve:   []string{"serve", "all", "--dev", "--sqa-opt-out", "-c", cfg("hydra.yml")},
			ready:   func(p Ports) string { return fmt.Sprintf("http://127.0.0.1:%d/health/ready", p.HydraPublic) },
		},
	}
}

// generated are config files written by Go code rather than templates: the
// Keto namespaces file is Truss's default model exactly as internal/keto
// writes it (with no tenant sections yet), so the two cannot drift.
var generated = map[string]func() string{
	"namespaces.keto.ts": func() string { return opl.File{Sections: map[string]opl.Section{}}.Render() },
}

// templateData is what the config templates see.
type templateData struct {
	Dir        string
	Ports      Ports
	PublicURL  string
	Secrets    Secrets
	BcryptCost int
	stack      *Stack
}

// DSN is the connection string of one of the stack's databases.
func (d templateData) DSN(db string) string {
	return d.stack.adminURL(d.stack.opts.DatabasePrefix+db) + "&max_conns=20&max_idle_conns=4"
}

func (s *Stack) render(files []string) error {
	cost := 12
	if s.opts.Ephemeral {
		cost = 4 // tests create many accounts; bcrypt's minimum keeps them fast
	}
	data := templateData{Dir: s.opts.Dir, Ports: s.Ports, PublicURL: s.opts.PublicURL, Secrets: s.secrets, BcryptCost: cost, stack: s}
	for _, f := range files {
		if gen, ok := generated[f]; ok {
			if err := os.WriteFile(filepath.Join(s.opts.Dir, "config", f), []byte(gen()), 0o600); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(f, "courier/") {
			// Kratos's own Go templates: copied as they are, not rendered.
			if err := copyTemplate(f, filepath.Join(s.opts.Dir, "config", f)); err != nil {
				return err
			}
			continue
		}
		src, err := templates.ReadFile("templates/" + f + ".tmpl")
		if err != nil {
			src, err = templates.ReadFile("templates/" + f)
			if err != nil {
				return err
			}
		}
		t, err := template.New(f).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("template %s: %w", f, err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, data); err != nil {
			return fmt.Errorf("template %s: %w", f, err)
		}
		if err := os.WriteFile(filepath.Join(s.opts.Dir, "config", f), out.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// startServer renders its config, runs its migrations, starts it and waits
// until it reports ready.
func (s *Stack) startServer(ctx context.Context, srv server) (*Process, error) {
	if err := s.render(srv.files); err != nil {
		return nil, err
	}
	bin := filepath.Join(s.opts.BinDir, srv.name)
	if srv.migrate != nil && !s.opts.SkipMigrations {
		cmd := exec.CommandContext(ctx, bin, srv.migrate...)
		cmd.Env = childEnv()
		if err := run(srv.name+" migrations", s.logPath(srv.name), cmd); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, srv.serve...)
	cmd.Env = childEnv()
	cmd.Dir = s.opts.Dir
	p, err := Spawn(srv.name, s.logPath(srv.name), cmd, s.crashed)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	if s.opts.SkipMigrations {
		// Kratos on an unmigrated database never starts listening (it
		// retries "Unable to locate the table"): nothing to wait for.
		return p, nil
	}
	if err := waitHTTP(ctx, p, srv.ready(s.Ports), 60*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// childEnv keeps the Ory servers from picking up configuration from the
// caller's environment (they read DSN, SERVE_* and friends): only what a
// process needs to run is passed on.
func childEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// waitHTTP polls url until it answers 200, the process dies or time runs out.
func waitHTTP(ctx context.Context, p *Process, url string, timeout time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		if p.Exited() {
			return fmt.Errorf("%s exited while starting (%v); last lines of %s:\n%s", p.Name, p.ExitErr(), p.LogPath, indent(p.Tail(20)))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s (%v); last lines of %s:\n%s", p.Name, timeout, err, p.LogPath, indent(p.Tail(20)))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// courierTemplates lists Kratos's courier templates (verification and
// recovery codes), which kratos.yml names by file:// URI.
func courierTemplates() []string {
	entries, _ := templates.ReadDir("templates/courier")
	var out []string
	for _, e := range entries {
		out = append(out, "courier/"+e.Name())
	}
	return out
}

func copyTemplate(name, dst string) error {
	b, err := templates.ReadFile("templates/" + name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}
