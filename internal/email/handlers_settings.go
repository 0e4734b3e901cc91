package email

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
)

// SettingsView is the body of GET/PUT/DELETE /api/settings/smtp. The
// password is never returned, only whether one is set.
type SettingsView struct {
	Source              string     `json:"source"` // environment or database
	Enabled             bool       `json:"enabled"`
	Host                string     `json:"host"`
	Port                int        `json:"port"`
	User                string     `json:"user"`
	PasswordSet         bool       `json:"password_set"`
	PasswordError       string     `json:"password_error,omitempty"`
	From                string     `json:"from"`
	SenderName          string     `json:"sender_name"`
	TLS                 string     `json:"tls"`
	TLSEffective        string     `json:"tls_effective"`
	Timeout             string     `json:"timeout"`
	UpdatedAt           *time.Time `json:"updated_at,omitempty"`
	UpdatedBy           string     `json:"updated_by,omitempty"`
	SecretKeyConfigured bool       `json:"secret_key_configured"`
	// KratosCourierURI is what Kratos's courier needs to use the same
	// server; Kratos does not see runtime changes by itself.
	KratosCourierURI string `json:"kratos_courier_uri,omitempty"`
}

func (s *Service) view(st Settings) SettingsView {
	v := SettingsView{Source: st.Source, Enabled: st.Enabled(), Host: st.Host, Port: st.Port, User: st.User,
		PasswordSet: st.PasswordSet(), From: st.From, SenderName: st.SenderName, TLS: st.TLS,
		TLSEffective: st.policy().String(), Timeout: st.Timeout.String(), UpdatedBy: st.UpdatedBy,
		SecretKeyConfigured: s.sealer != nil, KratosCourierURI: KratosCourierURI(st)}
	if !st.UpdatedAt.IsZero() {
		v.UpdatedAt = &st.UpdatedAt
	}
	if st.passErr != nil {
		v.PasswordError = st.passErr.Error()
	}
	return v
}

// GetSettings answers GET /api/settings/smtp (admins).
func (s *Service) GetSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.loadSettings(r.Context())
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, s.view(st))
}

// SettingsInput is the body of PUT /api/settings/smtp. It replaces the
// environment's SMTP settings until DELETE /api/settings/smtp. Password:
// absent keeps the stored one, "" removes it, a value replaces it.
// sender_name, when given, wins over a display name written in from.
// Defaults: port 587, tls auto, timeout 10s.
type SettingsInput struct {
	Host       string  `json:"host"`
	Port       int     `json:"port"`
	User       string  `json:"user"`
	Password   *string `json:"password"`
	From       string  `json:"from"`
	SenderName string  `json:"sender_name"`
	TLS        string  `json:"tls"`
	Timeout    string  `json:"timeout"`
}

// CodeSecretKeyMissing: a password cannot be stored without TRUSS_SECRET_KEY.
const CodeSecretKeyMissing = "secret_key_missing"

func (in *SettingsInput) validate() (Settings, map[string][]string) {
	fields := map[string][]string{}
	bad := func(f, msg string) { fields[f] = append(fields[f], msg) }
	st := Settings{Host: strings.TrimSpace(in.Host), Port: in.Port, User: in.User, From: strings.TrimSpace(in.From),
		SenderName: strings.TrimSpace(in.SenderName), TLS: in.TLS}
	switch {
	case st.Host == "":
		bad("host", "is required (DELETE /api/settings/smtp returns to the environment's settings)")
	case len(st.Host) > 253 || strings.ContainsAny(st.Host, " /\\@:\r\n\t") && !isIPv6(st.Host):
		bad("host", "must be a host name or IP address such as smtp.example.com (no scheme, port or path)")
	}
	if st.Port == 0 {
		st.Port = 587
	}
	if st.Port < 1 || st.Port > 65535 {
		bad("port", "must be from 1 to 65535")
	}
	if strings.ContainsAny(in.User, "\r\n") || len(in.User) > 320 {
		bad("user", "must be one line of at most 320 characters")
	}
	if in.Password != nil && (strings.ContainsAny(*in.Password, "\r\n") || len(*in.Password) > 1024) {
		bad("password", "must be one line of at most 1024 characters")
	}
	if a, err := mail.ParseAddress(st.From); err != nil || strings.ContainsAny(st.From, "\r\n") {
		bad("from", "must be an email address such as no-reply@example.com")
	} else {
		st.From = a.Address
		if st.SenderName == "" {
			st.SenderName = a.Name
		}
	}
	if strings.ContainsAny(st.SenderName, "\r\n") || len(st.SenderName) > 200 {
		bad("sender_name", "must be one line of at most 200 characters")
	}
	if st.TLS == "" {
		st.TLS = TLSAuto
	}
	switch st.TLS {
	case TLSAuto, TLSStartTLS, TLSImplicit, TLSNone:
	default:
		bad("tls", "must be auto, starttls, tls or none")
	}
	st.Timeout = 10 * time.Second
	if in.Timeout != "" {
		d, err := time.ParseDuration(in.Timeout)
		if err != nil || d < 100*time.Millisecond || d > 5*time.Minute {
			bad("timeout", "must be a duration from 100ms to 5m such as 10s")
		}
		st.Timeout = d
	}
	return st, fields
}

