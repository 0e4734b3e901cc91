package auth

import (
	"context"
	"net/http"
	"time"
)

// audit records a security event. It never blocks or fails the request: a
// failure to write is logged (the event data, never secrets).
func (s *Service) audit(r *http.Request, action string, success bool, actorID, subject string, details map[string]any) {
	var actor, ip any
	if actorID != "" {
		actor = actorID
	}
	if a := s.cfg.TrustedProxies.ClientIP(r); a.IsValid() {
		ip = a.String()
	}
	if details == nil {
		details = map[string]any{}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO truss_internal.audit_events (action, success, actor_id, subject, ip, user_agent, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, action, success, actor, subject, ip, truncate(r.UserAgent(), 300), details)
	if err != nil {
		s.log.Warn("audit event not recorded", "action", action, "error", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
