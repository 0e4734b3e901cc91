package demo

import (
	"net/http"
	"strconv"
	"time"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/httpjson"
)

// The demo's OAuth2 clients, API keys, email (SMTP settings and outbox) and
// the demo visitor's own sessions: static example data in the shapes of
// internal/oauth2, internal/apikey, internal/email and internal/auth's
// endpoints. No secret is ever part of it: the clients carry no
// client_secret, the API keys are listed (prefix only) as GET /api/keys
// lists them, and the SMTP settings have no password.

// seedClient is Hydra's client JSON (the fields the dashboard shows and a
// few more), without client_secret.
type seedClient struct {
	ClientID                string    `json:"client_id"`
	ClientName              string    `json:"client_name"`
	RedirectURIs            []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string  `json:"post_logout_redirect_uris"`
	GrantTypes              []string  `json:"grant_types"`
	ResponseTypes           []string  `json:"response_types"`
	Scope                   string    `json:"scope"`
	Audience                []string  `json:"audience"`
	Owner                   string    `json:"owner"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	SkipConsent             bool      `json:"skip_consent"`
	ClientURI               string    `json:"client_uri,omitempty"`
	Metadata                struct{}  `json:"metadata"`
	CreatedAt               time.Time `json:"created_at"`
	UpdatedAt               time.Time `json:"updated_at"`
}

func (h *Handler) seedClients(tenantID string) []seedClient {
	now := h.opts.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour
	return []seedClient{{
		ClientID: "3f6c1e2a-demo-4c1b-9a57-acme0web0001", ClientName: "Acme web app",
		RedirectURIs: []string{"https://app.acme.example/callback"}, PostLogoutRedirectURIs: []string{"https://app.acme.example/"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scope: "openid email profile offline_access", Audience: []string{}, Owner: tenantID,
		TokenEndpointAuthMethod: "client_secret_basic", SkipConsent: true, ClientURI: "https://app.acme.example",
		CreatedAt: now.Add(-40 * day), UpdatedAt: now.Add(-10 * day),
	}, {
		ClientID: "8b2d4f6e-demo-4e3a-8c21-acme0mob0002", ClientName: "Acme mobile app",
		RedirectURIs: []string{"com.acme.app:/oauth2/callback"}, PostLogoutRedirectURIs: []string{},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scope: "openid email offline_access", Audience: []string{}, Owner: tenantID,
		TokenEndpointAuthMethod: "none", CreatedAt: now.Add(-12 * day), UpdatedAt: now.Add(-12 * day),
	}}
}

func (h *Handler) clients(w http.ResponseWriter, r *http.Request) error {
	tid, err := h.tenantID(r.Context())
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"clients": h.seedClients(tid)})
}

// seedKeys are the demo tenant's API keys as GET /api/keys lists them,
// newest first: an anon key that replaced a rotated one, a service_role
// key, and a revoked key that was never used. The prefixes belong to no key.
func (h *Handler) seedKeys(tenantID string) []apikey.Key {
	now := h.opts.Now().UTC().Truncate(time.Second)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	day := 24 * time.Hour
	owner := IdentityID
	rotated := "5c0e7a31-6d2b-4f8e-9a14-0000000de702"
	return []apikey.Key{
		{ID: "5c0e7a31-6d2b-4f8e-9a14-0000000de701", TenantID: tenantID, KeyType: apikey.Anon, Label: "Acme web app",
			Prefix: apikey.PrefixAnon + "Q7XK2M", CreatedBy: &owner, CreatedAt: *at(5 * day), LastUsedAt: at(3 * time.Minute),
			RotatedFrom: &rotated},
		{ID: "5c0e7a31-6d2b-4f8e-9a14-0000000de703", TenantID: tenantID, KeyType: apikey.ServiceRole, Label: "Billing worker",
			Prefix: apikey.PrefixService + "H4RW7B", CreatedBy: &owner, CreatedAt: *at(12 * day), LastUsedAt: at(time.Hour)},
		{ID: rotated, TenantID: tenantID, KeyType: apikey.Anon, Label: "Acme web app",
			Prefix: apikey.PrefixAnon + "M2DQ6T", CreatedBy: &owner, CreatedAt: *at(40 * day), LastUsedAt: at(5 * day),
			RevokedAt: at(5 * day)},
		{ID: "5c0e7a31-6d2b-4f8e-9a14-0000000de704", TenantID: tenantID, KeyType: apikey.Anon, Label: "Prototype",
			Prefix: apikey.PrefixAnon + "Z3NB5P", CreatedBy: &owner, CreatedAt: *at(60 * day), RevokedAt: at(45 * day)},
	}
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request) error {
	tid, err := h.tenantID(r.Context())
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"keys": h.seedKeys(tid)})
}

// smtpSettings is internal/email's settings answer: example values, no
// password (password_set false), read-only like the rest of the demo.
func (h *Handler) smtpSettings(w http.ResponseWriter) error {
	return httpjson.Write(w, http.StatusOK, map[string]any{
		"source": "environment", "enabled": true, "host": "smtp.example.com", "port": 587, "user": "truss",
		"password_set": false, "from": "no-reply@example.com", "sender_name": "Truss demo",
		"tls": "starttls", "tls_effective": "starttls", "timeout": "10s", "secret_key_configured": false})
}

type outboxRow struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	To            string     `json:"to"`
	Subject       string     `json:"subject"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     *string    `json:"last_error"`
	SMTPReply     *string    `json:"smtp_reply"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at"`
	FailedAt      *time.Time `json:"failed_at"`
}