func isIPv6(h string) bool {
	return strings.Count(h, ":") >= 2 && !strings.ContainsAny(h, " /\\@\r\n\t")
}

// PutSettings answers PUT /api/settings/smtp (admins).
func (s *Service) PutSettings(w http.ResponseWriter, r *http.Request) error {
	var in SettingsInput
	if err := httpjson.Decode(r, &in); err != nil {
		return err
	}
	st, fields := in.validate()
	if len(fields) > 0 {
		return httpjson.Invalid("The SMTP settings are invalid.", fields)
	}
	keep := in.Password == nil
	var enc []byte
	if !keep && *in.Password != "" {
		var err error
		if enc, err = s.sealer.seal([]byte(*in.Password)); err != nil {
			return apierror.New(http.StatusConflict, CodeSecretKeyMissing,
				"The SMTP password cannot be stored: TRUSS_SECRET_KEY is not set, so it could not be encrypted.").
				WithHint("Set TRUSS_SECRET_KEY to at least 32 random characters (openssl rand -base64 32) and restart Truss, " +
					"or put the password in SMTP_PASS instead.")
		}
	}
	var by any
	if p, ok := auth.FromContext(r.Context()); ok && p.IdentityID != "" {
		by = p.IdentityID
	}
	_, err := s.pool.Exec(r.Context(), `INSERT INTO truss_internal.smtp_settings
		(host, port, username, password_enc, from_address, sender_name, tls_mode, timeout_ms, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9)
		ON CONFLICT (singleton) DO UPDATE SET host = EXCLUDED.host, port = EXCLUDED.port, username = EXCLUDED.username,
			password_enc = CASE WHEN $10 THEN smtp_settings.password_enc ELSE EXCLUDED.password_enc END,
			from_address = EXCLUDED.from_address, sender_name = EXCLUDED.sender_name, tls_mode = EXCLUDED.tls_mode,
			timeout_ms = EXCLUDED.timeout_ms, updated_at = now(), updated_by = EXCLUDED.updated_by`,
		st.Host, st.Port, st.User, enc, st.From, st.SenderName, st.TLS, st.Timeout.Milliseconds(), by, keep)
	if err != nil {
		return fmt.Errorf("store SMTP settings: %w", err)
	}
	s.invalidateSettings()
	s.Wake()
	s.audit(r, "smtp_settings_update", true, map[string]any{"host": st.Host, "port": st.Port, "user": st.User,
		"tls": st.TLS, "password": passwordChange(in.Password)})
	return s.GetSettings(w, r)
}

func passwordChange(p *string) string {
	switch {
	case p == nil:
		return "kept"
	case *p == "":
		return "removed"
	}
	return "set"
}

// DeleteSettings answers DELETE /api/settings/smtp (admins): the SMTP_*
// environment variables apply again.
func (s *Service) DeleteSettings(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.pool.Exec(r.Context(), `DELETE FROM truss_internal.smtp_settings`); err != nil {
		return fmt.Errorf("delete SMTP settings: %w", err)
	}
	s.invalidateSettings()
	s.Wake()
	s.audit(r, "smtp_settings_reset", true, nil)
	return s.GetSettings(w, r)
}

// freshSettings bypasses the cache (admin endpoints act on what is stored).
func (s *Service) freshSettings(ctx context.Context) (Settings, error) {
	s.invalidateSettings()
	return s.Settings(ctx)
}
