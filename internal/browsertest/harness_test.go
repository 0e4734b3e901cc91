package browsertest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/testenv"
)

// testTimeout bounds each test, stack set-up and browser included.
const testTimeout = 60 * time.Second

// testContext is cancelled testTimeout after the test starts (and when it
// ends), so a hung browser or server fails the test instead of the run.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// chromiumPath finds the browser. A missing browser fails the test: a
// skipped browser test would pass CI while proving nothing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRUSS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: the browser tests drive a real Chromium. Install it with `apt-get install chromium` " +
		"(Debian/Ubuntu; CI installs it), or point TRUSS_CHROMIUM at a Chromium/Chrome binary.")
	return ""
}

// pki is a throwaway CA and one server certificate it signed for the
// example.test names, with the SPKI pin Chromium is told to accept.
type pki struct {
	cert tls.Certificate
	// spki is base64(sha256(leaf SubjectPublicKeyInfo)), the format of
	// --ignore-certificate-errors-spki-list.
	spki string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Truss browser test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "api.example.test"},
		DNSNames:     []string{"*.example.test", "app.example.test", "api.example.test", "evil.example.test"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return pki{
		cert: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey, Leaf: leaf},
		spki: base64.StdEncoding.EncodeToString(sum[:]),
	}
}

// listen opens a loopback listener; its port is known before any server
// (and so any configuration naming it) exists.
func listen(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// serve runs h on ln (with TLS when cert is non-nil) until the test ends.
func serve(t *testing.T, ln net.Listener, h http.Handler, cert *tls.Certificate, logs io.Writer) {
	t.Helper()
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h,
		ErrorLog: log.New(logs, "http.Server: ", 0), ReadHeaderTimeout: 10 * time.Second}}
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
}

// logBuffer collects output (a Truss server's JSON log, Chromium's stderr)
// for assertions, and echoes each write to the test log while the test runs
// when echo is set.
type logBuffer struct {
	echo *testing.T
	mu   sync.Mutex
	buf  bytes.Buffer
	done bool
}

// newServerLog is a logBuffer echoed to t's log.
func newServerLog(t *testing.T) *logBuffer {
	l := &logBuffer{echo: t}
	// Registered before any server or browser, so it runs after they are
	// gone: nothing is echoed once the test has ended.
	t.Cleanup(func() { l.mu.Lock(); l.done = true; l.mu.Unlock() })
	return l
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.echo != nil && !l.done {
		l.echo.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records parses the JSON log lines.
func (l *logBuffer) records() []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// requests lists "METHOD path status" of every request the server logged.
func (l *logBuffer) requests() []string {
	var out []string
	for _, r := range l.records() {
		if r["msg"] == "request" {
			out = append(out, fmt.Sprintf("%v %v %v", r["method"], r["path"], r["status"]))
		}
	}
	return out
}

// truss builds a real Truss handler on the stack with overrides, logging at
// info (every request) into logs.
func truss(t *testing.T, overrides map[string]string, logs *logBuffer) http.Handler {
	t.Helper()
	cfg := testenv.Config(t, overrides)
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return server.New(cfg, logger, testenv.Pool(t, cfg)).Handler()
}

// dashboardPage is the whole "dashboard": a page whose script calls the API
// the way a single-page app does, with fetch and credentials: 'include',
// reading the CSRF token from document.cookie before every write. The test
// calls runSteps through the DevTools protocol; every result also lands in
// window.trussResults and in the page (#log) for a human looking at it.
const dashboardPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Truss browser test dashboard</title></head>
<body>
<h1>Truss browser test dashboard</h1>
<ol id="log"></ol>
<script>
window.API = %s;
window.trussResults = [];

function csrfTokens() {
  return document.cookie.split(';').map(c => c.trim())
    .filter(c => c.startsWith('truss_csrf=')).map(c => c.slice('truss_csrf='.length));
}

async function call(step) {
  const r = {method: step.method, path: step.path, status: 0, body: null, error: '', csrf_sent: '', cookies_after: ''};
  const init = {method: step.method, credentials: 'include', headers: {}};
  if (step.body !== undefined && step.body !== null) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(step.body);
  }
  if (step.method !== 'GET' && step.method !== 'HEAD') {
    const tokens = csrfTokens();
    r.csrf_sent = tokens.length ? tokens[tokens.length - 1] : '';
    init.headers['X-CSRF-Token'] = r.csrf_sent;
  }
  try {
    const resp = await fetch(window.API + step.path, init);
    r.status = resp.status;
    const text = await resp.text();
    try { r.body = text ? JSON.parse(text) : null; } catch (e) { r.body = text; }
  } catch (e) {
    r.error = e.name + ': ' + e.message;
  }
  r.cookies_after = document.cookie;
  return r;
}

window.runSteps = async function (steps) {
  const out = [];
  for (const step of steps) {
    const r = await call(step);
    out.push(r);
    window.trussResults.push(r);
    const li = document.createElement('li');
    li.textContent = r.method + ' ' + r.path + ' -> ' + (r.error || r.status);
    document.getElementById('log').appendChild(li);
  }
  return out;
};
</script>
</body></html>
`

// dashboard serves dashboardPage at / and /test-page with api as the API
// base URL ("" for same-origin).
func dashboard(api string) http.Handler {
	apiJSON, _ := json.Marshal(api) // escapes <, > and &: safe inside <script>
	page := fmt.Sprintf(dashboardPage, apiJSON)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/", "/test-page":
		case "/favicon.ico":
			w.WriteHeader(http.StatusNoContent) // keeps the browser console free of 404s
			return
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, page)
	})
}

// step is one fetch the page makes.
type step struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   any    `json:"body,omitempty"`
}

// result is what the page saw.
type result struct {
	Method       string          `json:"method"`
	Path         string          `json:"path"`
	Status       int             `json:"status"`
	Body         json.RawMessage `json:"body"`
	Error        string          `json:"error"`
	CSRFSent     string          `json:"csrf_sent"`
	CookiesAfter string          `json:"cookies_after"`
}

func (r result) String() string {
	if r.Error != "" {
		return fmt.Sprintf("%s %s: fetch failed: %s", r.Method, r.Path, r.Error)
	}
	return fmt.Sprintf("%s %s: %d %s", r.Method, r.Path, r.Status, r.Body)
}

// principal is the part of the session answer the tests read.
type principal struct {
	IdentityID string `json:"identity_id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
}

