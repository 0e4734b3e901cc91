package dashboardtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/testenv"
	"github.com/trussdev/truss/web"
)

const (
	testTimeout = 3 * time.Minute
	password    = "correct-horse-battery-staple-42"
	waitTimeout = 40 * time.Second
)

// stack is one Truss server on the real stack, reached as http://localhost:port.
type stack struct {
	base string
	pool *pgxpool.Pool
}

func startTruss(t *testing.T, overrides map[string]string) stack {
	t.Helper()
	if !web.Built() {
		t.Fatal("the dashboard is not built into this test binary: run `make build` (or `npm --prefix web ci && npm --prefix web run build`) first")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveTruss(t, ln, fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port), overrides)
}

// serveTruss serves Truss on ln, reached by browsers at base
// (TRUSS_PUBLIC_URL).
func serveTruss(t *testing.T, ln net.Listener, base string, overrides map[string]string) stack {
	t.Helper()
	o := map[string]string{"TRUSS_PUBLIC_URL": base}
	for k, v := range overrides {
		o[k] = v
	}
	cfg := testenv.Config(t, o)
	pool := testenv.Pool(t, cfg)
	srv := &http.Server{Handler: server.New(cfg, testenv.Logger(t), pool).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return stack{base: base, pool: pool}
}

// register creates an account through the API (not the browser) and
// returns its identity id; admin makes it a Truss admin.
func (s stack) register(t *testing.T, email string, admin bool) string {
	t.Helper()
	b := testenv.NewBrowser(t, s.base)
	b.Do("GET", "/api/auth/login", nil, nil)
	var p struct {
		IdentityID string `json:"identity_id"`
	}
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, &p); resp.StatusCode != 200 {
		t.Fatalf("register %s: %d", email, resp.StatusCode)
	}
	if admin {
		if _, err := s.pool.Exec(context.Background(), `INSERT INTO truss_internal.admins (identity_id) VALUES ($1)`, p.IdentityID); err != nil {
			t.Fatal(err)
		}
	}
	return p.IdentityID
}

func uniqueEmail(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:10]) + "@example.com"
}

// browser is one headless Chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot *shots

	mu  sync.Mutex
	log []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	b := &browser{t: t, base: base, shot: newShots(t)}
	quiet := false
	var qmu sync.Mutex
	logf := func(f string, a ...any) {
		qmu.Lock()
		defer qmu.Unlock()
		if !quiet {
			t.Logf("chromedp: "+f, a...)
		}
	}
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		if t.Failed() {
			b.mu.Lock()
			t.Logf("browser console:\n%s", strings.Join(b.log, "\n"))
			b.mu.Unlock()
			b.screenshot("failure")
		}
		cancelBrowser()
		cancelAlloc()
		qmu.Lock()
		quiet = true
		qmu.Unlock()
	})
	b.ctx = bctx
	err := chromedp.Listen(bctx, func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			line = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
		case *runtime.EventExceptionThrown:
			line = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				line += " " + ev.ExceptionDetails.Exception.Description
			}
		default:
			return
		}
		b.mu.Lock()
		b.log = append(b.log, line)
		b.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

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
	t.Fatal("Chromium not found: install it (apt-get install chromium) or set TRUSS_CHROMIUM")
	return ""
}

// do runs actions, failing the test with what the page shows on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatal(what, err)
	}
}

func (b *browser) fatal(what string, err error) {
	b.t.Helper()
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	b.t.Fatalf("%s: %v\npage %s shows:\n%s", what, err, b.url(), text)
}

func (b *browser) url() string {
	u, _ := chromedp.Run(b.ctx, chromedp.Location())
	return u
}

// poll waits until the JavaScript expression is truthy.
func poll(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[any](js, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		return err
	})
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// waitText waits until the page's text contains s.
func (b *browser) waitText(s string) {
	b.t.Helper()
	js := fmt.Sprintf(`document.body && document.body.innerText.includes(%s)`, jsString(s))
	b.do("wait for text "+s, poll(js))
}

// waitPath waits until the location's path (and query) starts with p.
func (b *browser) waitPath(p string) {
	b.t.Helper()
	js := fmt.Sprintf(`(location.pathname + location.search).startsWith(%s)`, jsString(p))
	b.do("wait for path "+p, poll(js))
}

// fill sets a React-controlled input the way typing does (the native value
// setter plus an input event).
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el) return false;
		const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
		Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, %s);
		el.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`, jsString(sel), jsString(value))
	b.do("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel), chromedp.NodeVisible), poll(js))
}

// click clicks the first enabled button or link whose text is label.
func (b *browser) click(label string) {
	b.t.Helper()
	sel := fmt.Sprintf(`//*[(self::button or self::a) and normalize-space()=%s and not(@disabled)]`, xpathString(label))
	b.do("click "+label, chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.fatal("read "+sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates js (awaiting a promise) into out.
func (b *browser) eval(js string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
	if err == nil {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		b.fatal("evaluate "+js, err)
	}
}

// cookies lists the cookies the browser would send to path.
func (b *browser) cookies(path string) []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + path}})
	if err != nil {
		b.fatal("Network.getCookies", err)
	}
	return res.Cookies
}

func (b *browser) screenshot(name string) string {
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return b.shot.save(b.t, name, buf)
}

// shots numbers screenshots in the order they are taken.
type shots struct {
	dir string
	mu  sync.Mutex
	n   int
}

func newShots(t *testing.T) *shots {
	dir := os.Getenv("TRUSS_ARTIFACTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, "dashboard", t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &shots{dir: dir}
}

func (s *shots) save(t *testing.T, name string, png []byte) string {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	p := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	t.Logf("screenshot: %s", p)
	return p
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func xpathString(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// totp computes the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret.
func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		t.Fatalf("TOTP secret %q is not base32: %v", secret, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1_000_000)
}

// mailCode waits for a 6-digit code mailed to addr and deletes the mail.
func mailCode(t *testing.T, addr string) string {
	t.Helper()
	m, code := testenv.WaitForMail(t, addr, regexp.MustCompile(`\b(\d{6})\b`))
	testenv.DeleteMail(t, m.ID)
	return code
}

// entryBundle reports the dashboard's entry script and its gzipped size.
func entryBundle(t *testing.T) (string, int) {
	t.Helper()
	root := filepath.Join("..", "..", "web", "dist")
	html, err := os.ReadFile(filepath.Join(root, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`src="/(assets/[^"]+\.js)"`).FindSubmatch(html)
	if m == nil {
		t.Fatalf("no entry script in web/dist/index.html")
	}
	js, err := os.ReadFile(filepath.Join(root, string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(js)
	_ = zw.Close()
	return string(m[1]), buf.Len()
}

// waitSelector waits until sel (a CSS selector) matches a visible element.
func waitSelector(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// clickIn clicks the button labelled label inside the element sel.
func clickIn(sel, label string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => {
		const root = document.querySelector(%s);
		const btn = root && [...root.querySelectorAll('button')].find(b => b.textContent.trim() === %s && !b.disabled);
		if (btn) btn.click();
		return !!btn;
	})()`, jsString(sel), jsString(label))
	return poll(js)
}
