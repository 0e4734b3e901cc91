package email_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/email"
	"github.com/trussdev/truss/internal/ory"
	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func uniqueEmail() string { return "e-" + strings.ToLower(rand.Text()[:10]) + "@example.com" }

// ---- certificates -----------------------------------------------------------

// testCert is a self-signed certificate for 127.0.0.1 and localhost, and a
// TLS client configuration that trusts it.
type testCert struct {
	CertFile, KeyFile string
	Client            *tls.Config
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "truss test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := testCert{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	os.WriteFile(c.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(c.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c.Client = &tls.Config{RootCAs: pool}
	return c
}

// ---- Mailpit instances of the test's own ---------------------------------------

type mailpitOptions struct {
	SMTPPort          int // 0: a free port
	Cert              *testCert
	RequireSTARTTLS   bool
	RequireTLS        bool
	Users             map[string]string // SMTP AUTH accounts (htpasswd, plain text)
	AllowedRecipients string            // regexp; others get 550
}

type mailpit struct {
	t        *testing.T
	SMTPPort int
	API      string
	cmd      *exec.Cmd
	done     chan struct{}
	logPath  string
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startMailpit runs the stack's Mailpit binary with the options (STARTTLS,
// implicit TLS, AUTH) on loopback ports; it is stopped after the test.
func startMailpit(t *testing.T, o mailpitOptions) *mailpit {
	t.Helper()
	testenv.Require(t)
	bin := filepath.Join(os.Getenv("TRUSS_DEV_BIN_DIR"), "mailpit")
	dir := t.TempDir()
	if o.SMTPPort == 0 {
		o.SMTPPort = freePort(t)
	}
	ui := freePort(t)
	args := []string{"--listen", "127.0.0.1:" + strconv.Itoa(ui), "--smtp", "127.0.0.1:" + strconv.Itoa(o.SMTPPort),
		"--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns"}
	if o.Cert != nil {
		args = append(args, "--smtp-tls-cert", o.Cert.CertFile, "--smtp-tls-key", o.Cert.KeyFile)
	}
	if o.RequireSTARTTLS {
		args = append(args, "--smtp-require-starttls")
	}
	if o.RequireTLS {
		args = append(args, "--smtp-require-tls")
	}
	if len(o.Users) > 0 {
		var b strings.Builder
		for u, p := range o.Users {
			fmt.Fprintf(&b, "%s:%s\n", u, p)
		}
		f := filepath.Join(dir, "smtp-users")
		os.WriteFile(f, []byte(b.String()), 0o600)
		args = append(args, "--smtp-auth-file", f)
	}
	if o.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", o.AllowedRecipients)
	}
	m := &mailpit{t: t, SMTPPort: o.SMTPPort, API: "http://127.0.0.1:" + strconv.Itoa(ui), done: make(chan struct{}),
		logPath: filepath.Join(dir, "mailpit.log")}
	logf, err := os.Create(m.logPath)
	if err != nil {
		t.Fatal(err)
	}
	m.cmd = exec.Command(bin, args...)
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	go func() { _ = m.cmd.Wait(); logf.Close(); close(m.done) }()
	t.Cleanup(m.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := http.Get(m.API + "/api/v1/info"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(m.SMTPPort))); err == nil {
					c.Close()
					return m
				}
			}
		}
		select {
		case <-m.done:
			b, _ := os.ReadFile(m.logPath)
			t.Fatalf("mailpit exited while starting:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(m.logPath)
			t.Fatalf("mailpit not ready after 15s:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *mailpit) stop() {
	select {
	case <-m.done:
		return
	default:
	}
	_ = m.cmd.Process.Signal(os.Interrupt)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

type mpAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

type mpMessage struct {
	ID        string      `json:"ID"`
	MessageID string      `json:"MessageID"`
	From      mpAddress   `json:"From"`
	To        []mpAddress `json:"To"`
	Subject   string      `json:"Subject"`
	Text      string      `json:"Text"`
	HTML      string      `json:"HTML"`
}

// messages lists what this Mailpit received (newest first).
func (m *mailpit) messages() []mpMessage {
	m.t.Helper()
	var list struct {
		Messages []mpMessage `json:"messages"`
	}
	getJSON(m.t, m.API+"/api/v1/messages?limit=1000", &list)
	return list.Messages
}

// message is one message in full (text and HTML bodies).
func (m *mailpit) message(id string) mpMessage {
	m.t.Helper()
	var msg mpMessage
	getJSON(m.t, m.API+"/api/v1/message/"+id, &msg)
	return msg
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// waitFor polls cond until it holds or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// ---- Truss side -----------------------------------------------------------------

// smtpEnv points Truss's SMTP settings at a Mailpit of the test.
func smtpEnv(port int, tlsMode string, extra ...string) map[string]string {
	env := map[string]string{"SMTP_HOST": "127.0.0.1", "SMTP_PORT": strconv.Itoa(port), "SMTP_TLS": tlsMode,
		"SMTP_TIMEOUT": "5s", "SMTP_FROM": "Truss Test <sender@truss.test>"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

type harness struct {
	svc  *email.Service
	cfg  config.Config
	pool *pgxpool.Pool
}

// newService builds an email service on a fresh database. Its workers run
// only after start.
func newService(t *testing.T, env map[string]string, opts email.Options) harness {
	t.Helper()
	cfg := testenv.Config(t, env)
	pool := testenv.Pool(t, cfg)
	return harness{svc: email.New(cfg, pool, testenv.Logger(t), opts), cfg: cfg, pool: pool}
}

func (h harness) start(t *testing.T) {
	stop := h.svc.Start(context.Background())
	t.Cleanup(stop)
}

type outboxRow struct {
	Status    string
	Attempts  int
	LastError *string
	Reply     *string
	MessageID string
}

func (h harness) row(t *testing.T, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	err := h.pool.QueryRow(context.Background(), `SELECT status, attempts, last_error, smtp_reply, message_id
		FROM truss_internal.email_outbox WHERE id = $1`, id).Scan(&r.Status, &r.Attempts, &r.LastError, &r.Reply, &r.MessageID)
	if err != nil {
		t.Fatalf("outbox row %d: %v", id, err)
	}
	return r
}

func (h harness) outboxCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), "SELECT count(*) FROM truss_internal.email_outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// adminBrowser runs a Truss server and signs in its bootstrap admin.
func adminBrowser(t *testing.T, env map[string]string) (*testenv.Browser, string, config.Config) {
	t.Helper()
	adminEmail := uniqueEmail()
	if env == nil {
		env = map[string]string{}
	}
	env["TRUSS_BOOTSTRAP_ADMIN_EMAIL"] = adminEmail
	srv, cfg := testenv.Server(t, env)
	res, err := auth.New(cfg, ory.New(cfg), testenv.Pool(t, cfg), testenv.Logger(t)).Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": adminEmail, "password": res.Password}, nil); resp.StatusCode != 200 {
		t.Fatalf("admin login: %d", resp.StatusCode)
	}
	return b, adminEmail, cfg
}

// apiError is the API's error envelope.
type apiError testenv.APIError
