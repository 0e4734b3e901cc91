package email_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/email"
	"github.com/trussdev/truss/internal/testenv"
)

// TestBadInputIsRefusedBeforeQueueing: header injection, invalid addresses
// and templates that cannot render fail the caller, and nothing is queued.
func TestBadInputIsRefusedBeforeQueueing(t *testing.T) {
	t.Parallel()
	h := newService(t, smtpEnv(freePort(t), "auto"), email.Options{})
	ctx := context.Background()
	tests := []struct {
		name       string
		enqueue    func(tx pgx.Tx) error
		status     int
		code, note string
	}{
		{"CRLF in the recipient", func(tx pgx.Tx) error {
			_, err := h.svc.Enqueue(ctx, tx, "ada@example.com\r\nBcc: victim@example.com", email.SignInAlert{At: time.Now()})
			return err
		}, 422, "validation_failed", "to"},
		{"LF in the subject", func(tx pgx.Tx) error {
			_, err := h.svc.EnqueueMessage(ctx, tx, email.Message{To: "ada@example.com", Subject: "Hi\nBcc: victim@example.com", Text: "x"})
			return err
		}, 422, "validation_failed", "subject"},
		{"CRLF smuggled through template data", func(tx pgx.Tx) error {
			_, err := h.svc.Enqueue(ctx, tx, "ada@example.com", email.Invitation{OrganizationName: "Acme\r\nBcc: victim@example.com",
				InviterName: "Eve", AcceptURL: "https://x.example/a"})
			return err
		}, 422, "validation_failed", "subject"},
		{"not an address", func(tx pgx.Tx) error {
			_, err := h.svc.Enqueue(ctx, tx, "not-an-address", email.SignInAlert{At: time.Now()})
			return err
		}, 422, "validation_failed", "to"},
		{"two addresses", func(tx pgx.Tx) error {
			_, err := h.svc.Enqueue(ctx, tx, "a@example.com, b@example.com", email.SignInAlert{At: time.Now()})
			return err
		}, 422, "validation_failed", "to"},
		{"no domain", func(tx pgx.Tx) error {
			_, err := h.svc.EnqueueMessage(ctx, tx, email.Message{To: "ada@", Subject: "s", Text: "x"})
			return err
		}, 422, "validation_failed", "to"},
		{"no text part", func(tx pgx.Tx) error {
			_, err := h.svc.EnqueueMessage(ctx, tx, email.Message{To: "ada@example.com", Subject: "s", HTML: "<p>x</p>"})
			return err
		}, 422, "validation_failed", "text"},
		{"template data missing", func(tx pgx.Tx) error {
			_, err := h.svc.Enqueue(ctx, tx, "ada@example.com", email.Invitation{OrganizationName: "Acme", InviterName: "Eve"})
			return err
		}, 500, email.CodeTemplateFailed, ""},
		{"template link not absolute", func(tx pgx.Tx) error {
			_, err := h.svc.Enqueue(ctx, tx, "ada@example.com", email.Invitation{OrganizationName: "Acme", InviterName: "Eve",
				AcceptURL: "javascript:alert(1)"})
			return err
		}, 500, email.CodeTemplateFailed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pgx.BeginFunc(ctx, h.pool, tc.enqueue)
			var e *apierror.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code {
				t.Fatalf("got %v, want %d %s", err, tc.status, tc.code)
			}
			if tc.note != "" {
				if f, _ := e.Details["fields"].(map[string][]string); len(f[tc.note]) == 0 {
					t.Errorf("details %v do not name field %s", e.Details, tc.note)
				}
			}
		})
	}
	if n := h.outboxCount(t); n != 0 {
		t.Errorf("%d messages queued from bad input", n)
	}
	// A message queued in a transaction that rolls back is never sent.
	err := pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
		if _, err := h.svc.Enqueue(ctx, tx, "ada@example.com", email.SignInAlert{At: time.Now()}); err != nil {
			return err
		}
		return errors.New("the action failed")
	})
	if err == nil || h.outboxCount(t) != 0 {
		t.Errorf("rolled-back enqueue left %d rows (err %v)", h.outboxCount(t), err)
	}
	// Email disabled: a clear error callers can test for.
	off := newService(t, map[string]string{"SMTP_HOST": ""}, email.Options{})
	if _, err := off.svc.Send(ctx, "ada@example.com", email.SignInAlert{At: time.Now()}); !errors.Is(err, email.ErrDisabled) {
		t.Errorf("disabled: %v", err)
	}
}

