package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/testenv"
)

type mfaState struct {
	AAL           string `json:"aal"`
	TOTP          bool   `json:"totp"`
	RecoveryCodes struct {
		Enabled   bool `json:"enabled"`
		Remaining int  `json:"remaining"`
	} `json:"recovery_codes"`
	WebAuthn struct {
		Supported bool `json:"supported"`
		Enrolled  bool `json:"enrolled"`
	} `json:"webauthn"`
}

type totpSetup struct {
	FlowID string `json:"flow_id"`
	Secret string `json:"secret"`
	URI    string `json:"uri"`
	QR     string `json:"qr"`
}

type recoveryCodes struct {
	FlowID string   `json:"flow_id"`
	Codes  []string `json:"codes"`
}

// totpAt is RFC 6238 TOTP (SHA1, 30 s, 6 digits), what authenticator apps
// compute from the secret.
func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		t.Fatalf("secret %q is not base32: %v", secret, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

// wrongTOTP is a code no window Kratos accepts (now ± 30 s) produces.
func wrongTOTP(t *testing.T, secret string) string {
	now := time.Now()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-60 * time.Second, -30 * time.Second, 0, 30 * time.Second, 60 * time.Second} {
		valid[totpAt(t, secret, now.Add(d))] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", (123456+i*7919)%1_000_000); !valid[c] {
			return c
		}
	}
}

func wantStatus(t *testing.T, b *testenv.Browser, want mfaState, what string) {
	t.Helper()
	var st mfaState
	if resp := b.Do("GET", "/api/auth/mfa/status", nil, &st); resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: mfa/status %d", what, resp.StatusCode)
	}
	if st != want {
		t.Fatalf("%s: mfa/status = %+v, want %+v", what, st, want)
	}
}

func wantError(t *testing.T, resp *http.Response, e apiError, status int, code, what string) {
	t.Helper()
	if resp.StatusCode != status || e.Error.Code != code {
		t.Fatalf("%s: %d %q (%s), want %d %q", what, resp.StatusCode, e.Error.Code, e.Error.Message, status, code)
	}
}

// passwordLogin signs a fresh browser in with the password only.
func passwordLogin(t *testing.T, base, email string) (*testenv.Browser, *http.Response, apiError) {
	t.Helper()
	b := testenv.NewBrowser(t, base)
	b.Do("GET", "/api/auth/login", nil, nil)
	var e apiError
	resp := b.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": password}, &e)
	return b, resp, e
}

