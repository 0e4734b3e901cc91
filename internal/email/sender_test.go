package email_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/email"
	"github.com/trussdev/truss/internal/testenv"
)

func stepNamed(steps []email.Step, name string) (email.Step, bool) {
	for _, s := range steps {
		if s.Name == name {
			return s, true
		}
	}
	return email.Step{}, false
}

// TestPlainSMTPThroughTheOutbox: Mailpit without TLS on a non-standard
// port (STARTTLS only if offered): a queued invitation arrives once, with
// both parts, the configured sender and the Message-ID fixed at enqueue.
func TestPlainSMTPThroughTheOutbox(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t, mailpitOptions{})
	h := newService(t, smtpEnv(mp.SMTPPort, "auto"), email.Options{PollInterval: 50 * time.Millisecond})
	h.start(t)
	to := uniqueEmail()
	id, err := h.svc.Send(context.Background(), "Ada <"+to+">", email.Invitation{OrganizationName: "Acme <Labs>",
		InviterName: "Grace", AcceptURL: "https://truss.example.com/invitations/abc", ExpiresAt: time.Now().Add(72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the invitation to be sent", func() bool { return h.row(t, id).Status == "sent" })
	msgs := mp.messages()
	if len(msgs) != 1 {
		t.Fatalf("Mailpit has %d messages, want 1", len(msgs))
	}
	m := mp.message(msgs[0].ID)
	row := h.row(t, id)
	if m.From.Address != "sender@truss.test" || m.From.Name != "Truss Test" || len(m.To) != 1 || m.To[0].Address != to || m.To[0].Name != "Ada" {
		t.Errorf("from %+v to %+v", m.From, m.To)
	}
	if m.Subject != "Grace invited you to Acme <Labs> on Truss" {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "https://truss.example.com/invitations/abc") || !strings.Contains(m.HTML, `href="https://truss.example.com/invitations/abc"`) {
		t.Errorf("bodies lack the accept link:\n%s\n%s", m.Text, m.HTML)
	}
	if !strings.Contains(m.HTML, "Acme &lt;Labs&gt;") || strings.Contains(m.HTML, "Acme <Labs>") {
		t.Errorf("HTML does not escape the organization name")
	}
	if m.MessageID != row.MessageID || row.Attempts != 1 || row.Reply == nil || !strings.HasPrefix(*row.Reply, "250") {
		t.Errorf("Message-ID %q vs row %+v", m.MessageID, row)
	}
	var text, html string
	h.pool.QueryRow(context.Background(), "SELECT body_text, body_html FROM truss_internal.email_outbox WHERE id = $1", id).Scan(&text, &html)
	if text != "" || html != "" {
		t.Error("the bodies of a sent message are still stored")
	}
}

func TestSTARTTLSRequiredWithAuth(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t)
	mp := startMailpit(t, mailpitOptions{Cert: &cert, RequireSTARTTLS: true, Users: map[string]string{"truss": "s3cret-pass"}})
	h := newService(t, smtpEnv(mp.SMTPPort, "starttls", "SMTP_USER", "truss", "SMTP_PASS", "s3cret-pass"),
		email.Options{TLSConfig: cert.Client, PollInterval: 50 * time.Millisecond})
	to := uniqueEmail()
	res, err := h.svc.Diagnose(context.Background(), to, "")
	if err != nil {
		t.Fatalf("diagnose: %v %+v", err, apierror.As(err).Details)
	}
	st, _ := stepNamed(res.Steps, "starttls")
	auth, _ := stepNamed(res.Steps, "auth")
	if !res.OK || !strings.HasPrefix(res.TLSMode, "STARTTLS, TLS 1.3") || !st.OK || !strings.Contains(auth.Detail, "PLAIN") ||
		!strings.HasPrefix(res.Reply, "250") {
		t.Errorf("result %+v", res)
	}
	for _, line := range res.Transcript {
		if strings.Contains(line, "s3cret-pass") || strings.Contains(line, "dHJ1c3MAdHJ1c3MAczNjcmV0LXBhc3M") {
			t.Errorf("transcript leaks the password: %q", line)
		}
	}
	// The outbox worker uses the same session setup.
	h.start(t)
	id, err := h.svc.Send(context.Background(), to, email.APIKeyCreated{KeyName: "ci", KeyPrefix: "trs_ab12", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the API key notice to be sent", func() bool { return h.row(t, id).Status == "sent" })
	if n := len(mp.messages()); n != 2 {
		t.Errorf("Mailpit has %d messages, want 2 (test + notice)", n)
	}
}

func TestSTARTTLSRequiredButNotOffered(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t, mailpitOptions{})
	h := newService(t, smtpEnv(mp.SMTPPort, "starttls"), email.Options{})
	_, err := h.svc.Diagnose(context.Background(), uniqueEmail(), "")
	e := apierror.As(err)
	if e.Code != email.CodeTestFailed || e.Details["failed_step"] != "starttls" || !strings.Contains(e.Hint, "SMTP_TLS=tls") {
		t.Fatalf("got %v, hint %q, details %v", err, e.Hint, e.Details)
	}
	if len(mp.messages()) != 0 {
		t.Error("a message was sent in clear text although STARTTLS was required")
	}
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t)
	mp := startMailpit(t, mailpitOptions{Cert: &cert, RequireTLS: true, Users: map[string]string{"truss": "pw-465"}})
	h := newService(t, smtpEnv(mp.SMTPPort, "tls", "SMTP_USER", "truss", "SMTP_PASS", "pw-465"),
		email.Options{TLSConfig: cert.Client, PollInterval: 50 * time.Millisecond})
	res, err := h.svc.Diagnose(context.Background(), uniqueEmail(), "")
	if err != nil {
		t.Fatalf("diagnose: %v %+v", err, apierror.As(err).Details)
	}
	tlsStep, ok := stepNamed(res.Steps, "tls")
	if !ok || !tlsStep.OK || !strings.HasPrefix(res.TLSMode, "implicit TLS, TLS 1.3") {
		t.Errorf("result %+v", res)
	}
	if _, ok := stepNamed(res.Steps, "starttls"); ok {
		t.Error("STARTTLS attempted on an implicit-TLS connection")
	}
	h.start(t)
	id, err := h.svc.Send(context.Background(), uniqueEmail(), email.APIKeyRevoked{KeyName: "ci", RevokedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the revocation notice to be sent", func() bool { return h.row(t, id).Status == "sent" })
}

// TestUntrustedCertificateIsRefused: TLS that does not verify is an error
// with a hint, not a silent downgrade.
func TestUntrustedCertificateIsRefused(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t)
	mp := startMailpit(t, mailpitOptions{Cert: &cert, RequireTLS: true})
	h := newService(t, smtpEnv(mp.SMTPPort, "tls"), email.Options{}) // system roots only
	_, err := h.svc.Diagnose(context.Background(), uniqueEmail(), "")
	e := apierror.As(err)
	if e.Details["failed_step"] != "tls" || !strings.Contains(e.Hint, "certificate") {
		t.Fatalf("got %v, hint %q", err, e.Hint)
	}
}

// TestWrongCredentials: the server's 535 reaches the admin with a hint; the
// worker keeps the message pending (the message is not at fault).
func TestWrongCredentials(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t)
	mp := startMailpit(t, mailpitOptions{Cert: &cert, RequireSTARTTLS: true, Users: map[string]string{"truss": "right"}})
	h := newService(t, smtpEnv(mp.SMTPPort, "starttls", "SMTP_USER", "truss", "SMTP_PASS", "wrong"),
		email.Options{TLSConfig: cert.Client, PollInterval: 50 * time.Millisecond, RetryBase: 50 * time.Millisecond})
	_, err := h.svc.Diagnose(context.Background(), uniqueEmail(), "")
	e := apierror.As(err)
	if e.Code != email.CodeTestFailed || e.Details["failed_step"] != "auth" || !strings.HasPrefix(e.Details["reply"].(string), "535") ||
		!strings.Contains(e.Hint, "SMTP_USER") {
		t.Fatalf("got %v, hint %q, details %v", err, e.Hint, e.Details)
	}
	if !strings.Contains(e.Message, "127.0.0.1:"+strconv.Itoa(mp.SMTPPort)) {
		t.Errorf("message does not name the server: %s", e.Message)
	}
	h.start(t)
	id, err := h.svc.Send(context.Background(), uniqueEmail(), email.SignInAlert{At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a failed attempt", func() bool { return h.row(t, id).Attempts >= 1 })
	r := h.row(t, id)
	if r.Status != "pending" || r.LastError == nil || !strings.HasPrefix(*r.LastError, "auth: 535") {
		t.Errorf("row after a refused login: %+v (%v)", r, deref(r.LastError))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestPermanentRejectionIsMarkedFailed: a 5xx to RCPT TO is final, with the
// server's reply; other messages still go.
func TestPermanentRejectionIsMarkedFailed(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t, mailpitOptions{AllowedRecipients: `@allowed\.test$`})
	h := newService(t, smtpEnv(mp.SMTPPort, "auto"), email.Options{PollInterval: 50 * time.Millisecond, RetryBase: 50 * time.Millisecond})
	h.start(t)
	bad, err := h.svc.Send(context.Background(), "nobody@denied.test", email.SignInAlert{At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	good, err := h.svc.Send(context.Background(), "somebody@allowed.test", email.SignInAlert{At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "both messages to settle", func() bool {
		return h.row(t, bad).Status == "failed" && h.row(t, good).Status == "sent"
	})
	r := h.row(t, bad)
	if r.Attempts != 1 || r.LastError == nil || !strings.HasPrefix(*r.LastError, "rcpt: 550") {
		t.Errorf("rejected row: %+v %s", r, deref(r.LastError))
	}
	if n := len(mp.messages()); n != 1 {
		t.Errorf("Mailpit has %d messages, want 1", n)
	}
}

// TestSMTPDownThenBack: messages queued while nothing listens are retried
// with backoff, survive a restart of Truss (a new service on the same
// database), and each arrives exactly once when Mailpit comes back.
func TestSMTPDownThenBack(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	opts := email.Options{Workers: 3, PollInterval: 50 * time.Millisecond, RetryBase: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond}
	h := newService(t, smtpEnv(port, "auto", "SMTP_TIMEOUT", "2s"), opts)
	stop := h.svc.Start(context.Background())
	const n = 5
	ids := make([]int64, n)
	recipients := map[string]bool{}
	for i := range n {
		to := uniqueEmail()
		recipients[to] = true
		var err error
		if ids[i], err = h.svc.Send(context.Background(), to, email.SignInAlert{At: time.Now(), IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 15*time.Second, "failed attempts while SMTP is down", func() bool {
		r := h.row(t, ids[0])
		return r.Attempts >= 1 && r.LastError != nil
	})
	if r := h.row(t, ids[0]); r.Status != "pending" || !strings.Contains(*r.LastError, "connect") {
		t.Fatalf("while down: %+v %s", r, deref(r.LastError))
	}
	stop()                                                // Truss restarts...
	mp := startMailpit(t, mailpitOptions{SMTPPort: port}) // ...and the SMTP server is back.
	h2 := harness{svc: email.New(h.cfg, h.pool, testenv.Logger(t), opts), cfg: h.cfg, pool: h.pool}
	h2.start(t)
	waitFor(t, 30*time.Second, "every message to be sent", func() bool {
		for _, id := range ids {
			if h.row(t, id).Status != "sent" {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
	msgs := mp.messages()
	if len(msgs) != n {
		t.Fatalf("Mailpit has %d messages, want exactly %d", len(msgs), n)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if !recipients[m.To[0].Address] || seen[m.To[0].Address] {
			t.Errorf("unexpected or duplicate message to %s", m.To[0].Address)
		}
		seen[m.To[0].Address] = true
	}
}

// TestTimeoutCarriesThe465Hint: a loopback listener that accepts and never
// answers. Implicit TLS (as on 465) times out within SMTP_TIMEOUT, with the
// hint that 465 is often blocked and 587 + STARTTLS is the standard.
func TestTimeoutCarriesThe465Hint(t *testing.T) {
	t.Parallel()
	port := silentListener(t)
	for _, tc := range []struct {
		mode, step, hint string
	}{
		{"tls", "tls", "587"},
		{"auto", "greeting", "sent no SMTP greeting"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			h := newService(t, smtpEnv(port, tc.mode, "SMTP_TIMEOUT", "1s"), email.Options{})
			start := time.Now()
			_, err := h.svc.Diagnose(context.Background(), uniqueEmail(), "")
			took := time.Since(start)
			e := apierror.As(err)
			if e.Code != email.CodeTestFailed || e.Details["failed_step"] != tc.step || e.Details["timeout"] != true ||
				!strings.Contains(e.Hint, tc.hint) {
				t.Fatalf("got %v, hint %q, details %v", err, e.Hint, e.Details)
			}
			if tc.mode == "tls" && !strings.Contains(e.Hint, "465") {
				t.Errorf("hint lacks 465: %s", e.Hint)
			}
			if took < 900*time.Millisecond || took > 2500*time.Millisecond {
				t.Errorf("took %s, want about SMTP_TIMEOUT (1s)", took)
			}
		})
	}
}

// TestTimeoutHintOverHTTP: the same through POST /api/settings/smtp/test,
// the error shape an admin sees.
func TestTimeoutHintOverHTTP(t *testing.T) {
	t.Parallel()
	b, _, _ := adminBrowser(t, smtpEnv(silentListener(t), "tls", "SMTP_TIMEOUT", "1s"))
	var e apiError
	start := time.Now()
	resp := b.Do("POST", "/api/settings/smtp/test", map[string]any{"to": "ops@example.com"}, &e)
	took := time.Since(start)
	if resp.StatusCode != 502 || e.Error.Code != email.CodeTestFailed || !strings.Contains(e.Error.Hint, "465") ||
		!strings.Contains(e.Error.Hint, "587") || e.Error.Details["failed_step"] != "tls" {
		t.Fatalf("%d %+v", resp.StatusCode, e)
	}
	steps, _ := e.Error.Details["steps"].([]any)
	if len(steps) != 3 { // dns, connect, tls
		t.Errorf("steps %v", steps)
	}
	if took > 2500*time.Millisecond {
		t.Errorf("answered after %s, SMTP_TIMEOUT is 1s", took)
	}
}

// silentListener is the port of a testenv.SilentListener: it accepts
// connections and never writes a byte.
func silentListener(t *testing.T) int {
	_, port, _ := net.SplitHostPort(testenv.SilentListener(t))
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHealthProbe(t *testing.T) {
	t.Parallel()
	cert := newTestCert(t)
	mp := startMailpit(t, mailpitOptions{Cert: &cert, RequireTLS: true})
	h := newService(t, smtpEnv(mp.SMTPPort, "tls"), email.Options{TLSConfig: cert.Client})
	chk := h.svc.HealthCheck()
	if chk.Disabled || chk.Target != "127.0.0.1:"+strconv.Itoa(mp.SMTPPort) {
		t.Fatalf("check %+v", chk)
	}
	if _, err := chk.Probe(context.Background()); err != nil {
		t.Errorf("probe of an implicit-TLS server: %v", err)
	}
	silent := newService(t, smtpEnv(silentListener(t), "auto", "SMTP_TIMEOUT", "10s"), email.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := silent.svc.HealthCheck().Probe(ctx)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("probe of a silent server: %v after %s (must respect the health timeout)", err, time.Since(start))
	}
	var se *email.SessionError
	if !errors.As(err, &se) || !se.Timeout {
		t.Errorf("want a timeout SessionError, got %v", err)
	}
	disabled := newService(t, map[string]string{"SMTP_HOST": ""}, email.Options{})
	if !disabled.svc.HealthCheck().Disabled {
		t.Error("SMTP_HOST empty: check not disabled")
	}
}
