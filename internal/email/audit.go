package email

import (
	"context"
	"net/http"
	"time"

	"github.com/trussdev/truss/internal/auth"
)

// audit records an admin action on email settings in
// truss_internal.audit_events, like internal/auth does. It never fails the
// request; a failure to record is logged.
func (s *Service) audit(r *http.Request, action string, success bool, details map[string]any) {
	var actor, ip any
	if p, ok := auth.FromContext(r.Context()); ok && p.IdentityID != "" {
		actor = p.IdentityID
	}
	if a := s.cfg.TrustedProxies.ClientIP(r); a.IsValid() {
		ip = a.String()
	}
	if details == nil {
		details = map[string]any{}
	}
	ua := r.UserAgent()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO truss_internal.audit_events (action, success, actor_id, subject, ip, user_agent, details)
		VALUES ($1, $2, $3, 'smtp', $4, $5, $6)`, action, success, actor, ip, ua, details); err != nil {
		s.log.Warn("audit event not recorded", "action", action, "error", err)
	}
}