// seedOutbox is the outbox, newest first (as internal/email lists it).
func (h *Handler) seedOutbox() []outboxRow {
	now := h.opts.Now().UTC().Truncate(time.Second)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	str := func(s string) *string { return &s }
	return []outboxRow{
		{ID: 5, Kind: "invitation", To: "linus@example.com", Subject: "You are invited to Truss demo", Status: "pending",
			Attempts: 1, LastError: str("dial tcp: connection refused (will retry)"), NextAttemptAt: at(-5 * time.Minute),
			CreatedAt: *at(10 * time.Minute)},
		{ID: 4, Kind: "notice", To: "edsger@example.com", Subject: "Your account was deactivated", Status: "failed",
			Attempts: 5, LastError: str("550 5.1.1 mailbox unavailable"), CreatedAt: *at(26 * time.Hour), FailedAt: at(20 * time.Hour)},
		{ID: 3, Kind: "test", To: Email, Subject: "Truss test message", Status: "sent", Attempts: 1,
			SMTPReply: str("250 2.0.0 Ok: queued as 4F1A2B"), CreatedAt: *at(3 * 24 * time.Hour), SentAt: at(3 * 24 * time.Hour)},
		{ID: 2, Kind: "invitation", To: "barbara@example.com", Subject: "You are invited to Truss demo", Status: "sent",
			Attempts: 1, SMTPReply: str("250 2.0.0 Ok: queued as 3C9D0E"), CreatedAt: *at(7 * 24 * time.Hour), SentAt: at(7 * 24 * time.Hour)},
		{ID: 1, Kind: "invitation", To: "ada@example.com", Subject: "You are invited to Truss demo", Status: "sent",
			Attempts: 1, SMTPReply: str("250 2.0.0 Ok: queued as 1A2B3C"), CreatedAt: *at(60 * 24 * time.Hour), SentAt: at(60 * 24 * time.Hour)},
	}
}

// outbox answers like GET /api/email/outbox?status&limit&before.
func (h *Handler) outbox(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", "pending", "sent", "failed":
	default:
		return httpjson.Invalid("Invalid query parameters.", map[string][]string{"status": {"must be pending, sent or failed"}})
	}
	limit, before := 50, int64(0)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return httpjson.Invalid("Invalid query parameters.", map[string][]string{"limit": {"must be a number from 1 to 200"}})
		}
		limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return httpjson.Invalid("Invalid query parameters.", map[string][]string{"before": {"must be a message id"}})
		}
		before = n
	}
	counts := map[string]int{"pending": 0, "sent": 0, "failed": 0}
	out := []outboxRow{}
	for _, m := range h.seedOutbox() {
		counts[m.Status]++
		if (status == "" || m.Status == status) && (before == 0 || m.ID < before) {
			out = append(out, m)
		}
	}
	var next *int64
	if len(out) > limit {
		out = out[:limit]
		id := out[limit-1].ID
		next = &id
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"messages": out, "next_before": next, "counts": counts})
}

// mySessions answers like GET /api/auth/sessions for the demo visitor:
// one example session, the current one.
func (h *Handler) mySessions(w http.ResponseWriter, data seedData) error {
	type mine struct {
		seedSession
		Current bool `json:"current"`
	}
	out := []mine{}
	for _, s := range data.sessions[IdentityID] {
		out = append(out, mine{seedSession: s, Current: true})
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"sessions": out})
}