// TestAdminEndpointsAreAdminOnly: signed-in non-admins get 403, anonymous
// callers 401, on every email endpoint.
func TestAdminEndpointsAreAdminOnly(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	user := testenv.NewBrowser(t, srv.URL)
	user.Do("GET", "/api/auth/register", nil, nil)
	if resp := user.Do("POST", "/api/auth/register", map[string]any{"email": uniqueEmail(), "password": "a perfectly long passphrase 9"}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	anon := testenv.NewBrowser(t, srv.URL)
	anon.Do("GET", "/api/auth/login", nil, nil)
	for _, ep := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/settings/smtp", nil},
		{"PUT", "/api/settings/smtp", map[string]any{"host": "evil.example", "from": "x@evil.example"}},
		{"DELETE", "/api/settings/smtp", nil},
		{"POST", "/api/settings/smtp/test", map[string]any{"to": "x@evil.example"}},
		{"GET", "/api/email/outbox", nil},
	} {
		var e apiError
		if resp := user.Do(ep.method, ep.path, ep.body, &e); resp.StatusCode != http.StatusForbidden || e.Error.Code != "forbidden" {
			t.Errorf("non-admin %s %s: %d %s", ep.method, ep.path, resp.StatusCode, e.Error.Code)
		}
		if resp := anon.Do(ep.method, ep.path, ep.body, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d", ep.method, ep.path, resp.StatusCode)
		}
	}
}

// TestAdminBadInput: the admin endpoints validate too.
func TestAdminBadInput(t *testing.T) {
	t.Parallel()
	b, _, _ := adminBrowser(t, nil)
	var e apiError
	if resp := b.Do("POST", "/api/settings/smtp/test", map[string]any{"to": "ada@example.com\r\nBcc: victim@example.com"}, &e); resp.StatusCode != 422 {
		t.Errorf("test with CRLF: %d %+v", resp.StatusCode, e)
	}
	if resp := b.Do("POST", "/api/settings/smtp/test", map[string]any{"to": "nope"}, &e); resp.StatusCode != 422 {
		t.Errorf("test with a bad address: %d", resp.StatusCode)
	}
	e = apiError{}
	resp := b.Do("PUT", "/api/settings/smtp", map[string]any{"host": "smtp.example.com\r\nX: y", "port": 70000,
		"from": "not an address", "sender_name": "A\nB", "tls": "ssl", "timeout": "forever"}, &e)
	fields, _ := e.Error.Details["fields"].(map[string]any)
	if resp.StatusCode != 422 || len(fields) != 6 {
		t.Errorf("PUT with 6 bad fields: %d %v", resp.StatusCode, fields)
	}
	if resp := b.Do("GET", "/api/email/outbox?status=lost&limit=0", nil, &e); resp.StatusCode != 422 {
		t.Errorf("outbox with bad query: %d", resp.StatusCode)
	}
}

// TestPasswordNeedsSecretKey: without TRUSS_SECRET_KEY a password cannot be
// stored (and is not stored in clear instead).
func TestPasswordNeedsSecretKey(t *testing.T) {
	t.Parallel()
	b, _, _ := adminBrowser(t, map[string]string{"TRUSS_SECRET_KEY": ""})
	var e apiError
	resp := b.Do("PUT", "/api/settings/smtp", map[string]any{"host": "smtp.example.com", "from": "a@example.com", "user": "u", "password": "p"}, &e)
	if resp.StatusCode != http.StatusConflict || e.Error.Code != email.CodeSecretKeyMissing || e.Error.Hint == "" {
		t.Fatalf("PUT with a password, no key: %d %+v", resp.StatusCode, e)
	}
	var v settingsView
	if resp := b.Do("PUT", "/api/settings/smtp", map[string]any{"host": "smtp.example.com", "from": "a@example.com"}, &v); resp.StatusCode != 200 ||
		v.Source != "database" || v.Port != 587 || v.TLSEffective != "STARTTLS (required)" {
		t.Fatalf("PUT without a password, no key: %d %+v", resp.StatusCode, v)
	}
}

