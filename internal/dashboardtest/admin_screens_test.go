package dashboardtest

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

// selectOption sets a React-controlled <select> the way a user's choice
// does (the native value setter plus a change event).
func (b *browser) selectOption(sel, value string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el || ![...el.options].some(o => o.value === %s)) return false;
		Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(el, %s);
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return el.value === %s;
	})()`, jsString(sel), jsString(value), jsString(value), jsString(value))
	b.do("select "+value+" in "+sel, poll(js))
}

// signedInAdmin registers an admin (a unique address starting with
// prefix) and returns a browser signed in as them at path, and the address.
func (s stack) signedInAdmin(t *testing.T, prefix, path string) (*browser, string) {
	email := uniqueEmail(prefix)
	s.register(t, email, true)
	b := newBrowser(t, s.base)
	b.signIn(email, path)
	return b, email
}

// signIn signs in on the dashboard's login page and waits for path.
func (b *browser) signIn(email, path string) {
	b.t.Helper()
	b.open("/login?next=" + path)
	b.fill(`input[name=email]`, email)
	b.fill(`input[name=password]`, password)
	b.click("Sign in")
	b.waitPath(path)
}

// TestPermissionsPlayground: a user adds a relation tuple on the
// permissions screen, sees it listed, checks a permission the model
// derives from it (allowed) and one it does not give (denied), expands the
// relation into its tree, and opens the OPL model editor, whose invalid
// OPL is shown with Keto's line and column.
func TestPermissionsPlayground(t *testing.T) {
	st := startTruss(t, nil)
	email := uniqueEmail("perm")
	st.register(t, email, false)
	b := newBrowser(t, st.base)
	b.signIn(email, "/permissions")
	b.waitText("Relation tuples")
	b.do("namespaces", poll(`!!document.querySelector('#add-ns option[value=Organization]')`))
	b.waitText("No tuples in")
	b.screenshot("permissions-empty")

	// Add Organization:acme#members@alice.
	b.selectOption(`#add-ns`, "Organization")
	b.fill(`#add-obj`, "acme")
	b.selectOption(`#add-rel`, "members")
	b.fill(`#add-sub`, "alice")
	b.click("Add tuple")
	b.waitText("Added Organization:acme#members@alice")
	b.do("tuple listed", waitSelector(`tr[data-tuple="Organization:acme#members@alice"]`))
	b.screenshot("permissions-tuple-added")

	// A member may view (the model: view ⊇ edit ⊇ members)...
	check := func(relation, subject string, want bool) {
		t.Helper()
		b.selectOption(`#check-ns`, "Organization")
		b.fill(`#check-obj`, "acme")
		b.selectOption(`#check-rel`, relation)
		b.fill(`#check-sub`, subject)
		b.do("check "+relation+" "+subject, clickIn(`form[data-testid=check]`, "Check"))
		b.do("check result", waitSelector(fmt.Sprintf(`[data-testid=check-result][data-allowed=%t]`, want)))
	}
	check("view", "alice", true)
	if got := b.text(`[data-testid=check-result]`); got != "Allowed: Organization:acme#view@alice" {
		t.Errorf("check result reads %q", got)
	}
	b.screenshot("permissions-check-allowed")
	// ...but not manage, and bob nothing.
	check("manage", "alice", false)
	check("view", "bob", false)
	b.screenshot("permissions-check-denied")

	// Expand: the members of acme.
	b.selectOption(`#expand-ns`, "Organization")
	b.fill(`#expand-obj`, "acme")
	b.selectOption(`#expand-rel`, "members")
	b.click("Expand")
	b.do("expand tree", waitSelector(`[data-testid=expand-tree] [data-node-type=leaf]`))
	b.waitText("alice")
	b.screenshot("permissions-expand")

	// The model editor: Keto's line and column for broken OPL.
	b.click("Permission model (OPL)")
	b.waitPath("/permissions/model")
	b.waitText("default model")
	b.fill(`#opl-text`, "class Doc implements Namespace {\n  related: {\n    owners: User[\n  }\n}\n")
	b.click("Validate")
	b.do("OPL errors", waitSelector(`[data-testid=opl-errors] li[data-line]`))
	b.waitText("Line ")
	b.screenshot("permissions-model-invalid")
}

// TestEmailTestSend: an admin opens the email screen (SMTP settings from
// the environment: the stack's Mailpit), sends a test message and sees
// the step-by-step diagnostic succeed; the message arrives in Mailpit; the
// outbox and its empty state render.
func TestEmailTestSend(t *testing.T) {
	st := startTruss(t, nil)
	b, email := st.signedInAdmin(t, "mailadmin", "/admin/email")
	b.waitText("SMTP server")
	b.do("settings", waitSelector(`[data-testid=smtp-source]`))
	b.waitText("Settings from the environment")
	b.do("password state", waitSelector(`[data-testid=password-set]`))
	b.waitText("Outbox")
	b.screenshot("email-settings")

	b.click("Send test")
	b.do("diagnostic", waitSelector(`[data-testid=smtp-test-ok]`))
	b.waitText("Sent to " + email)
	var steps []struct {
		Step string `json:"step"`
		OK   string `json:"ok"`
	}
	b.eval(`[...document.querySelectorAll('[data-testid=smtp-steps] li')].map(li => ({step: li.dataset.step, ok: li.dataset.ok}))`, &steps)
	names := map[string]bool{}
	for _, s := range steps {
		names[s.Step] = true
		if s.OK != "true" {
			t.Errorf("step %s failed in the diagnostic: %+v", s.Step, steps)
		}
	}
	for _, want := range []string{"send"} {
		if !names[want] {
			t.Errorf("the diagnostic shows no %q step: %+v", want, steps)
		}
	}
	if len(steps) < 3 {
		t.Errorf("the diagnostic shows %d steps, want each of DNS/connect/greeting/.../send: %+v", len(steps), steps)
	}
	b.screenshot("email-test-sent")
	m, _ := testenv.WaitForMail(t, email, regexp.MustCompile(`(?s).+`))
	testenv.DeleteMail(t, m.ID)
	t.Logf("test mail %q arrived in Mailpit; diagnostic steps: %+v", m.Subject, steps)
}

// TestActiveSessions: a user signed in twice (the API registration and this
// browser) sees both sessions, this one marked, and signs out the other.
func TestActiveSessions(t *testing.T) {
	st := startTruss(t, nil)
	email := uniqueEmail("sess")
	st.register(t, email, false) // a session of its own, in another "browser"
	b := newBrowser(t, st.base)
	b.signIn(email, "/account")
	b.click("All your active sessions")
	b.waitPath("/account/sessions")
	b.do("two sessions", poll(`document.querySelectorAll('tr[data-session]').length === 2`))
	b.do("current", waitSelector(`tr[data-current=true]`))
	b.screenshot("sessions")
	b.do("sign out the other", clickIn(`tr[data-current=false]`, "Sign out"))
	b.waitText("Session signed out.")
	b.do("one session", poll(`document.querySelectorAll('tr[data-session]').length === 1 && !!document.querySelector('tr[data-current=true]')`))
	b.waitText("No other sessions")
	b.screenshot("sessions-signed-out-other")
}
