package dashboardtest

import (
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
