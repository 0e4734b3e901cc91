package dashboardtest

import (
	"fmt"
	"strings"
	"testing"
)

// TestDemoIsReadOnlyAndSeparate: /demo/ shows the demo tenant's example data
// without signing in; a write is refused (403 demo_read_only) and the UI
// says so; the demo cookie is scoped to /demo and never makes /api/ resolve
// to the demo; a real login on / with the demo cookie present gives the
// real dashboard without demo data and clears the demo cookie; /demo/ is
// still the demo afterwards, even with the real session cookie present.
func TestDemoIsReadOnlyAndSeparate(t *testing.T) {
	st := startTruss(t, nil)
	real := uniqueEmail("real")
	st.register(t, real, true)
	b := newBrowser(t, st.base)

	b.open("/demo/")
	b.waitPath("/demo/admin/users")
	b.waitText("read-only demo")
	b.waitText("ada@example.com")
	b.screenshot("demo-users")
	demoCookie := func() int {
		n := 0
		for _, c := range b.cookies("/demo/") {
			if c.Name == "truss_demo" {
				n++
				if c.Path != "/demo" || !c.HTTPOnly {
					t.Errorf("truss_demo cookie path=%q httpOnly=%v, want /demo and HttpOnly", c.Path, c.HTTPOnly)
				}
			}
		}
		return n
	}
	if demoCookie() != 1 {
		t.Fatalf("no truss_demo cookie after opening /demo/")
	}
	for _, c := range b.cookies("/api/auth/session") {
		if c.Name == "truss_demo" {
			t.Errorf("truss_demo is sent to /api/: %+v", c)
		}
	}

	b.click("ada@example.com")
	b.waitText("Password and recovery")
	b.click("Deactivate")
	b.do("read-only notice", waitSelector(`[data-error-code=demo_read_only]`))
	b.waitText("This is a read-only demo")
	b.screenshot("demo-write-blocked")
	b.click("System health")
	b.do("demo health", waitSelector(`tr[data-dependency=postgres]`))
	b.screenshot("demo-health")

	// The server, not only the SPA, enforces the separation.
	var probe struct {
		Write       int    `json:"write"`
		WriteCode   string `json:"write_code"`
		OffDemo     int    `json:"off_demo"`
		ImportWrite int    `json:"import_write"`
	}
	b.eval(`(async () => {
		const w = await fetch('/demo/api/admin/identities', {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'}, body: '{"email":"x@example.com"}'});
		const wb = await w.json();
		const i = await fetch('/demo/api/auth/logout', {method: 'POST', credentials: 'include'});
		const s = await fetch('/api/auth/session', {credentials: 'include'});
		return {write: w.status, write_code: wb.error.code, off_demo: s.status, import_write: i.status};
	})()`, &probe)
	if probe.Write != 403 || probe.WriteCode != "demo_read_only" || probe.ImportWrite != 403 {
		t.Errorf("demo writes answered %+v, want 403 demo_read_only", probe)
	}
	if probe.OffDemo != 401 {
		t.Errorf("GET /api/auth/session with only the demo cookie answered %d, want 401 (never the demo tenant)", probe.OffDemo)
	}

	// A real login on / with the demo cookie present.
	b.open("/login")
	b.waitText("Sign in")
	if demoCookie() != 1 {
		t.Fatalf("the demo cookie should still be present before the real login")
	}
	b.fill(`input[name=email]`, real)
	b.fill(`input[name=password]`, password)
	b.click("Sign in")
	b.waitPath("/account")
	b.waitText(real)
	b.screenshot("real-after-demo")
	var page string
	b.eval(`document.body.innerText`, &page)
	if strings.Contains(page, "demo@example.com") || strings.Contains(page, "read-only demo") {
		t.Errorf("the real dashboard shows demo data:\n%s", page)
	}
	if n := demoCookie(); n != 0 {
		t.Errorf("a real login left %d truss_demo cookie(s)", n)
	}
	b.open("/admin/users")
	b.waitText(real)
	b.eval(`document.body.innerText`, &page)
	if strings.Contains(page, "ada@example.com") {
		t.Errorf("the real user list shows demo users:\n%s", page)
	}

	// /demo/ is still the demo, with the real session cookie in the jar.
	b.open("/demo/account")
	b.waitText("demo@example.com")
	b.waitText("read-only demo")
	b.eval(`document.body.innerText`, &page)
	if strings.Contains(page, real) {
		t.Errorf("/demo/ shows the real account:\n%s", page)
	}
	var who struct {
		Email  string `json:"email"`
		IsDemo bool   `json:"is_demo"`
	}
	b.eval(`fetch('/demo/api/auth/session', {credentials: 'include'}).then(r => r.json())`, &who)
	if who.Email != "demo@example.com" || !who.IsDemo {
		t.Errorf("/demo/api/auth/session with the real cookie present answered %+v, want the demo principal", who)
	}
	b.eval(`fetch('/api/auth/session', {credentials: 'include'}).then(r => r.json())`, &who)
	if who.Email != real || who.IsDemo {
		t.Errorf("/api/auth/session answered %+v, want the real account", who)
	}
	b.screenshot("demo-still-demo")
}

