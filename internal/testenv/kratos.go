package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/devstack"
)

// PrivateKratos starts a Kratos of the test's own (own database on the
// stack's PostgreSQL, free ports), for tests that stop and restart it
// without disturbing the shared one. It is stopped after the test.
func PrivateKratos(t testing.TB) *devstack.Stack {
	t.Helper()
	return privateKratos(t, false)
}

// UnmigratedKratos is PrivateKratos on a database whose migrations were
// never applied: Kratos then never starts listening.
func UnmigratedKratos(t testing.TB) *devstack.Stack {
	t.Helper()
	return privateKratos(t, true)
}

func privateKratos(t testing.TB, skipMigrations bool) *devstack.Stack {
	t.Helper()
	Require(t)
	checkout, err := devstack.FindCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	ports, err := devstack.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	admin := os.Getenv(adminURLVar)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var log strings.Builder
	st, err := devstack.Start(ctx, devstack.Options{
		Dir: t.TempDir(), BinDir: os.Getenv("TRUSS_DEV_BIN_DIR"), ToolsDir: filepath.Join(checkout, "tools"),
		Ports: ports, Ephemeral: true, SkipAPIPort: true, PublicURL: fmt.Sprintf("http://localhost:%d", ports.API),
		ExternalDatabaseURL: admin, Only: []string{"kratos"}, SkipMigrations: skipMigrations,
		DatabasePrefix: "t" + strings.ToLower(rand.Text()[:10]) + "_", Out: &log,
	})
	if err != nil {
		t.Fatalf("start private kratos: %v\n%s", err, log.String())
	}
	t.Cleanup(st.Stop)
	return st
}
