package email

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/config"
)

// TLS modes of SMTP_TLS and of the runtime settings.
const (
	TLSAuto     = "auto"     // from the port: 465 implicit, 587 STARTTLS required, else opportunistic
	TLSStartTLS = "starttls" // STARTTLS required
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS)
	TLSNone     = "none"     // never encrypt (local relays only)
)

// policy is what a TLS mode means on a given port.
type policy int

const (
	policyImplicit policy = iota
	policyStartTLSRequired
	policyStartTLSOpportunistic
	policyNone
)

func (p policy) String() string {
	switch p {
	case policyImplicit:
		return "implicit TLS"
	case policyStartTLSRequired:
		return "STARTTLS (required)"
	case policyStartTLSOpportunistic:
		return "STARTTLS if offered"
	}
	return "no TLS"
}

// Settings is the SMTP configuration in effect: the environment's, or the
// one an admin stored with PUT /api/settings/smtp.
type Settings struct {
	Host       string
	Port       int
	User       string
	Pass       string
	From       string
	SenderName string
	TLS        string
	Timeout    time.Duration
	// Source is "environment" or "database".
	Source    string
	UpdatedAt time.Time
	UpdatedBy string
	// passErr says why a stored password could not be decrypted.
	passErr error
	// passStored tells whether the database row holds a password.
	passStored bool
}

func fromConfig(c config.SMTP) Settings {
	return Settings{Host: c.Host, Port: c.Port, User: c.User, Pass: c.Pass, From: c.From, SenderName: c.SenderName,
		TLS: c.TLS, Timeout: c.Timeout, Source: "environment"}
}

// Enabled reports whether email is configured at all.
func (s Settings) Enabled() bool { return s.Host != "" }

// Addr is host:port.
func (s Settings) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s Settings) policy() policy {
	switch s.TLS {
	case TLSImplicit:
		return policyImplicit
	case TLSStartTLS:
		return policyStartTLSRequired
	case TLSNone:
		return policyNone
	}
	switch s.Port {
	case 465:
		return policyImplicit
	case 587:
		return policyStartTLSRequired
	}
	return policyStartTLSOpportunistic
}

// PasswordSet reports whether a password is configured (never the password).
func (s Settings) PasswordSet() bool { return s.Pass != "" || s.passStored }

// key identifies the connection parameters: a worker's open connection is
// reused only while the key is unchanged.
func (s Settings) key() string {
	return fmt.Sprintf("%s|%d|%s|%s|%s|%s|%s|%s|%s", s.Host, s.Port, s.User, s.Pass, s.TLS, s.Timeout, s.From,
		s.SenderName, s.UpdatedAt)
}

// settingsTTL bounds how long another instance's PUT takes to apply here.
const settingsTTL = 2 * time.Second

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Settings returns the settings in effect (cached for a moment).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return s.settingsVia(ctx, s.pool)
}

// settingsVia reads through q when the cache is stale: Enqueue passes the
// caller's transaction, so it never needs a second pool connection while
// the caller holds one.
func (s *Service) settingsVia(ctx context.Context, q querier) (Settings, error) {
	s.mu.Lock()
	if !s.at.IsZero() && time.Since(s.at) < settingsTTL {
		st := s.cached
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	st, err := s.loadSettingsVia(ctx, q)
	if err != nil {
		return Settings{}, err
	}
	s.mu.Lock()
	s.cached, s.at = st, time.Now()
	s.mu.Unlock()
	return st, nil
}

func (s *Service) invalidateSettings() {
	s.mu.Lock()
	s.at = time.Time{}
	s.mu.Unlock()
}

func (s *Service) loadSettings(ctx context.Context) (Settings, error) {
	return s.loadSettingsVia(ctx, s.pool)
}

func (s *Service) loadSettingsVia(ctx context.Context, q querier) (Settings, error) {
	var st Settings
	var enc []byte
	var timeoutMS int
	var by *string
	err := q.QueryRow(ctx, `SELECT host, port, username, password_enc, from_address, sender_name, tls_mode, timeout_ms,
		updated_at, updated_by::text FROM truss_internal.smtp_settings`).Scan(&st.Host, &st.Port, &st.User, &enc, &st.From,
		&st.SenderName, &st.TLS, &timeoutMS, &st.UpdatedAt, &by)
	if errors.Is(err, pgx.ErrNoRows) {
		return fromConfig(s.cfg.SMTP), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read SMTP settings: %w", err)
	}
	st.Source, st.Timeout = "database", time.Duration(timeoutMS)*time.Millisecond
	if by != nil {
		st.UpdatedBy = *by
	}
	if len(enc) > 0 {
		st.passStored = true
		pass, err := s.sealer.open(enc)
		if err != nil {
			st.passErr = err
		} else {
			st.Pass = string(pass)
		}
	}
	return st, nil
}
