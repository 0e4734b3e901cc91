package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgUser is the superuser of the private cluster.
const pgUser = "truss"

// Databases the stack creates: Truss's own and one per Ory server.
var Databases = []string{"truss", "kratos", "keto", "hydra"}

// findPGBin locates initdb and postgres: on PATH, or in Debian's versioned
// /usr/lib/postgresql/<version>/bin (newest first), which is not on PATH.
func findPGBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin; " +
		"install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to an existing server")
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// runAs returns the credential to run PostgreSQL with: initdb and postgres
// refuse to run as root, so root runs them as the `postgres` system user.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, PostgreSQL must run as another user, and no `postgres` user exists; " +
			"create one (useradd --system postgres) or run truss as a normal user")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// postgresDir picks where the cluster's files live. Under the state directory
// when the postgres user can reach it; otherwise (a checkout under /root) in
// a directory of its own under /var/tmp, named after the state directory.
func postgresDir(stateDir string, cred *syscall.Credential) (string, error) {
	dir := filepath.Join(stateDir, "postgres")
	if cred == nil || traversableByOthers(stateDir) {
		return dir, nil
	}
	abs, _ := filepath.Abs(stateDir)
	dir = filepath.Join("/var/tmp", "truss-postgres-"+shortHash(abs))
	return dir, nil
}

func traversableByOthers(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for d := abs; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

// startPostgres initialises the cluster on first use and starts it.
func (s *Stack) startPostgres(ctx context.Context) error {
	bin, err := findPGBin()
	if err != nil {
		return err
	}
	cred, err := runAs()
	if err != nil {
		return err
	}
	base, err := postgresDir(s.opts.Dir, cred)
	if err != nil {
		return err
	}
	data := filepath.Join(base, "data")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(base, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		s.step("initialising a private PostgreSQL cluster in %s", data)
		if err := s.initdb(bin, base, data, cred); err != nil {
			return err
		}
	}
	args := []string{"-D", data, "-p", strconv.Itoa(s.Ports.Postgres), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", "-c", "max_connections=300"}
	if s.opts.Ephemeral {
		// Test clusters are thrown away: durability only costs time.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	p, err := Spawn("postgres", s.logPath("postgres"), cmd, s.crashed)
	if err != nil {
		return err
	}
	p.stopSignal = syscall.SIGINT // "fast" shutdown: roll back clients, exit now
	s.procs = append(s.procs, p)
	return s.waitPostgres(ctx, p)
}

func (s *Stack) initdb(bin, base, data string, cred *syscall.Credential) error {
	pwfile := filepath.Join(base, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.secrets.PostgresPassword+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if cred != nil {
		_ = os.Chown(pwfile, int(cred.Uid), int(cred.Gid))
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", pgUser, "--pwfile", pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return run("initdb", s.logPath("postgres"), cmd)
}

func (s *Stack) adminURL(db string) string {
	if s.opts.ExternalDatabaseURL != "" {
		u, err := url.Parse(s.opts.ExternalDatabaseURL)
		if err != nil {
			return ""
		}
		u.Path = "/" + db
		q := u.Query()
		if q.Get("sslmode") == "" {
			q.Set("sslmode", "prefer")
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", pgUser, s.secrets.PostgresPassword, s.Ports.Postgres, db)
}

func (s *Stack) trussDatabaseURL() string {
	if s.opts.ExternalDatabaseURL != "" {
		return s.opts.ExternalDatabaseURL
	}
	return s.adminURL("truss")
}

func (s *Stack) useExternalPostgres(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.opts.ExternalDatabaseURL)
	if err != nil {
		return fmt.Errorf("cannot connect to DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	var names []string
	for _, n := range []string{"kratos", "keto", "hydra"} {
		names = append(names, s.opts.DatabasePrefix+n)
	}
	if err := createDatabases(ctx, conn, names); err != nil {
		return fmt.Errorf("%w (the DATABASE_URL user needs CREATEDB, or create the databases yourself)", err)
	}
	return nil
}

// waitPostgres polls until the server accepts connections, then creates the
// databases that do not exist yet.
func (s *Stack) waitPostgres(ctx context.Context, p *Process) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, s.adminURL("postgres"))
		if err == nil {
			defer conn.Close(ctx)
			return createDatabases(ctx, conn, Databases)
		}
		if p.Exited() || time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL did not start (%v); last lines of %s:\n%s", err, p.LogPath, indent(p.Tail(15)))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func createDatabases(ctx context.Context, conn *pgx.Conn, names []string) error {
	for _, db := range names {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
			return err
		}
		if exists {
			continue
		}
		// Identifiers cannot be parameters; the names are our constants.
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil &&
			!strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("create database %s: %w", db, err)
		}
	}
	return nil
}
