package dashboardtest

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/testenv"
)

// TestRegisterVerifyAndTOTP: a visitor registers, verifies the email with
// the code Kratos mailed (read from Mailpit), enrolls an authenticator app
// from the QR/secret of the setup endpoint, creates recovery codes, signs
// out, and signs in again with password and TOTP code.
func TestRegisterVerifyAndTOTP(t *testing.T) {
	st := startTruss(t, nil)
	b := newBrowser(t, st.base)
	email := uniqueEmail("reg")

	b.open("/register")
	b.waitText("Create an account")
	b.screenshot("register")
	// Field errors from the API are shown next to their field.
	b.fill(`input[name=email]`, email)
	b.fill(`input[name=password]`, "short")
	b.click("Create account")
	b.waitText("Password")
	b.do("field error", waitSelector(`[data-field-error=password]`))
	b.screenshot("register-field-error")

	b.fill(`input[name=name]`, "Grace Hopper")
	b.fill(`input[name=password]`, password)
	b.click("Create account")
	b.waitPath("/verify")
	b.waitText("Your account is created")
	mailCode(t, email) // the code Kratos mailed on registration (its flow id is not exposed)
	b.screenshot("verify-send")
	b.click("Send code")
	b.waitText("We sent a code to " + email)
	code := mailCode(t, email)
	b.fill(`input[name=code]`, code)
	b.screenshot("verify-code")
	b.click("Verify")
	b.waitText("is verified")
	b.screenshot("verify-done")

	b.open("/account")
	b.waitText("Two-factor authentication")
	b.waitText("Set up authenticator app")
	b.screenshot("account")
	b.click("Set up authenticator app")
	b.do("QR code", waitSelector(`img.qr`))
	secret := b.text(`[data-testid=totp-secret]`)
	b.screenshot("totp-setup")
	b.fill(`input[name=code]`, totp(t, secret, time.Now()))
	b.click("Verify and enable")
	b.waitText("Authenticator app set up")
	b.do("TOTP enabled", waitSelector(`[data-testid=totp-status]`))

	b.click("Generate recovery codes")
	b.waitText("Store these codes somewhere safe")
	b.screenshot("recovery-codes")
	b.click("I saved them: activate")
	b.waitText("Recovery codes saved and active")
	b.screenshot("account-mfa-enabled")

	b.click("Sign out")
	b.waitPath("/login")
	b.fill(`input[name=email]`, email)
	b.fill(`input[name=password]`, password)
	b.click("Sign in")
	b.waitText("This account uses a second factor")
	b.screenshot("login-second-factor")
	b.fill(`input[name=totp_code]`, totp(t, secret, time.Now()))
	b.click("Verify")
	b.waitPath("/account")
	b.waitText("Password and second factor (aal2)")
	b.screenshot("account-aal2")
}

