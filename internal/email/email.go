// Package email is Truss's outgoing mail: the SMTP sender (go-mail's SMTP
// client, STARTTLS on 587 by default), an outbox in PostgreSQL that a worker
// drains with retries, the templates of Truss's own messages, and the admin
// endpoints /api/settings/smtp, /api/settings/smtp/test and
// /api/email/outbox.
//
// # Delivery guarantee
//
// A message is enqueued in the transaction of the action that causes it
// (Enqueue takes the caller's pgx.Tx), so it exists if and only if the
// action committed. A worker claims one due message with
// SELECT ... FOR UPDATE SKIP LOCKED, sends it over a reused SMTP connection
// and marks it sent in that same transaction. Workers (in this process or in
// other instances) never claim the same row twice, and a message that is
// not marked sent is still pending: nothing is lost when Truss restarts or
// the SMTP server is down.
//
// That is at-least-once delivery, not exactly-once: SMTP has no way to take
// back or deduplicate a message, so there is a window between the server's
// "250 queued" and the COMMIT (normally well under a millisecond; longer
// only if PostgreSQL becomes unreachable exactly then, or the process is
// killed exactly then) in which a crash leaves the row pending and the
// message is sent again later. The Message-ID header is fixed at enqueue
// time, so the two copies carry the same Message-ID and clients that
// deduplicate on it show one. The same holds when the connection drops
// after the message's final "." but before the server's reply arrives (the
// classic SMTP duplicate, RFC 1047): Truss cannot know the message was
// accepted, so it retries. Outside those windows every message is sent
// exactly once.
//
// A permanent rejection of the message (5xx to RCPT TO or to its data) is
// marked failed with the server's reply and never retried; a temporary one
// (4xx) is retried with exponential backoff and jitter, up to MaxAttempts.
// Failures that are not the message's fault (DNS, connect, TLS, AUTH, a 5xx
// to MAIL FROM such as "sender not allowed") keep it pending and are
// retried until the server or the settings are fixed; GET /api/email/outbox
// shows the last error. A sent message's bodies are deleted (they may carry
// invitation links); its metadata stays for the outbox listing.
package email

import (
	"crypto/tls"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/config"
)

// Options tune the outbox worker. Zero values take the defaults.
type Options struct {
	// Workers is the number of concurrent senders of this instance, each
	// with its own SMTP connection (default 2).
	Workers int
	// PollInterval is how often an idle worker looks for due messages
	// (default 1s). Enqueue in this process wakes a worker at once.
	PollInterval time.Duration
	// RetryBase is the delay before the first retry; it doubles per attempt
	// up to RetryMax, with ±20% jitter (defaults 10s and 30m).
	RetryBase, RetryMax time.Duration
	// MaxAttempts bounds retries of a message the SMTP server refuses
	// temporarily (4xx to RCPT TO or DATA); default 20. Failures to reach or
	// log in to the server are retried until they succeed: the message is
	// not at fault.
	MaxAttempts int
	// TLSConfig, if set, is the base of every TLS connection (tests pass a
	// RootCAs pool with their own certificate authority).
	TLSConfig *tls.Config
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 10 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 20
	}
}

// Service sends Truss's email. It is safe for concurrent use.
type Service struct {
	cfg       config.Config
	pool      *pgxpool.Pool
	log       *slog.Logger
	opts      Options
	sealer    *sealer
	templates *templates
	wake      chan struct{}

	mu     sync.Mutex
	cached Settings
	at     time.Time
}

// New builds the service. Start runs its workers.
func New(cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, opts Options) *Service {
	opts.defaults()
	return &Service{cfg: cfg, pool: pool, log: log, opts: opts, sealer: newSealer(cfg.SecretKey),
		templates: mustParseTemplates(), wake: make(chan struct{}, 1)}
}