// TestOutboxListing pages through the outbox newest first, by status.
func TestOutboxListing(t *testing.T) {
	t.Parallel()
	b, _, cfg := adminBrowser(t, nil)
	svc := email.New(cfg, testenv.Pool(t, cfg), testenv.Logger(t), email.Options{}) // no workers: all stay pending
	for range 5 {
		if _, err := svc.Send(context.Background(), uniqueEmail(), email.SignInAlert{At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Messages []struct {
			ID       int64   `json:"id"`
			Kind     string  `json:"kind"`
			Status   string  `json:"status"`
			Attempts int     `json:"attempts"`
			Subject  string  `json:"subject"`
			Next     *string `json:"next_attempt_at"`
		} `json:"messages"`
		NextBefore *int64         `json:"next_before"`
		Counts     map[string]int `json:"counts"`
	}
	if resp := b.Do("GET", "/api/email/outbox?limit=3", nil, &page); resp.StatusCode != 200 || len(page.Messages) != 3 ||
		page.NextBefore == nil || page.Counts["pending"] != 5 {
		t.Fatalf("first page: %d %+v", resp.StatusCode, page)
	}
	m := page.Messages[0]
	if m.Kind != "sign_in_alert" || m.Status != "pending" || m.Next == nil || m.Subject != "New sign-in to your Truss account" ||
		page.Messages[1].ID >= m.ID {
		t.Errorf("entry %+v", m)
	}
	before := *page.NextBefore
	page.Messages, page.NextBefore = nil, nil
	b.Do("GET", "/api/email/outbox?limit=3&before="+strconv.FormatInt(before, 10), nil, &page)
	if len(page.Messages) != 2 || page.NextBefore != nil {
		t.Errorf("second page: %+v", page)
	}
	page.Messages = nil
	b.Do("GET", "/api/email/outbox?status=sent", nil, &page)
	if len(page.Messages) != 0 {
		t.Errorf("status=sent: %d messages", len(page.Messages))
	}
}

// TestKratosCourierSendsBrandedCodes: registration through Truss makes
// Kratos's courier send the verification code, with Truss's template,
// through the stack's SMTP server.
func TestKratosCourierSendsBrandedCodes(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	b := testenv.NewBrowser(t, srv.URL)
	to := uniqueEmail()
	b.Do("GET", "/api/auth/register", nil, nil)
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": to, "password": "a perfectly long passphrase 9", "name": "Ada"}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	mail, code := testenv.WaitForMail(t, to, regexp.MustCompile(`\b(\d{6})\b`))
	if mail.Subject != "Your Truss verification code: "+code {
		t.Errorf("subject %q", mail.Subject)
	}
	if !regexp.MustCompile(`(?s)^Hello Ada,.*Enter this code in Truss.*` + code).MatchString(mail.Text) {
		t.Errorf("text is not Truss's template:\n%s", mail.Text)
	}
	testenv.DeleteMail(t, mail.ID)
	// Recovery goes through the same courier and template set.
	var fs struct {
		FlowID string `json:"flow_id"`
	}
	if resp := b.Do("POST", "/api/auth/recovery", map[string]any{"email": to}, &fs); resp.StatusCode != 200 {
		t.Fatalf("recovery: %d", resp.StatusCode)
	}
	mail, code = testenv.WaitForMail(t, to, regexp.MustCompile(`\b(\d{6})\b`))
	if mail.Subject != "Your Truss recovery code: "+code {
		t.Errorf("recovery subject %q", mail.Subject)
	}
}
