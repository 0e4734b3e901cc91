package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantIn   string // in stdout or stderr
	}{
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{}, 2, "Usage: truss <command>"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--help"}, 0, "API_HOST:API_PORT"},
		{[]string{"dev", "--help"}, 0, "--exec"},
		{[]string{"migrate", "--help"}, 0, "migrate up|status"},
		{[]string{"migrate", "sideways"}, 2, "migrate up|status"},
		{[]string{"serve", "--bogus-flag"}, 2, "flag provided but not defined"},
		{[]string{"version"}, 0, "kratos   v1.3.1"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(tc.args...)
			if code != tc.wantCode || !strings.Contains(out+errOut, tc.wantIn) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.wantCode, tc.wantIn, out, errOut)
			}
		})
	}
}

// TestServeRefusesInvalidConfigAllAtOnce: nothing half-starts, and every
// problem is listed in one go.
func TestServeRefusesInvalidConfigAllAtOnce(t *testing.T) {
	t.Setenv("API_PORT", "http")
	t.Setenv("KRATOS_ADMIN_URL", "kratos:4434")
	t.Setenv("SMTP_PORT", "465587")
	t.Setenv("DATABASE_URL", "postgres://truss:topsecret@127.0.0.1:1/truss")
	code, _, errOut := runCLI("serve")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{`API_PORT="http"`, `KRATOS_ADMIN_URL="kratos:4434"`, `SMTP_PORT="465587"`, "3 problem(s)", "README"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "topsecret") {
		t.Errorf("stderr leaks the database password:\n%s", errOut)
	}
}

func TestMigrateUpAndStatus(t *testing.T) {
	t.Setenv("DATABASE_URL", testenv.NewDatabase(t))
	code, out, errOut := runCLI("migrate", "status")
	if code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status before up: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI("migrate", "up")
	if code != 0 || !strings.Contains(out, "applied ") || strings.Contains(out, "applied 0 ") {
		t.Fatalf("up: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI("migrate", "up")
	if code != 0 || !strings.Contains(out, "applied 0 migration(s)") {
		t.Fatalf("second up must be a no-op: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("migrate", "status")
	if code != 0 || strings.Contains(out, "pending") || !strings.Contains(out, "00001  applied") {
		t.Fatalf("status after up: exit %d\n%s", code, out)
	}
}

func TestGenTypesTypeScript(t *testing.T) {
	url := testenv.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `CREATE TABLE notes (id int PRIMARY KEY, body text)`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("gen", "types", "typescript")
	if code != 0 || !strings.Contains(out, "export type Database = {") || !strings.Contains(out, "      notes: {") ||
		!strings.Contains(out, "body: string | null") {
		t.Fatalf("gen types typescript: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI("gen", "types", "python"); code != 2 || !strings.Contains(errOut, "gen types typescript") {
		t.Fatalf("an unknown language: exit %d, %s", code, errOut)
	}
}

func TestDoctorJSONAndExitCode(t *testing.T) {
	t.Setenv("DATABASE_URL", testenv.NewDatabase(t)) // empty: migrations pending → a failure
	code, out, errOut := runCLI("doctor", "--json")
	var rep struct {
		Status string `json:"status"`
		Checks []struct {
			ID, Title, Status, Evidence, Fix string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json is not JSON: %v\n%s%s", err, out, errOut)
	}
	if code != 2 || rep.Status != "fail" {
		t.Fatalf("exit %d status %q, want 2 fail (pending migrations)", code, rep.Status)
	}
	seen := map[string]string{}
	for _, c := range rep.Checks {
		seen[c.ID] = c.Status
	}
	if seen["database.migrations"] != "fail" || seen["ory.kratos_public"] != "ok" {
		t.Errorf("checks: %v", seen)
	}

	t.Setenv("API_PORT", "not-a-port")
	code, out, _ = runCLI("doctor")
	if code != 2 || !strings.Contains(out, "config.valid") || !strings.Contains(out, "API_PORT") {
		t.Errorf("invalid config: exit %d\n%s", code, out)
	}
}
