package devstack

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/keto/opl"
)

func TestCheckFreeNamesPortAndOwner(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ports, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	ports.KratosPublic = ln.Addr().(*net.TCPAddr).Port
	err = ports.CheckFree(false)
	if err == nil {
		t.Fatal("want an error for a taken port")
	}
	msg := err.Error()
	want := "port " + strconv.Itoa(ports.KratosPublic) + " (Kratos public API) is already in use"
	if !strings.Contains(msg, want) {
		t.Errorf("message lacks %q:\n%s", want, msg)
	}
	// The owner is this test binary.
	if !strings.Contains(msg, "(pid "+strconv.Itoa(os.Getpid())+")") {
		t.Errorf("message does not name the owning process (pid %d):\n%s", os.Getpid(), msg)
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	p, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for _, n := range p.named() {
		if other, dup := seen[n.Port]; dup {
			t.Errorf("%s and %s share port %d", n.What, other, n.Port)
		}
		seen[n.Port] = n.What
	}
}

func TestSecretsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	a, err := loadSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.KratosCipher) != 32 || len(a.HydraSystem) < 16 || a.PostgresPassword == "" {
		t.Fatalf("weak or malformed secrets: cipher %d chars, hydra %d chars", len(a.KratosCipher), len(a.HydraSystem))
	}
	b, err := loadSecrets(path)
	if err != nil || a != b {
		t.Fatalf("second load differs (%v): sessions would not survive a restart", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("secrets.json mode %o, want 600", st.Mode().Perm())
	}
}

func TestTailFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	var b strings.Builder
	for i := range 100 {
		b.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	got := tailFile(path, 3)
	if got != "line 97\nline 98\nline 99" {
		t.Errorf("tail = %q", got)
	}
}

func TestTemplatesRender(t *testing.T) {
	s := &Stack{opts: Options{Dir: t.TempDir(), PublicURL: "http://localhost:8787"}, Ports: DefaultPorts(),
		secrets: Secrets{PostgresPassword: "pw", KratosCookie: "c", KratosCipher: strings.Repeat("x", 32), HydraSystem: "s"}}
	os.MkdirAll(filepath.Join(s.opts.Dir, "config"), 0o755)
	for _, srv := range s.servers() {
		if err := s.render(srv.files); err != nil {
			t.Fatalf("%s: %v", srv.name, err)
		}
	}
	ns, _ := os.ReadFile(filepath.Join(s.opts.Dir, "config", "namespaces.keto.ts"))
	if want := (opl.File{Sections: map[string]opl.Section{}}).Render(); string(ns) != want || !strings.Contains(want, "class Organization") {
		t.Errorf("namespaces.keto.ts is not Truss's default model:\n%s", ns)
	}
	kratos, _ := os.ReadFile(filepath.Join(s.opts.Dir, "config", "kratos.yml"))
	for _, want := range []string{"port: 4433", "port: 4434", "haveibeenpwned_enabled: false", "smtp://127.0.0.1:1025/", "127.0.0.1:15432/kratos"} {
		if !strings.Contains(string(kratos), want) {
			t.Errorf("kratos.yml lacks %q", want)
		}
	}
}
