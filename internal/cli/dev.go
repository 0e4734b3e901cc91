package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/devstack"
)

func runDev(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", "dev [flags] [--exec -- command args...]", `
Starts everything Truss needs on this machine, without Docker, then serves Truss:
  - a private PostgreSQL cluster from the system binaries (as the postgres user when
    run as root) with databases truss, kratos, keto and hydra;
  - Ory Kratos, Keto and Hydra, built once from the Go module proxy into .truss/bin;
  - Mailpit, the local mail catcher (SMTP 1025, web UI 8025).
State and logs live in --dir (default .truss). Ctrl-C stops everything.

With --exec, the stack starts on free ports in a temporary directory, the command
runs with the stack's variables in its environment (DATABASE_URL, KRATOS_PUBLIC_URL,
...), and the stack stops when it ends; truss exits with the command's status.
This is how `+"`make test`"+` runs the test suite.`, stderr)
	dir := fs.String("dir", ".truss", "state directory (PostgreSQL data, configs, logs, secrets)")
	execMode := fs.Bool("exec", false, "run the command after -- against a fresh stack, then stop")
	freePorts := fs.Bool("free-ports", false, "use free ports instead of the standard ones")
	if err := parse(fs, args); err != nil {
		return err
	}
	checkout, err := devstack.FindCheckout(".")
	if err != nil {
		return err
	}
	opts := devstack.Options{Dir: *dir, BinDir: filepath.Join(checkout, ".truss", "bin"),
		ToolsDir: filepath.Join(checkout, "tools"), Ports: devstack.DefaultPorts(), Out: stdout}
	if *execMode {
		if fs.NArg() == 0 {
			fs.Usage()
			return errUsage
		}
		return devExec(opts, fs.Args(), stdout, stderr)
	}
	if *freePorts {
		if opts.Ports, err = devstack.FreePorts(); err != nil {
			return err
		}
	}
	return devServe(opts, stdout, stderr)
}

func devServe(opts devstack.Options, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.PublicURL = fmt.Sprintf("http://localhost:%d", opts.Ports.API)
	opts.ExternalDatabaseURL = os.Getenv("DATABASE_URL")
	fmt.Fprintln(stdout, "Starting the Truss development stack (Ctrl-C stops everything).")
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "\nStopping the stack…")
		st.Stop()
	}()
	env := st.Env()
	if _, set := os.LookupEnv("TRUSS_BOOTSTRAP_ADMIN_EMAIL"); !set {
		env["TRUSS_BOOTSTRAP_ADMIN_EMAIL"] = "admin@truss.localhost"
		env["TRUSS_BOOTSTRAP_ADMIN_PASSWORD"] = st.AdminPassword()
	}
	cfg, err := config.Load(func(name string) (string, bool) {
		if v, ok := env[name]; ok {
			return v, true
		}
		if name == "LOG_FORMAT" {
			if _, ok := os.LookupEnv(name); !ok {
				return "text", true // humans read dev logs
			}
		}
		return os.LookupEnv(name)
	})
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	admin := make(chan string, 1)
	return serve(ctx, cfg, log, func(addr string) {
		line := "(not ready yet: see the log)"
		select {
		case line = <-admin:
		case <-time.After(20 * time.Second):
		}
		printSummary(stdout, st, cfg.PublicURL.String(), line)
	}, func(res auth.BootstrapResult) {
		if res.Email == "" {
			admin <- "none (TRUSS_BOOTSTRAP_ADMIN_EMAIL is empty)"
			return
		}
		pw := cfg.BootstrapAdmin.Password
		if pw == "" {
			pw = res.Password
		}
		if pw == "" {
			pw = "(unchanged: the account already existed)"
		}
		admin <- res.Email + " / " + pw
	})
}

func printSummary(w io.Writer, st *devstack.Stack, publicURL, admin string) {
	p := st.Ports
	status := healthLine(publicURL + "/api/health")
	fmt.Fprintf(w, `
Truss is up. %s
  API          %s/api/health
  Dashboard    %s/
  Metrics      %s/metrics
  Mailpit      http://localhost:%d   (SMTP 127.0.0.1:%d)
  Kratos       public http://127.0.0.1:%d   admin http://127.0.0.1:%d
  Keto         read http://127.0.0.1:%d   write http://127.0.0.1:%d
  Hydra        public http://127.0.0.1:%d   admin http://127.0.0.1:%d
  PostgreSQL   127.0.0.1:%d, user truss (password in %s)
  Logs         %s
  Admin        %s   (sign in at %s/)
Press Ctrl-C to stop everything.
`, status, publicURL, publicURL, publicURL, p.MailUI, p.SMTP, p.KratosPublic, p.KratosAdmin, p.KetoRead, p.KetoWrite,
		p.HydraPublic, p.HydraAdmin, p.Postgres, filepath.Join(st.Dir(), "secrets.json"), st.Logs(), admin, publicURL)
}

// healthLine asks the just-started server for its health, so the summary
// says whether everything really is up.
func healthLine(url string) string {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return "Health check failed: " + err.Error()
	}
	defer resp.Body.Close()
	var rep struct {
		Status       string `json:"status"`
		Dependencies map[string]struct {
			Status string `json:"status"`
		} `json:"dependencies"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	var up []string
	for name, d := range rep.Dependencies {
		up = append(up, name+"="+d.Status)
	}
	sort.Strings(up)
	return fmt.Sprintf("GET /api/health: %d %s (%s)", resp.StatusCode, rep.Status, strings.Join(up, ", "))
}

// devExec runs a command against a throwaway stack on free ports.
func devExec(opts devstack.Options, argv []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "truss-stack-")
	if err != nil {
		return err
	}
	// The postgres user must reach the cluster directory inside.
	_ = os.Chmod(tmp, 0o755)
	defer os.RemoveAll(tmp)
	if opts.Ports, err = devstack.FreePorts(); err != nil {
		return err
	}
	opts.Dir, opts.Ephemeral, opts.SkipAPIPort = tmp, true, true
	opts.PublicURL = fmt.Sprintf("http://localhost:%d", opts.Ports.API)
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer st.Stop()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = os.Environ()
	for k, v := range st.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	fmt.Fprintf(stdout, "running %s against the stack\n", strings.Join(argv, " "))
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{code: ee.ExitCode()}
	}
	return err
}
