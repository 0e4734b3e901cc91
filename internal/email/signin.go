package email

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// NotifySignIn queues the new-sign-in alert when an account signs in from
// an IP address and browser (user agent) it never signed in from before.
// The first sign-in of an account (its registration) alerts nobody. Call it
// after the sign-in is recorded in truss_internal.audit_events (internal/auth
// does that in issueSession). It never fails the sign-in: problems are
// logged, and nothing is sent when email is disabled.
func (s *Service) NotifySignIn(r *http.Request, identityID, to, name string) {
	if to == "" || identityID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 3*time.Second)
	defer cancel()
	var ip any
	ipText := ""
	if a := s.cfg.TrustedProxies.ClientIP(r); a.IsValid() {
		ip, ipText = a.String(), a.String()
	}
	ua := truncate(r.UserAgent(), 300)
	var same, total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE ip IS NOT DISTINCT FROM $2::inet AND user_agent IS NOT DISTINCT FROM $3),
		count(*) FROM truss_internal.audit_events
		WHERE actor_id = $1 AND success AND action IN ('login', 'login_second_factor', 'register')`,
		identityID, ip, ua).Scan(&same, &total)
	if err != nil {
		s.log.Warn("sign-in alert: cannot read the sign-in history", "identity_id", identityID, "error", err)
		return
	}
	if total <= 1 || same >= 2 {
		return // the first sign-in ever, or a known device and network
	}
	_, err = s.Send(ctx, to, SignInAlert{Name: name, At: time.Now(), IP: ipText, UserAgent: ua,
		SecurityURL: s.cfg.PublicURL.String() + "/auth/settings"})
	if err != nil && !errors.Is(err, ErrDisabled) {
		s.log.Warn("sign-in alert not queued", "identity_id", identityID, "error", err)
	}
}
