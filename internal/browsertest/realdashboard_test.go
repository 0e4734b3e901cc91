package browsertest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trussdev/truss/web"
)

// TestRealDashboardOnAnotherOrigin deploys the embedded dashboard itself on
// https://dash.example.test with its API base URL set at run time to
// https://api.example.test, and registers through its form: credentials,
// CSRF header and cookies must work across the subdomains.
func TestRealDashboardOnAnotherOrigin(t *testing.T) {
	if !web.Built() {
		t.Fatal("the dashboard is not built into this test binary: run `make build` first")
	}
	ctx := testContext(t)
	dashLn, dashPort := listen(t)
	dash := fmt.Sprintf("https://dash.example.test:%d", dashPort)
	cs, _ := startCrossSiteWith(t, map[string]string{"CORS_ALLOWED_ORIGINS": dash}, "app")
	serve(t, dashLn, web.HandlerWith(web.RuntimeConfig{APIURL: cs.api}), &cs.pki.cert, cs.logs)
	b := newBrowser(t, ctx, cs.pki.spki)

	email := uniqueEmail()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(dash+"/register")); err != nil {
		t.Fatal(err)
	}
	js := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
	q := func(s string) string { raw, _ := json.Marshal(s); return string(raw) }
	fill := func(sel, v string) string {
		return js(`(() => { const el = document.querySelector(%s); if (!el) return false;
			Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, %s);
			el.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, q(sel), q(v))
	}
	until(t, b, fill(`input[name=email]`, email))
	until(t, b, fill(`input[name=password]`, password))
	until(t, b, `(() => { const btn = [...document.querySelectorAll('button')].find(x => x.textContent.trim() === 'Create account' && !x.disabled);
		if (!btn) return false; btn.click(); return true })()`)
	until(t, b, js(`document.body.innerText.includes(%s) && !location.pathname.startsWith('/register')`, q(email)))

	var session []*struct{ Name, Domain string }
	for _, c := range b.cookies() {
		if c.Name == "truss_session" {
			session = append(session, &struct{ Name, Domain string }{c.Name, c.Domain})
		}
	}
	if len(session) != 1 || session[0].Domain != ".example.test" {
		t.Fatalf("truss_session cookies after registering on %s: %+v", dash, session)
	}
	if logs := cs.logs.String(); strings.Contains(logs, "CSRF check failed") {
		t.Errorf("the real dashboard hit a CSRF refusal:\n%s", logs)
	}
}

// until polls a JavaScript expression until it is true (30 s at most).
func until(t *testing.T, b *browser, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	t.Fatalf("timed out waiting for %.120s\npage shows:\n%s\nconsole:\n%s", expr, text, strings.Join(b.consoleLines(), "\n"))
}
