package email

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	gomail "github.com/wneessen/go-mail"
)

// Start runs the outbox workers until ctx ends or stop is called. stop
// waits for the messages being sent to finish (each is bounded by
// SMTP_TIMEOUT), so none is left half-sent.
func (s *Service) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() { s.work(ctx) })
	}
	s.Wake()
	return func() { cancel(); wg.Wait() }
}

// Wake makes an idle worker look for due messages now. Call it after
// committing a transaction that enqueued mail; otherwise workers find it
// within PollInterval.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

type outcome int

const (
	idle       outcome = iota // nothing due (or email disabled)
	delivered                 // sent and marked sent
	gaveUp                    // marked failed
	retryLater                // the server refused this message for now
	connFailed                // the server could not be reached or refused the session
	dbFailed                  // PostgreSQL trouble
)

// idleClose is how long a worker keeps an unused SMTP connection open.
const idleClose = 10 * time.Second

func (s *Service) work(ctx context.Context) {
	var ss *session
	var lastUsed time.Time
	defer func() { ss.close() }()
	var pause time.Duration
	for ctx.Err() == nil {
		res := s.deliverOne(ctx, &ss)
		switch res {
		case delivered, gaveUp, retryLater:
			pause, lastUsed = 0, time.Now()
			s.Wake() // there may be more: let an idle worker help
			continue
		case idle:
			if ss != nil && time.Since(lastUsed) > idleClose {
				ss.close()
				ss = nil
			}
			s.sleep(ctx, s.opts.PollInterval, true)
		case connFailed, dbFailed:
			// The server (or the database) is down: this worker backs off
			// on its own, without touching the other pending messages.
			pause = min(max(2*pause, time.Second), time.Minute)
			s.sleep(ctx, pause, false)
		}
	}
}

