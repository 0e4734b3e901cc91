package oauth2

import (
	"context"
	"net/http"
	"time"
)

// audit records an OAuth2 action of the signed-in user in
// truss_internal.audit_events (subject: the client id). A failure to record
// is logged, never fatal: the action already happened.
func (h *Handlers) audit(r *http.Request, action, clientID string, details map[string]any) {
	if h.pool == nil {
		return
	}
	var actor, tenant, ip, subject any
	if p := principal(r); p != nil {
		actor, tenant = p.IdentityID, p.TenantID
		if !validUUID(p.TenantID) {
			tenant = nil
		}
		if !validUUID(p.IdentityID) {
			actor = nil
		}
	}
	if a := h.cfg.TrustedProxies.ClientIP(r); a.IsValid() {
		ip = a.String()
	}
	if clientID != "" {
		subject = clientID
	}
	if details == nil {
		details = map[string]any{}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	_, err := h.pool.Exec(ctx, `INSERT INTO truss_internal.audit_events (action, success, actor_id, tenant_id, subject, ip, user_agent, details)
		VALUES ($1, true, $2, $3, $4, $5, $6, $7)`, action, actor, tenant, subject, ip, truncate(r.UserAgent(), 300), details)
	if err != nil && h.log != nil {
		h.log.Warn("audit event not recorded", "action", action, "error", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return false
		}
	}
	return true
}