// TestMFATOTPAndRecoveryCodesEndToEnd: enrol TOTP, sign in with password
// (aal1, refused) then TOTP (aal2); recovery codes: generate, confirm, sign
// in with one, refuse it the second time; remove both; audit trail.
func TestMFATOTPAndRecoveryCodesEndToEnd(t *testing.T) {
	t.Parallel()
	srv, cfg := testenv.Server(t, nil)
	email := uniqueEmail()
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/register", nil, nil)
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	none := mfaState{AAL: "aal1"}
	wantStatus(t, b, none, "new account")
	// Another device, signed in with the password and cached by Truss.
	other, resp0, _ := passwordLogin(t, srv.URL, email)
	if resp0.StatusCode != http.StatusOK {
		t.Fatalf("second device login: %d", resp0.StatusCode)
	}

	// Enrol an authenticator app.
	var setup totpSetup
	if resp := b.Do("POST", "/api/auth/mfa/totp/setup", nil, &setup); resp.StatusCode != http.StatusOK || setup.FlowID == "" || setup.Secret == "" {
		t.Fatalf("totp setup: %d %+v", resp.StatusCode, setup)
	}
	u, err := url.Parse(setup.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Truss:"+email ||
		u.Query().Get("secret") != setup.Secret || u.Query().Get("issuer") != "Truss" {
		t.Fatalf("otpauth URI %q (%v)", setup.URI, err)
	}
	if !strings.HasPrefix(setup.QR, "data:image/png;base64,") {
		t.Errorf("qr is not a PNG data URL: %.40q", setup.QR)
	}
	var e apiError
	resp := b.Do("POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": setup.FlowID, "code": wrongTOTP(t, setup.Secret)}, &e)
	wantError(t, resp, e, http.StatusUnprocessableEntity, "invalid_totp_code", "verify with a wrong code")
	wantStatus(t, b, none, "after a wrong code")

	var st mfaState
	if resp := b.Do("POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": setup.FlowID, "code": totpAt(t, setup.Secret, time.Now())}, &st); resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d", resp.StatusCode)
	}
	withTOTP := mfaState{AAL: "aal2", TOTP: true}
	if st != withTOTP {
		t.Fatalf("verify answered %+v, want %+v", st, withTOTP)
	}
	var p principal
	if resp := b.Do("GET", "/api/auth/session", nil, &p); resp.StatusCode != http.StatusOK || p.AAL != "aal2" {
		t.Fatalf("session after enrolling: %d %+v, want aal2 (enrolling proves the factor)", resp.StatusCode, p)
	}
	// The other device's aal1 session no longer satisfies Kratos, cached or not.
	e = apiError{}
	resp = other.Do("GET", "/api/auth/session", nil, &e)
	wantError(t, resp, e, http.StatusForbidden, "mfa_required", "the other device's aal1 session after enrolment")
	e = apiError{}
	resp = b.Do("POST", "/api/auth/mfa/totp/setup", nil, &e)
	wantError(t, resp, e, http.StatusConflict, "totp_already_enrolled", "second setup")
	e = apiError{}
	resp = b.Do("POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": setup.FlowID, "code": totpAt(t, setup.Secret, time.Now())}, &e)
	wantError(t, resp, e, http.StatusConflict, "totp_already_enrolled", "verifying again")

	// Recovery codes: not active until confirmed.
	var rc recoveryCodes
	if resp := b.Do("POST", "/api/auth/mfa/recovery-codes", nil, &rc); resp.StatusCode != http.StatusOK || rc.FlowID == "" || len(rc.Codes) != 12 {
		t.Fatalf("generate recovery codes: %d %+v", resp.StatusCode, rc)
	}
	wantStatus(t, b, withTOTP, "generated, not confirmed")
	if resp := b.Do("POST", "/api/auth/mfa/recovery-codes/confirm", map[string]any{"flow_id": rc.FlowID}, &st); resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm recovery codes: %d", resp.StatusCode)
	}
	full := withTOTP
	full.RecoveryCodes.Enabled, full.RecoveryCodes.Remaining = true, 12
	if st != full {
		t.Fatalf("confirm answered %+v, want %+v", st, full)
	}

	// Log out; the password alone gives an aal1 session Truss refuses.
	if resp := b.Do("POST", "/api/auth/logout", nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	b2, resp, e := passwordLogin(t, srv.URL, email)
	wantError(t, resp, e, http.StatusForbidden, "mfa_required", "password login of an MFA account")
	if b2.Cookie("truss_session") == "" {
		t.Fatal("the first step set no truss_session: the second factor has nothing to complete")
	}
	e = apiError{}
	resp = b2.Do("GET", "/api/auth/session", nil, &e)
	wantError(t, resp, e, http.StatusForbidden, "mfa_required", "session at aal1")
	e = apiError{}
	resp = b2.Do("GET", "/api/auth/mfa/status", nil, &e)
	wantError(t, resp, e, http.StatusForbidden, "mfa_required", "mfa/status at aal1")

	e = apiError{}
	resp = b2.Do("POST", "/api/auth/login", map[string]any{"totp_code": wrongTOTP(t, setup.Secret)}, &e)
	wantError(t, resp, e, http.StatusUnauthorized, "invalid_second_factor", "second step with a wrong TOTP code")
	p = principal{}
	if resp := b2.Do("POST", "/api/auth/login", map[string]any{"totp_code": totpAt(t, setup.Secret, time.Now())}, &p); resp.StatusCode != http.StatusOK || p.AAL != "aal2" || p.Email != email {
		t.Fatalf("second step with TOTP: %d %+v", resp.StatusCode, p)
	}
	p = principal{}
	if resp := b2.Do("GET", "/api/auth/session", nil, &p); resp.StatusCode != http.StatusOK || p.AAL != "aal2" {
		t.Fatalf("session after TOTP: %d %+v", resp.StatusCode, p)
	}
	wantStatus(t, b2, full, "after TOTP login")

	// A recovery code completes a fresh login once.
	b3, resp, e := passwordLogin(t, srv.URL, email)
	wantError(t, resp, e, http.StatusForbidden, "mfa_required", "password login, recovery code next")
	p = principal{}
	if resp := b3.Do("POST", "/api/auth/login", map[string]any{"recovery_code": rc.Codes[0]}, &p); resp.StatusCode != http.StatusOK || p.AAL != "aal2" {
		t.Fatalf("second step with a recovery code: %d %+v", resp.StatusCode, p)
	}
	full.RecoveryCodes.Remaining = 11
	wantStatus(t, b3, full, "after using one recovery code")

	b4, resp, e := passwordLogin(t, srv.URL, email)
	wantError(t, resp, e, http.StatusForbidden, "mfa_required", "password login, used recovery code next")
	e = apiError{}
	resp = b4.Do("POST", "/api/auth/login", map[string]any{"recovery_code": rc.Codes[0]}, &e)
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("reusing a recovery code: %d %+v, want a clear 4xx", resp.StatusCode, e)
	}
	t.Logf("reusing a recovery code: %d %s: %s", resp.StatusCode, e.Error.Code, e.Error.Message)
	e = apiError{}
	resp = b4.Do("POST", "/api/auth/login", map[string]any{"recovery_code": "notacode"}, &e)
	wantError(t, resp, e, http.StatusUnauthorized, "invalid_second_factor", "an unknown recovery code")

	// Remove both factors from the aal2 session; the password suffices again.
	if resp := b3.Do("DELETE", "/api/auth/mfa/recovery-codes", nil, &st); resp.StatusCode != http.StatusOK || st.RecoveryCodes.Enabled || !st.TOTP {
		t.Fatalf("disable recovery codes: %d %+v", resp.StatusCode, st)
	}
	if resp := b3.Do("DELETE", "/api/auth/mfa/totp", nil, &st); resp.StatusCode != http.StatusOK || st.TOTP || st.RecoveryCodes.Enabled {
		t.Fatalf("remove TOTP: %d %+v", resp.StatusCode, st)
	}
	if resp := b3.Do("DELETE", "/api/auth/mfa/totp", nil, &st); resp.StatusCode != http.StatusOK || st.TOTP {
		t.Fatalf("remove TOTP again (idempotent): %d %+v", resp.StatusCode, st)
	}
	b5, resp, _ := passwordLogin(t, srv.URL, email)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("password login after removing MFA: %d", resp.StatusCode)
	}
	wantStatus(t, b5, none, "after removing MFA")

	// Every change left an audit event, failures included.
	pool := testenv.Pool(t, cfg)
	for _, ev := range []struct {
		action  string
		success bool
	}{
		{"mfa_totp_setup", true}, {"mfa_totp_setup", false}, {"mfa_totp_enroll", false}, {"mfa_totp_enroll", true},
		{"mfa_recovery_codes_generate", true}, {"mfa_recovery_codes_confirm", true},
		{"mfa_recovery_codes_disable", true}, {"mfa_totp_remove", true},
	} {
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM truss_internal.audit_events
			WHERE action = $1 AND success = $2 AND actor_id = $3`, ev.action, ev.success, p.IdentityID).Scan(&n)
		if err != nil || n == 0 {
			t.Errorf("audit event %s success=%v: %d rows, %v", ev.action, ev.success, n, err)
		}
	}
}

// TestMFARecoveryCodesAloneAreASecondFactor: recovery codes without TOTP
// still make the account require a second factor.
func TestMFARecoveryCodesAloneAreASecondFactor(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	email := uniqueEmail()
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/register", nil, nil)
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	var rc recoveryCodes
	if resp := b.Do("POST", "/api/auth/mfa/recovery-codes", map[string]any{}, &rc); resp.StatusCode != http.StatusOK || len(rc.Codes) == 0 {
		t.Fatalf("generate: %d %+v", resp.StatusCode, rc)
	}
	// A second generation replaces the first set; only the confirmed flow counts.
	var rc2 recoveryCodes
	if resp := b.Do("POST", "/api/auth/mfa/recovery-codes", nil, &rc2); resp.StatusCode != http.StatusOK || rc2.FlowID == rc.FlowID || rc2.Codes[0] == rc.Codes[0] {
		t.Fatalf("generate again: %d %+v", resp.StatusCode, rc2)
	}
	var st mfaState
	if resp := b.Do("POST", "/api/auth/mfa/recovery-codes/confirm", map[string]any{"flow_id": rc2.FlowID}, &st); resp.StatusCode != http.StatusOK ||
		st.AAL != "aal2" || st.TOTP || !st.RecoveryCodes.Enabled || st.RecoveryCodes.Remaining != len(rc2.Codes) {
		t.Fatalf("confirm: %d %+v", resp.StatusCode, st)
	}
	b2, resp, e := passwordLogin(t, srv.URL, email)
	wantError(t, resp, e, http.StatusForbidden, "mfa_required", "password login with recovery codes set")
	e = apiError{}
	resp = b2.Do("POST", "/api/auth/login", map[string]any{"recovery_code": rc.Codes[0]}, &e)
	wantError(t, resp, e, http.StatusUnauthorized, "invalid_second_factor", "a code of the unconfirmed set")
	var p principal
	if resp := b2.Do("POST", "/api/auth/login", map[string]any{"recovery_code": rc2.Codes[3]}, &p); resp.StatusCode != http.StatusOK || p.AAL != "aal2" {
		t.Fatalf("recovery code login: %d %+v", resp.StatusCode, p)
	}
}

func TestMFABadInput(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/register", nil, nil)
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": uniqueEmail(), "password": password}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	const unknownFlow = "9b2c6a1e-4f0d-4c3b-8a57-2f6e1d0c9b11"
	var setup totpSetup
	if resp := b.Do("POST", "/api/auth/mfa/totp/setup", nil, &setup); resp.StatusCode != http.StatusOK {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"verify without flow", "POST", "/api/auth/mfa/totp/verify", map[string]any{"code": "123456"}, 422, "validation_failed", "flow_id"},
		{"verify with a path as flow", "POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": "../../x", "code": "123456"}, 422, "validation_failed", "flow_id"},
		{"verify with 5 digits", "POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": setup.FlowID, "code": "12345"}, 422, "validation_failed", "code"},
		{"verify with letters", "POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": setup.FlowID, "code": "abcdef"}, 422, "validation_failed", "code"},
		{"verify unknown flow", "POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": unknownFlow, "code": "123456"}, 400, "flow_not_found", ""},
		{"verify unknown field", "POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": setup.FlowID, "totp_code": "123456"}, 400, "invalid_json", "totp_code"},
		{"confirm without flow", "POST", "/api/auth/mfa/recovery-codes/confirm", map[string]any{}, 422, "validation_failed", "flow_id"},
		{"confirm unknown flow", "POST", "/api/auth/mfa/recovery-codes/confirm", map[string]any{"flow_id": unknownFlow}, 400, "flow_not_found", ""},
		{"confirm before generating", "POST", "/api/auth/mfa/recovery-codes/confirm", map[string]any{"flow_id": setup.FlowID}, 400, "request_refused", ""},
		{"setup with parameters", "POST", "/api/auth/mfa/totp/setup", map[string]any{"issuer": "x"}, 400, "invalid_json", "issuer"},
	}
	for _, tc := range tests {
		var e apiError
		resp := b.Do(tc.method, tc.path, tc.body, &e)
		if resp.StatusCode != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
			t.Errorf("%s: %d %q (%s), want %d %q", tc.name, resp.StatusCode, e.Error.Code, e.Error.Message, tc.status, tc.code)
			continue
		}
		if tc.field != "" {
			if fields, _ := e.Error.Details["fields"].(map[string]any); fields[tc.field] == nil {
				t.Errorf("%s: details.fields lacks %q: %v", tc.name, tc.field, e.Error.Details)
			}
		}
	}
	// Removing what is not there succeeds and changes nothing.
	var st mfaState
	for _, path := range []string{"/api/auth/mfa/totp", "/api/auth/mfa/recovery-codes"} {
		if resp := b.Do("DELETE", path, nil, &st); resp.StatusCode != http.StatusOK || st.TOTP || st.RecoveryCodes.Enabled {
			t.Errorf("DELETE %s without it: %d %+v", path, resp.StatusCode, st)
		}
	}
}

func TestMFAEndpointsRequireASession(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil) // the CSRF cookie, so CSRF is not what refuses
	for _, ep := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/auth/mfa/status", nil},
		{"POST", "/api/auth/mfa/totp/setup", nil},
		{"POST", "/api/auth/mfa/totp/verify", map[string]any{"flow_id": "9b2c6a1e-4f0d-4c3b-8a57-2f6e1d0c9b11", "code": "123456"}},
		{"DELETE", "/api/auth/mfa/totp", nil},
		{"POST", "/api/auth/mfa/recovery-codes", nil},
		{"POST", "/api/auth/mfa/recovery-codes/confirm", map[string]any{"flow_id": "9b2c6a1e-4f0d-4c3b-8a57-2f6e1d0c9b11"}},
		{"DELETE", "/api/auth/mfa/recovery-codes", nil},
	} {
		var e apiError
		if resp := b.Do(ep.method, ep.path, ep.body, &e); resp.StatusCode != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
			t.Errorf("%s %s without a session: %d %q, want 401 unauthorized", ep.method, ep.path, resp.StatusCode, e.Error.Code)
		}
	}
	// A forged token is no session either.
	req, _ := http.NewRequest("GET", srv.URL+"/api/auth/mfa/status", nil)
	req.Header.Set("X-Session-Token", "ory_st_forged")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged session token: %d, want 401", resp.StatusCode)
	}
}
