package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/database"
	"github.com/trussdev/truss/internal/doctor"
	"github.com/trussdev/truss/internal/ory"
)

func runDoctor(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", "doctor [--json]", `
Diagnoses this installation with the configuration in the environment: cookies
and CSRF across subdomains, CORS, the reverse proxy in front of TRUSS_PUBLIC_URL,
Ory Kratos/Keto/Hydra, SMTP, the database and its migrations, clock skew and
weak secrets. Each check prints ok, warn or fail, its evidence and the fix
(docs/troubleshooting.md explains each one).
Exit status: 0 all ok, 1 warnings, 2 failures.`, stderr)
	asJSON := fs.Bool("json", false, `print {"checks": [{"id", "title", "status", "evidence", "fix"}]}`)
	if err := parse(fs, args); err != nil {
		return err
	}
	results := diagnose()
	if *asJSON {
		_ = doctor.WriteJSON(stdout, results)
	} else {
		doctor.WriteText(stdout, results, isTerminal(stdout))
	}
	if code := doctor.ExitCode(results); code != 0 {
		return exitError{code: code}
	}
	return nil
}

// diagnose loads the configuration (an invalid one is itself the first
// finding) and runs every check.
func diagnose() []doctor.Result {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return []doctor.Result{{ID: "config.valid", Title: "Configuration is valid", Status: doctor.Fail,
			Evidence: err.Error(), Fix: "Fix the variables above; the README's configuration table lists every one with its default."}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env := &doctor.Env{Cfg: cfg, Raw: os.LookupEnv, Ory: ory.New(cfg), Dashboard: cfg.DashboardURL,
		HTTP: &http.Client{Timeout: 8 * time.Second}}
	if pool, err := database.Open(ctx, cfg.DatabaseURL, 2); err == nil {
		defer pool.Close()
		env.Pool = pool
	}
	return doctor.Run(ctx, env, 10*time.Second)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == ""
}
