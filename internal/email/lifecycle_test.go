package email_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/email"
	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/testenv"
)

// TestServerRunsTheOutboxWorkers: server.Serve starts the workers and
// stops them when its context ends.
func TestServerRunsTheOutboxWorkers(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t, mailpitOptions{})
	h := newService(t, smtpEnv(mp.SMTPPort, "auto"), email.Options{}) // enqueues only
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.New(h.cfg, testenv.Logger(t), h.pool).Serve(ctx, ln) }()
	id, err := h.svc.Send(context.Background(), uniqueEmail(), email.SignInAlert{At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the server's worker to send", func() bool { return h.row(t, id).Status == "sent" })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

// TestSignInAlertOnlyForNewDevices: the alert goes out when an account
// signs in from an IP and browser it has not used before, never for its
// first sign-in or a known device.
func TestSignInAlertOnlyForNewDevices(t *testing.T) {
	t.Parallel()
	h := newService(t, smtpEnv(freePort(t), "auto"), email.Options{})
	ctx := context.Background()
	const id = "6f1c9e1e-8b1a-4a55-9a53-0f5b1c2d3e4f"
	signIn := func(ip, ua string) *http.Request {
		if _, err := h.pool.Exec(ctx, `INSERT INTO truss_internal.audit_events (action, success, actor_id, ip, user_agent)
			VALUES ('login', true, $1, $2, $3)`, id, ip, ua); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", "/api/auth/login", nil)
		r.RemoteAddr, r.Header["User-Agent"] = ip+":4242", []string{ua}
		return r
	}
	count := func() int {
		var n int
		h.pool.QueryRow(ctx, "SELECT count(*) FROM truss_internal.email_outbox WHERE kind = 'sign_in_alert'").Scan(&n)
		return n
	}
	h.svc.NotifySignIn(signIn("192.0.2.1", "Firefox"), id, "ada@example.com", "Ada")
	if n := count(); n != 0 {
		t.Fatalf("first sign-in alerted (%d)", n)
	}
	h.svc.NotifySignIn(signIn("192.0.2.1", "Firefox"), id, "ada@example.com", "Ada")
	if n := count(); n != 0 {
		t.Fatalf("known device alerted (%d)", n)
	}
	h.svc.NotifySignIn(signIn("198.51.100.9", "Chrome"), id, "ada@example.com", "Ada")
	if n := count(); n != 1 {
		t.Fatalf("new device: %d alerts, want 1", n)
	}
}