func (s *Service) sleep(ctx context.Context, d time.Duration, wakeable bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	wake := s.wake
	if !wakeable {
		wake = nil
	}
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

type outboxRow struct {
	id                  int64
	kind, to, toName    string
	subject, text, html string
	messageID           string
	attempts            int
}

// deliverOne claims the oldest due message, sends it and records the
// result, all in one transaction: the row stays locked (FOR UPDATE SKIP
// LOCKED) while it is sent, so no other worker of any instance sends it too.
func (s *Service) deliverOne(ctx context.Context, ssp **session) outcome {
	st, err := s.Settings(ctx)
	if err != nil {
		s.logDB(ctx, err)
		return dbFailed
	}
	if !st.Enabled() {
		return idle
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		s.logDB(ctx, err)
		return dbFailed
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var r outboxRow
	err = tx.QueryRow(ctx, `SELECT id, kind, to_address, to_name, subject, body_text, body_html, message_id, attempts
		FROM truss_internal.email_outbox
		WHERE status = 'pending' AND next_attempt_at <= now()
		ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`).
		Scan(&r.id, &r.kind, &r.to, &r.toName, &r.subject, &r.text, &r.html, &r.messageID, &r.attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return idle
	}
	if err != nil {
		s.logDB(ctx, err)
		return dbFailed
	}
	// From here the message is finished even if ctx ends (shutdown): the
	// send and the commit are bounded by SMTP_TIMEOUT, not cut in between.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*st.Timeout+10*time.Second)
	defer cancel()

	res, reply, sendErr := s.attempt(wctx, st, ssp, r)
	attempts := r.attempts + 1
	switch res {
	case delivered:
		// The bodies go once sent: they may carry invitation links, and the
		// outbox keeps only what an admin needs to follow a message.
		_, err = tx.Exec(wctx, `UPDATE truss_internal.email_outbox SET status = 'sent', attempts = $2, sent_at = now(),
			smtp_reply = $3, body_text = '', body_html = '' WHERE id = $1`, r.id, attempts, truncate(reply, 1000))
	case gaveUp:
		_, err = tx.Exec(wctx, `UPDATE truss_internal.email_outbox SET status = 'failed', attempts = $2, failed_at = now(),
			last_error = $3 WHERE id = $1`, r.id, attempts, truncate(errorText(sendErr), 2000))
	default:
		delay := s.backoff(attempts)
		_, err = tx.Exec(wctx, `UPDATE truss_internal.email_outbox SET attempts = $2, last_error = $3,
			next_attempt_at = now() + $4 * interval '1 millisecond' WHERE id = $1`,
			r.id, attempts, truncate(errorText(sendErr), 2000), delay.Milliseconds())
	}
	if err == nil {
		err = tx.Commit(wctx)
	}
	if err != nil {
		if res == delivered {
			// The at-least-once window of the package documentation.
			s.log.Error("email sent but not marked sent; it will be sent again", "outbox_id", r.id, "error", err)
		} else {
			s.log.Error("email outbox update failed", "outbox_id", r.id, "error", err)
		}
		return dbFailed
	}
	switch res {
	case delivered:
		s.log.Debug("email sent", "outbox_id", r.id, "kind", r.kind, "reply", reply)
	case gaveUp:
		s.log.Warn("email failed permanently", "outbox_id", r.id, "kind", r.kind, "attempts", attempts, "error", errorText(sendErr))
	default:
		s.log.Warn("email not sent, will retry", "outbox_id", r.id, "kind", r.kind, "attempts", attempts, "error", errorText(sendErr))
	}
	return res
}

// attempt sends r over the worker's session, opening one if needed, and
// classifies the result.
func (s *Service) attempt(ctx context.Context, st Settings, ssp **session, r outboxRow) (outcome, string, error) {
	msg, err := compose(st, r)
	if err != nil {
		return gaveUp, "", fmt.Errorf("the message cannot be composed: %w", err)
	}
	ss := *ssp
	if ss != nil && (ss.key != st.key() || ss.sent >= maxPerSession) {
		ss.close()
		ss = nil
	}
	reused := ss != nil
	if ss == nil {
		if ss, err = s.dial(ctx, st, nil, false); err != nil {
			*ssp = nil
			return connFailed, "", err
		}
	}
	reply, err := ss.send(msg)
	var se *SessionError
	if err != nil && reused && errors.As(err, &se) && se.Step == "mail" && (se.Code == 0 || se.Code == 421) {
		// The reused connection had gone stale (server idle timeout) before
		// this message started: nothing was sent, so reconnect and resend.
		ss.close()
		if ss, err = s.dial(ctx, st, nil, false); err != nil {
			*ssp = nil
			return connFailed, "", err
		}
		reply, err = ss.send(msg)
	}
	if err == nil {
		*ssp = ss
		return delivered, reply, nil
	}
	if !errors.As(err, &se) {
		ss.close()
		*ssp = nil
		return connFailed, "", err
	}
	if se.Code == 0 || se.Code == 421 {
		ss.close() // the connection is broken or being closed
		ss = nil
	}
	*ssp = ss
	switch {
	case se.permanent():
		return gaveUp, "", err
	case se.messageLevel() && r.attempts+1 >= s.opts.MaxAttempts:
		return gaveUp, "", fmt.Errorf("gave up after %d attempts; last: %s", r.attempts+1, errorText(err))
	case se.messageLevel():
		return retryLater, "", err
	}
	return connFailed, "", err
}

// backoff is the delay before attempt n+1: RetryBase doubling per attempt,
// capped at RetryMax, with ±20% jitter so retries of many messages spread.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.opts.RetryMax
	if attempts < 30 {
		d = min(s.opts.RetryBase<<(attempts-1), s.opts.RetryMax)
		if d <= 0 {
			d = s.opts.RetryMax
		}
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func compose(st Settings, r outboxRow) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(&mail.Address{Name: st.SenderName, Address: st.From})
	m.ToMailAddress(&mail.Address{Name: r.toName, Address: r.to})
	m.Subject(r.subject)
	m.SetMessageIDWithValue(r.messageID)
	m.SetDate()
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader(gomail.HeaderXMailer, "Truss")
	m.SetBodyString(gomail.TypeTextPlain, r.text)
	if r.html != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, r.html)
	}
	if _, err := m.GetRecipients(); err != nil {
		return nil, err
	}
	return m, nil
}

func errorText(err error) string {
	var se *SessionError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: %s", se.Step, se.Reply())
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Service) logDB(ctx context.Context, err error) {
	if ctx.Err() == nil {
		s.log.Warn("email outbox: database error", "error", err)
	}
}