// TestAdminUsersAndHealth: an admin opening a deep link while signed out is
// sent to sign in and brought back; creates, imports, deactivates a user,
// makes a recovery code, and reads the system health screen. It also
// measures the first paint and the entry bundle.
func TestAdminUsersAndHealth(t *testing.T) {
	// A Kratos of its own: under `make test` the shared one holds thousands
	// of other packages' accounts, and the user list must show this test's.
	kratos := testenv.PrivateKratos(t).Env()
	st := startTruss(t, map[string]string{"KRATOS_PUBLIC_URL": kratos["KRATOS_PUBLIC_URL"], "KRATOS_ADMIN_URL": kratos["KRATOS_ADMIN_URL"]})
	admin := uniqueEmail("admin")
	st.register(t, admin, true)
	b := newBrowser(t, st.base)

	b.open("/admin/users?q=zz")
	b.waitPath("/login?next=")
	b.waitText("Sign in")
	var perf struct {
		FCP         float64 `json:"fcp"`
		FirstScreen float64 `json:"first_screen"`
		DOMContent  float64 `json:"dom_content_loaded"`
	}
	b.eval(`(() => {
		const fcp = performance.getEntriesByName('first-contentful-paint')[0];
		const fs = performance.getEntriesByName('truss:first-screen')[0];
		const nav = performance.getEntriesByType('navigation')[0];
		return {fcp: fcp ? fcp.startTime : -1, first_screen: fs ? fs.startTime : -1, dom_content_loaded: nav ? nav.domContentLoadedEventEnd : -1};
	})()`, &perf)
	entry, gz := entryBundle(t)
	t.Logf("PERF first-contentful-paint %.0f ms, first meaningful paint (login form rendered, truss:first-screen) %.0f ms, DOMContentLoaded %.0f ms; entry bundle %s %.1f KB gzipped",
		perf.FCP, perf.FirstScreen, perf.DOMContent, entry, float64(gz)/1024)
	// The 1 s paint target is reported, not asserted: under `make test` other
	// packages load the 2 cores at the same time. TRUSS_PERF_ASSERT=1 (as in a
	// quiet run) turns it into a failure.
	if os.Getenv("TRUSS_PERF_ASSERT") == "1" && (perf.FirstScreen < 0 || perf.FirstScreen > 1000) {
		t.Errorf("first meaningful paint %.0f ms, want under 1000 ms", perf.FirstScreen)
	}
	if gz > 250*1024 {
		t.Errorf("entry bundle %d bytes gzipped, want under 250 KB", gz)
	}
	b.screenshot("login")

	// Wrong password: the API's message is shown.
	b.fill(`input[name=email]`, admin)
	b.fill(`input[name=password]`, "not-the-password")
	b.click("Sign in")
	b.do("login error", waitSelector(`.notice.error`))
	b.screenshot("login-error")
	b.fill(`input[name=password]`, password)
	b.click("Sign in")
	b.waitPath("/admin/users?q=zz") // back where the user was
	b.waitText("No user's email starts with")
	b.screenshot("users-empty-search")

	b.open("/admin/users")
	b.waitText(admin)
	b.click("Create user")
	created := uniqueEmail("created")
	b.fill(`form[aria-labelledby=create-h] input[name=email]`, created)
	b.fill(`form[aria-labelledby=create-h] input[name=name]`, "Ada Lovelace")
	b.fill(`form[aria-labelledby=create-h] input[name=password]`, password)
	b.screenshot("users-create")
	b.do("submit create", clickIn(`form[aria-labelledby=create-h]`, "Create user"))
	b.waitText(created)
	b.screenshot("users-list")

	b.click("Import")
	i1, i2 := uniqueEmail("imp1"), uniqueEmail("imp2")
	b.fill(`#import-text`, "email,name\n"+i1+",Imported One\n"+i2+",Imported Two\nnot-an-email")
	b.do("submit import", clickIn(`form[aria-labelledby=import-h]`, "Import"))
	b.waitText("2 created, 1 failed")
	b.waitText(i1)
	b.screenshot("users-import")

	b.click(created)
	b.waitText("Password and recovery")
	b.waitText("Ada Lovelace")
	b.click("Deactivate")
	b.waitText("User deactivated")
	if s := b.text(`[data-testid=user-state]`); s != "inactive" {
		t.Errorf("state after deactivate: %q", s)
	}
	b.click("Activate")
	b.waitText("User activated")
	b.click("Create recovery code")
	b.do("recovery code", waitSelector(`[data-testid=recovery-code]`))
	b.screenshot("user-detail")

	b.click("System health")
	b.waitPath("/health")
	b.do("health table", waitSelector(`tr[data-dependency=postgres][data-status=up]`))
	b.do("kratos row", waitSelector(`tr[data-dependency^=kratos]`))
	var rows int
	b.eval(`document.querySelectorAll('tr[data-dependency]').length`, &rows)
	if rows < 7 {
		t.Errorf("health screen shows %d dependencies, want every one (>= 7)", rows)
	}
	b.do("doctor report", waitSelector(`[data-testid=doctor]`)) // truss doctor's verdicts for admins
	b.screenshot("health")
	if body := b.text("main"); !strings.Contains(body, "ms") {
		t.Errorf("health screen shows no latency:\n%s", body)
	}
}