// TestDemoShowsEverySection: /demo/ shows every section with the demo
// tenant's example data, read-only. Permissions lists the seeded tuples,
// the check playground answers allowed and denied from them (POST
// /demo/api/keto/check is the one POST the demo answers: a check reads),
// and adding a tuple is refused with the demo notice; the OAuth2 clients,
// the API keys (rotating one is refused, no secret is shown), the email
// settings and outbox and the visitor's sessions are listed.
func TestDemoShowsEverySection(t *testing.T) {
	st := startTruss(t, nil)
	b := newBrowser(t, st.base)
	b.open("/demo/")
	b.waitPath("/demo/admin/users")
	b.waitText("ada@example.com")

	// Permissions: every section's nav link is back in the demo.
	b.click("Permissions")
	b.waitPath("/demo/permissions")
	b.do("seeded tuples", waitSelector(`tr[data-tuple="Organization:acme#owners@demo@example.com"]`))
	b.waitText("ada@example.com")
	b.selectOption(`#tuple-filter`, "Project")
	b.do("project tuples", waitSelector(`tr[data-tuple="Project:apollo#editors@Organization:acme#members"]`))
	b.screenshot("demo-permissions")

	check := func(object, relation, subject string, want bool) {
		t.Helper()
		b.selectOption(`#check-ns`, "Project")
		b.fill(`#check-obj`, object)
		b.selectOption(`#check-rel`, relation)
		b.fill(`#check-sub`, subject)
		b.do("check "+object+" "+relation+" "+subject, clickIn(`form[data-testid=check]`, "Check"))
		b.do("check result", waitSelector(fmt.Sprintf(`[data-testid=check-result][data-allowed=%t]`, want)))
	}
	// Grace is a member of Acme, whose members edit apollo...
	check("apollo", "edit", "grace@example.com", true)
	if got := b.text(`[data-testid=check-result]`); got != "Allowed: Project:apollo#edit@grace@example.com" {
		t.Errorf("check result reads %q", got)
	}
	b.screenshot("demo-permissions-check-allowed")
	// ...and Acme's members may view Globex's hyperion, not edit it.
	check("hyperion", "view", "ada@example.com", true)
	check("hyperion", "edit", "ada@example.com", false)
	b.screenshot("demo-permissions-check-denied")

	// Adding a tuple is refused, politely.
	b.selectOption(`#add-ns`, "Organization")
	b.fill(`#add-obj`, "acme")
	b.selectOption(`#add-rel`, "members")
	b.fill(`#add-sub`, "mallory@example.com")
	b.click("Add tuple")
	b.do("read-only notice", waitSelector(`[data-testid=tuple-add] [data-error-code=demo_read_only]`))
	b.waitText("This is a read-only demo")
	b.screenshot("demo-permissions-write-blocked")

	// The server answers the check, refuses every other write.
	var probe struct {
		Check   int    `json:"check"`
		Allowed bool   `json:"allowed"`
		Put     int    `json:"put"`
		PutCode string `json:"put_code"`
		Model   int    `json:"model"`
	}
	b.eval(`(async () => {
		const c = await fetch('/demo/api/keto/check', {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({namespace: 'Organization', object: 'acme', relation: 'manage', subject_id: 'katherine@example.com'})});
		const cb = await c.json();
		const p = await fetch('/demo/api/keto/relation-tuples', {method: 'PUT', credentials: 'include', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({namespace: 'Organization', object: 'acme', relation: 'owners', subject_id: 'mallory@example.com'})});
		const pb = await p.json();
		const m = await fetch('/demo/api/keto/model', {method: 'PUT', credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: ''});
		return {check: c.status, allowed: cb.allowed, put: p.status, put_code: pb.error.code, model: m.status};
	})()`, &probe)
	if probe.Check != 200 || !probe.Allowed || probe.Put != 403 || probe.PutCode != "demo_read_only" || probe.Model != 403 {
		t.Errorf("demo permission requests answered %+v, want the check 200 allowed and the writes 403 demo_read_only", probe)
	}

	// OAuth2 clients.
	b.click("OAuth2")
	b.waitPath("/demo/oauth2/clients")
	b.waitText("Acme web app")
	b.waitText("Acme mobile app")
	b.waitText("Public (PKCE)")
	b.screenshot("demo-oauth2-clients")
	var hasSecret bool
	b.eval(`fetch('/demo/api/hydra/clients', {credentials: 'include'}).then(r => r.json()).then(b => b.clients.length === 0 || b.clients.some(c => 'client_secret' in c))`, &hasSecret)
	if hasSecret {
		t.Errorf("the demo lists no clients, or a client_secret")
	}

	// API keys: listed (prefixes only); rotating one is refused, no secret shown.
	b.click("API keys")
	b.waitPath("/demo/keys")
	active := `tr[data-testid=key-row][data-label="Acme web app"][data-status=active]`
	b.do("seeded keys", waitSelector(active))
	b.do("revoked key", waitSelector(`tr[data-testid=key-row][data-label=Prototype][data-status=revoked]`))
	b.waitText("Billing worker")
	b.waitText("truss_sk_H4RW7B…")
	b.do("rotate", clickIn(active, "Rotate"))
	b.do("yes, rotate", clickIn(active, "Yes, rotate"))
	b.do("read-only notice", waitSelector(`[data-error-code=demo_read_only]`))
	b.waitText("This is a read-only demo")
	b.screenshot("demo-keys-write-blocked")
	var keysProbe struct {
		Secret bool `json:"secret"`
		Create int  `json:"create"`
	}
	b.eval(`(async () => {
		const l = await (await fetch('/demo/api/keys', {credentials: 'include'})).json();
		const c = await fetch('/demo/api/keys', {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'}, body: '{"key_type":"anon"}'});
		return {secret: !!document.querySelector('[data-testid=key-secret]') || l.keys.some(k => 'key' in k), create: c.status};
	})()`, &keysProbe)
	if keysProbe.Secret || keysProbe.Create != 403 {
		t.Errorf("demo keys: %+v, want no secret anywhere and creating 403", keysProbe)
	}

	// Email: the SMTP settings (no password) and the outbox.
	b.click("Email")
	b.waitPath("/demo/admin/email")
	b.do("outbox", waitSelector(`tr[data-outbox="3"][data-status=sent]`))
	b.waitText("Truss test message")
	b.waitText("550 5.1.1 mailbox unavailable")
	b.screenshot("demo-email")

	// The visitor's own sessions.
	b.open("/demo/account/sessions")
	b.do("sessions", waitSelector(`tr[data-session][data-current=true]`))
	b.screenshot("demo-sessions")
}
