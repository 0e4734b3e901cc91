package email_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/email"
	"github.com/trussdev/truss/internal/testenv"
)

type settingsView struct {
	Source       string `json:"source"`
	Enabled      bool   `json:"enabled"`
	Host         string `json:"host"`
	Port         int    `json:"port"`
	User         string `json:"user"`
	PasswordSet  bool   `json:"password_set"`
	From         string `json:"from"`
	SenderName   string `json:"sender_name"`
	TLS          string `json:"tls"`
	TLSEffective string `json:"tls_effective"`
	Timeout      string `json:"timeout"`
	KratosURI    string `json:"kratos_courier_uri"`
}

// TestSettingsRoundTrip: GET shows the environment's settings; PUT stores
// an override whose password is encrypted at rest and never returned; the
// test endpoint uses it and reports each step; DELETE goes back.
func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	b, adminEmail, cfg := adminBrowser(t, nil)
	var v settingsView
	if resp := b.Do("GET", "/api/settings/smtp", nil, &v); resp.StatusCode != 200 || v.Source != "environment" ||
		v.Host != cfg.SMTP.Host || v.Port != cfg.SMTP.Port || v.PasswordSet {
		t.Fatalf("GET: %d %+v", resp.StatusCode, v)
	}

	// The stack's Mailpit accepts any AUTH (--smtp-auth-accept-any) without TLS.
	const secret = "correct horse battery staple"
	put := map[string]any{"host": cfg.SMTP.Host, "port": cfg.SMTP.Port, "user": "mailer", "password": secret,
		"from": "Ops <ops@truss.test>", "tls": "none", "timeout": "4s"}
	raw := doRaw(t, b, "PUT", "/api/settings/smtp", put)
	if raw.status != 200 || strings.Contains(raw.body, secret) {
		t.Fatalf("PUT: %d %s", raw.status, raw.body)
	}
	b.Do("GET", "/api/settings/smtp", nil, &v)
	if v.Source != "database" || !v.PasswordSet || v.User != "mailer" || v.From != "ops@truss.test" || v.SenderName != "Ops" ||
		v.TLS != "none" || v.Timeout != "4s" || v.KratosURI != "smtp://mailer:PASSWORD@"+cfg.SMTP.Host+":"+strconv.Itoa(cfg.SMTP.Port)+"/?disable_starttls=true" {
		t.Fatalf("after PUT: %+v", v)
	}
	pool := testenv.Pool(t, cfg)
	var enc []byte
	if err := pool.QueryRow(context.Background(), "SELECT password_enc FROM truss_internal.smtp_settings").Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if len(enc) < 29 || strings.Contains(string(enc), secret) {
		t.Errorf("password stored as %q: not encrypted", enc)
	}

	// PUT without "password" keeps it; the test goes to the admin by default.
	delete(put, "password")
	put["sender_name"] = "Truss Ops"
	if resp := b.Do("PUT", "/api/settings/smtp", put, &v); resp.StatusCode != 200 || !v.PasswordSet || v.SenderName != "Truss Ops" {
		t.Fatalf("PUT without password: %d %+v (sender_name, when given, wins over the name in from)", resp.StatusCode, v)
	}
	var res email.TestResult
	if resp := b.Do("POST", "/api/settings/smtp/test", nil, &res); resp.StatusCode != 200 || !res.OK || res.To != adminEmail {
		t.Fatalf("test: %d %+v", resp.StatusCode, res)
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name)
		if !s.OK {
			t.Errorf("step %+v failed", s)
		}
	}
	if got := strings.Join(names, ","); got != "dns,connect,greeting,ehlo,starttls,auth,send" {
		t.Errorf("steps %s", got)
	}
	if a, _ := stepNamed(res.Steps, "auth"); !strings.Contains(a.Detail, `"mailer" accepted`) {
		t.Errorf("auth step %+v", a)
	}
	mail, _ := testenv.WaitForMail(t, adminEmail, regexp.MustCompile(`test message from Truss`))
	if mail.Subject != "Truss SMTP test" {
		t.Errorf("test mail subject %q", mail.Subject)
	}

	// Removing the password, then the override.
	put["password"] = ""
	b.Do("PUT", "/api/settings/smtp", put, &v)
	if v.PasswordSet {
		t.Error(`"password": "" did not remove the password`)
	}
	if resp := b.Do("DELETE", "/api/settings/smtp", nil, &v); resp.StatusCode != 200 || v.Source != "environment" {
		t.Fatalf("DELETE: %d %+v", resp.StatusCode, v)
	}
	var n int
	pool.QueryRow(context.Background(), "SELECT count(*) FROM truss_internal.audit_events WHERE action LIKE 'smtp_%'").Scan(&n)
	if n != 5 {
		t.Errorf("%d smtp audit events, want 5 (3 updates, 1 test, 1 reset)", n)
	}
}

type rawResponse struct {
	status int
	body   string
}

// doRaw is Browser.Do keeping the raw body (to check what never leaks).
func doRaw(t *testing.T, b *testenv.Browser, method, path string, body any) rawResponse {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, b.Base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.Cookie("truss_csrf"))
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, body: string(out)}
}
