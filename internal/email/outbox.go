package email

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/apierror"
)

// ErrDisabled is returned by Enqueue when no SMTP server is configured
// (SMTP_HOST empty and no runtime settings). Callers for whom mail is
// optional check errors.Is(err, email.ErrDisabled) and carry on.
var ErrDisabled = apierror.New(http.StatusServiceUnavailable, "email_disabled", "Email is not configured on this server.").
	WithHint("Set SMTP_HOST (and SMTP_PORT, SMTP_USER, SMTP_PASS), or configure SMTP with PUT /api/settings/smtp.")

// Enqueue renders one of Truss's templates for `to` and queues it in tx,
// the transaction of the action that causes the mail: it is sent if and
// only if tx commits. Invalid addresses, header injection and templates
// that fail to render are refused here, before anything is queued. It
// returns the outbox id.
func (s *Service) Enqueue(ctx context.Context, tx pgx.Tx, to string, t Template) (int64, error) {
	addr, aerr := ParseRecipient("to", to)
	if aerr != nil {
		return 0, aerr
	}
	r, err := s.Render(addr.Address, t)
	if err != nil {
		return 0, err
	}
	return s.EnqueueMessage(ctx, tx, Message{To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Kind: r.Kind})
}

// EnqueueMessage queues an already composed message in tx.
func (s *Service) EnqueueMessage(ctx context.Context, tx pgx.Tx, m Message) (int64, error) {
	addr, aerr := m.validate()
	if aerr != nil {
		return 0, aerr
	}
	st, err := s.settingsVia(ctx, tx)
	if err != nil {
		return 0, err
	}
	if !st.Enabled() {
		return 0, ErrDisabled
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO truss_internal.email_outbox (kind, to_address, to_name, subject, body_text, body_html, message_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		m.Kind, addr.Address, addr.Name, m.Subject, m.Text, m.HTML, s.newMessageID(st)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue email: %w", err)
	}
	// The row becomes visible when tx commits; workers poll every
	// PollInterval, and a caller that wants it sent at once calls Wake after
	// committing (Send does).
	return id, nil
}

// Send is Enqueue in a transaction of its own, for mail that is not tied
// to a database change.
func (s *Service) Send(ctx context.Context, to string, t Template) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		id, err = s.Enqueue(ctx, tx, to, t)
		return err
	})
	if err == nil {
		s.Wake()
	}
	return id, err
}

// newMessageID is fixed at enqueue time, so a message sent twice (see the
// package documentation) carries the same Message-ID both times.
func (s *Service) newMessageID(st Settings) string {
	domain := "truss.localhost"
	if _, d, ok := strings.Cut(st.From, "@"); ok && d != "" {
		domain = d
	}
	return strings.ToLower(rand.Text()) + "@" + domain
}
