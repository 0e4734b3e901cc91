package dashboardtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// v1Get calls GET /v1/db/<path> with key in the apikey header and returns
// the status, the error code (if any) and the body.
func v1Get(t *testing.T, base, path, key string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v1/db/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("apikey", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/db/%s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e.Error.Code, string(raw)
}

// secretShown reads the key shown once on the API keys screen.
func (b *browser) secretShown() string {
	b.t.Helper()
	b.do("secret shown", waitSelector(`[data-testid=key-secret-value]`))
	var s string
	b.eval(`document.querySelector('[data-testid=key-secret-value]').value`, &s)
	return s
}

// confirmInRow clicks action (Rotate, Revoke) in the row sel, then the
// confirm step's button.
func (b *browser) confirmInRow(sel, action, confirm string) {
	b.t.Helper()
	b.do(action+" in "+sel, clickIn(sel, action))
	b.do(confirm+" step", waitSelector(sel+` [data-testid=key-confirm]`))
	b.do(confirm+" in "+sel, clickIn(sel, confirm))
}

var anonKeyRE = regexp.MustCompile(`^truss_pk_[A-Z2-7]{26}$`)

// TestAPIKeys: an admin opens API keys from the nav, creates an anon key
// with a label and reads its secret, shown once in a read-only field with a
// warning; the key reads a table granted to anon through the real
// /v1/db/<table> (200) while no key gives 401 api_key_missing. Rotating it
// (with a confirm step) shows a new secret: the old one gives 401
// api_key_invalid, the new one 200. The secret is gone after dismissing it
// or leaving the screen. Revoking the new key makes it 401 too, and the
// table shows both keys revoked with their times and last use. A non-admin
// is not offered service_role, and the server's refusal (403 forbidden) is
// shown when one is asked for anyway.
func TestAPIKeys(t *testing.T) {
	st := startTruss(t, nil)
	if _, err := st.pool.Exec(context.Background(), `
		CREATE TABLE todos (id int PRIMARY KEY, title text NOT NULL);
		INSERT INTO todos VALUES (1, 'buy milk');
		GRANT SELECT ON todos TO anon;`); err != nil {
		t.Fatal(err)
	}
	if code, errCode, body := v1Get(t, st.base, "todos", ""); code != 401 || errCode != "api_key_missing" {
		t.Fatalf("GET /v1/db/todos without a key: %d %s", code, body)
	}

	b, _ := st.signedInAdmin(t, "keysadmin", "/account")
	b.click("API keys")
	b.waitPath("/keys")
	b.waitText("No API keys yet.")
	if got, want := b.text(`[data-testid=key-base-url]`), st.base+"/v1/db/<table>"; got != want {
		t.Errorf("base URL reads %q, want %q", got, want)
	}
	if snippet := b.text(`[data-testid=key-snippet]`); !strings.Contains(snippet, "new PostgrestClient('"+st.base+"/v1/db', { headers: { apikey } })") {
		t.Errorf("postgrest-js snippet reads %q", snippet)
	}
	if snippet := b.text(`[data-testid=key-supabase-snippet]`); !strings.Contains(snippet, "createClient('"+st.base+"', '<key>')") {
		t.Errorf("supabase-js snippet reads %q", snippet)
	}
	b.screenshot("keys-empty")

	// Create an anon key; its secret is shown once, read-only, with a warning.
	b.click("New API key")
	b.fill(`[data-testid=key-create] input[name=label]`, "web app")
	var serviceDisabled bool
	b.eval(`document.querySelector('[data-testid=key-type-service_role]').disabled`, &serviceDisabled)
	if serviceDisabled {
		t.Errorf("an admin is not offered service_role")
	}
	b.do("anon is the default", poll(`document.querySelector('[data-testid=key-type-anon]').checked`))
	b.click("Create API key")
	first := b.secretShown()
	if !anonKeyRE.MatchString(first) {
		t.Fatalf("the shown key %q is not an anon key", first)
	}
	var readOnly bool
	b.eval(`document.querySelector('[data-testid=key-secret-value]').readOnly`, &readOnly)
	if !readOnly {
		t.Errorf("the secret field is editable")
	}
	if notice := b.text(`[data-testid=key-secret]`); !strings.Contains(notice, "It will not be shown again") || !strings.Contains(notice, "“web app”") {
		t.Errorf("secret notice reads %q", notice)
	}
	if got := b.text(`[data-testid=key-secret] button.secondary`); got != "Copy" {
		t.Errorf("the copy button reads %q", got)
	}
	b.do("copy", clickIn(`[data-testid=key-secret]`, "Copy"))
	b.do("copied", poll(`document.querySelector('[data-testid=key-secret] button.secondary').textContent === 'Copied'`))
	row := `tr[data-testid=key-row][data-label="web app"][data-status=active]`
	b.do("key listed", waitSelector(row))
	if got, want := b.text(row+` [data-testid=key-prefix]`), first[:len("truss_pk_")+6]+"…"; got != want {
		t.Errorf("prefix reads %q, want %q", got, want)
	}
	if got := b.text(row + ` [data-testid=key-last-used]`); got != "never" {
		t.Errorf("last used of a new key reads %q, want never", got)
	}
	if got := b.text(row + ` [data-testid=key-status]`); got != "active" {
		t.Errorf("status reads %q, want active", got)
	}
	b.screenshot("keys-created-secret")

	// The key works on the real database API.
	if code, _, body := v1Get(t, st.base, "todos?select=title", first); code != 200 || !strings.Contains(body, `"buy milk"`) {
		t.Fatalf("GET /v1/db/todos with the new key: %d %s", code, body)
	}

	// Dismissed, the secret is nowhere on the page.
	b.click("I saved it, hide the key")
	b.do("secret hidden", poll(`!document.querySelector('[data-testid=key-secret]')`))
	var html string
	b.eval(`document.documentElement.outerHTML`, &html)
	if strings.Contains(html, first) {
		t.Errorf("the page still holds the secret after it was dismissed")
	}

	// Rotate, with a confirm step: a new secret replaces the old one.
	b.confirmInRow(row, "Rotate", "Yes, rotate")
	second := b.secretShown()
	if !anonKeyRE.MatchString(second) || second == first {
		t.Fatalf("the rotated key %q is not a new anon key", second)
	}
	b.waitText("New secret for the anon key “web app”: copy it now.")
	b.waitText("The previous key " + first[:len("truss_pk_")+6] + "… no longer works.")
	b.do("old key revoked", waitSelector(`tr[data-testid=key-row][data-label="web app"][data-status=revoked]`))
	if got, want := b.text(row+` [data-testid=key-prefix]`), second[:len("truss_pk_")+6]+"…"; got != want {
		t.Errorf("the active key's prefix reads %q, want %q", got, want)
	}
	b.waitText("replaces " + first[:len("truss_pk_")+6] + "…")
	b.screenshot("keys-rotated")
	if code, errCode, body := v1Get(t, st.base, "todos", first); code != 401 || errCode != "api_key_invalid" {
		t.Errorf("the rotated-out key answered %d %s, want 401 api_key_invalid", code, body)
	}
	if code, _, body := v1Get(t, st.base, "todos?select=title", second); code != 200 || !strings.Contains(body, `"buy milk"`) {
		t.Errorf("the rotated key answered %d %s, want 200 with the row", code, body)
	}

	// Leaving the screen forgets the secret.
	b.click("Account")
	b.waitPath("/account")
	b.click("API keys")
	b.do("list again", waitSelector(row))
	b.eval(`document.documentElement.outerHTML`, &html)
	if strings.Contains(html, second) || strings.Contains(html, "data-testid=\"key-secret\"") {
		t.Errorf("the secret is still shown after leaving the screen")
	}

	// Revoke, with a confirm step (Cancel first leaves the key alone).
	b.do("revoke", clickIn(row, "Revoke"))
	b.waitText("Revoke this key? Apps using it get 401 at once.")
	b.do("cancel", clickIn(row, "Cancel"))
	b.do("confirm gone", poll(`!document.querySelector('[data-testid=key-confirm]')`))
	b.confirmInRow(row, "Revoke", "Yes, revoke")
	b.waitText("Key “web app” revoked: it no longer works.")
	b.do("no active key", poll(`document.querySelectorAll('tr[data-testid=key-row][data-status=revoked]').length === 2 && !document.querySelector('tr[data-status=active]')`))
	if code, errCode, body := v1Get(t, st.base, "todos", second); code != 401 || errCode != "api_key_invalid" {
		t.Errorf("the revoked key answered %d %s, want 401 api_key_invalid", code, body)
	}
	var buttons int
	b.eval(`document.querySelectorAll('tr[data-status=revoked] button').length`, &buttons)
	if buttons != 0 {
		t.Errorf("revoked keys offer %d buttons, want none", buttons)
	}

	// Reloaded: both keys revoked with their revocation time, both used.
	b.open("/keys")
	b.do("revoked rows", poll(`document.querySelectorAll('tr[data-testid=key-row][data-status=revoked]').length === 2`))
	var rows []struct{ Status, LastUsed string }
	b.eval(`[...document.querySelectorAll('tr[data-testid=key-row]')].map(r => ({
		status: r.querySelector('[data-testid=key-status]').innerText.trim(),
		lastused: r.querySelector('[data-testid=key-last-used]').innerText.trim()}))`, &rows)
	for _, r := range rows {
		if !strings.HasPrefix(r.Status, "revoked") || len(r.Status) <= len("revoked")+4 {
			t.Errorf("a revoked key's status reads %q, want revoked and its time", r.Status)
		}
		if r.LastUsed == "never" || r.LastUsed == "" {
			t.Errorf("a used key's last use reads %q", r.LastUsed)
		}
	}
	if len(rows) != 2 {
		t.Errorf("the table lists %d keys, want 2: %+v", len(rows), rows)
	}
	b.screenshot("keys-revoked")

	// A non-admin: service_role is not offered, and asked for anyway the
	// server refuses it and the form shows why.
	other := uniqueEmail("keysuser")
	st.register(t, other, false)
	u := newBrowser(t, st.base)
	u.signIn(other, "/keys")
	u.click("New API key")
	u.do("form", waitSelector(`[data-testid=key-create]`))
	u.waitText("(admins only)")
	var disabled bool
	u.eval(`document.querySelector('[data-testid=key-type-service_role]').disabled`, &disabled)
	if !disabled {
		t.Errorf("a non-admin is offered service_role")
	}
	u.fill(`[data-testid=key-create] input[name=label]`, "sneaky")
	u.do("force service_role", poll(`(() => {
		const r = document.querySelector('[data-testid=key-type-service_role]');
		r.disabled = false;
		r.click();
		return r.checked;
	})()`))
	u.click("Create API key")
	u.do("refusal", waitSelector(`[data-testid=key-create] [data-error-code=forbidden]`))
	u.waitText("Only Truss admins may create or rotate service_role keys.")
	u.waitText("service_role bypasses row-level security on the whole database; ask an admin, or use an anon key.")
	u.screenshot("keys-non-admin-refused")
	var n int
	u.eval(`fetch('/api/keys', {credentials: 'include'}).then(r => r.json()).then(b => b.keys.length)`, &n)
	if n != 0 {
		t.Errorf("the refused request left %d keys", n)
	}
}