func (r result) principal(t *testing.T) principal {
	t.Helper()
	var p principal
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("%s: body is not a principal: %v", r, err)
	}
	return p
}

// browser is one headless Chromium with one tab.
type browser struct {
	t      *testing.T
	ctx    context.Context
	stderr *logBuffer // Chromium's own output, shown on failure

	mu      sync.Mutex
	console []string // console messages, exceptions and browser log entries
}

// newBrowser starts Chromium. Hosts under example.test resolve to 127.0.0.1,
// and a certificate whose chain holds the SPKI pin is accepted (spki may be
// empty). The browser is closed before the test's servers (cleanups run in
// reverse order), so no connection is left for httptest to wait on.
func newBrowser(t *testing.T, ctx context.Context, spki string) *browser {
	t.Helper()
	b := &browser{t: t, stderr: &logBuffer{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // we run as root; Chromium refuses to start sandboxed then
		chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"),
		chromedp.CombinedOutput(b.stderr),
	)
	if spki != "" {
		// Honoured because chromedp always passes --user-data-dir.
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", spki))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	var quiet sync.Mutex // chromedp may log from its goroutines; never after the test
	ended := false
	logf := func(format string, args ...any) {
		quiet.Lock()
		defer quiet.Unlock()
		if !ended {
			t.Logf("chromedp: "+format, args...)
		}
	}
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		if t.Failed() {
			b.dumpState()
		}
		cancelBrowser()
		cancelAlloc()
		quiet.Lock()
		ended = true
		quiet.Unlock()
	})
	b.ctx = bctx
	if err := chromedp.Listen(bctx, b.record); err != nil {
		t.Fatalf("start Chromium: %v\nChromium output:\n%s", err, b.stderr.String())
	}
	return b
}

// record keeps what the page and the browser said (called on chromedp's
// reader goroutine: it only appends).
func (b *browser) record(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		line = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			line += " " + ev.ExceptionDetails.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		line = fmt.Sprintf("browser log (%s/%s): %s %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.console = append(b.console, line)
	b.mu.Unlock()
}

func (b *browser) consoleLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// dumpState logs what helps explain a failure.
func (b *browser) dumpState() {
	for _, l := range b.consoleLines() {
		b.t.Log(l)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`)); err == nil {
		b.t.Logf("page text:\n%s", text)
	}
	if out := b.stderr.String(); out != "" {
		b.t.Logf("Chromium output:\n%s", out)
	}
}

// open loads url in the tab and waits until the page's script is ready.
func (b *browser) open(url string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url)); err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`typeof window.runSteps === 'function'`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		b.t.Fatalf("%s did not load the dashboard script: %v", url, err)
	}
}

// run has the page make the fetches in order and returns what it saw.
func (b *browser) run(steps ...step) []result {
	b.t.Helper()
	raw, err := json.Marshal(steps)
	if err != nil {
		b.t.Fatal(err)
	}
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]result](`runSteps(`+string(raw)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("runSteps: %v", err)
	}
	if len(res) != len(steps) {
		b.t.Fatalf("runSteps returned %d results for %d steps", len(res), len(steps))
	}
	for _, r := range res {
		b.t.Logf("browser: %s", r)
	}
	return res
}

// cookies returns every cookie in the browser's store.
func (b *browser) cookies() []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		b.t.Fatalf("Storage.getCookies: %v", err)
	}
	return res.Cookies
}

// named returns the cookies called name.
func named(cookies []*network.Cookie, name string) []*network.Cookie {
	var out []*network.Cookie
	for _, c := range cookies {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

func describe(cookies []*network.Cookie) string {
	var parts []string
	for _, c := range cookies {
		parts = append(parts, fmt.Sprintf("%s(domain=%s path=%s httpOnly=%v secure=%v sameSite=%q)",
			c.Name, c.Domain, c.Path, c.HTTPOnly, c.Secure, c.SameSite))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// setCookie puts a cookie in the browser's store as if url had set it.
func (b *browser) setCookie(p network.SetCookieParams) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, network.SetCookie, p); err != nil {
		b.t.Fatalf("Network.setCookie %s: %v", p.Name, err)
	}
}

// uniqueEmail gives every run its own account.
func uniqueEmail() string { return "browser-" + strings.ToLower(rand.Text()[:10]) + "@example.com" }

const password = testenv.Password

// expectStatus fails the test unless the page got want.
func expectStatus(t *testing.T, r result, want int) {
	t.Helper()
	if r.Error != "" || r.Status != want {
		t.Fatalf("%s; want %d", r, want)
	}
}

// waitConsole waits up to 5 s for a browser console or log line containing
// text; events arrive asynchronously.
func (b *browser) waitConsole(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if slices.ContainsFunc(b.consoleLines(), func(l string) bool { return strings.Contains(l, text) }) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the browser logged nothing containing %q; it logged %q", text, b.consoleLines())
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
