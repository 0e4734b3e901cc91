package auth

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/httpjson"
)

// Limits of GET /api/admin/identities/{id}/logins.
const (
	adminLoginsDefault = 50
	adminLoginsMax     = 200
)

// AdminLogin is one login attempt from the audit log.
type AdminLogin struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Action    string    `json:"action"` // login or login_second_factor
	Success   bool      `json:"success"`
	Email     string    `json:"email,omitempty"` // as typed, for password steps
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Reason    string    `json:"reason,omitempty"` // error code of a failure
}

// AdminLoginHistory answers GET /api/admin/identities/{id}/logins.
type AdminLoginHistory struct {
	IdentityID string       `json:"identity_id"`
	Email      string       `json:"email"`
	Logins     []AdminLogin `json:"logins"`
}

// AdminIdentityLogins answers GET /api/admin/identities/{id}/logins?limit=
// with the identity's login attempts from Truss's audit log, newest first:
// actions login and login_second_factor, successes and failures; limit
// 1..200, default 50. 404 identity_not_found for an unknown id.
//
// Successful logins are recorded with the identity as actor; failed password
// logins only with the email as typed (no identity is known then), so they
// are matched by the identity's current email, exactly and in lower case
// (Kratos matches logins case-insensitively; an attempt typed with other
// capitals is not found, and attempts under a previous email are not either).
// Failed second-factor steps are recorded without actor or email and cannot
// be attributed to an identity. The log is per Truss database: attempts
// served by this deployment only.
func (s *Service) AdminIdentityLogins(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit := adminLoginsDefault
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, perr := strconv.Atoi(raw)
		if perr != nil || n < 1 || n > adminLoginsMax {
			return httpjson.Invalid("Invalid limit.", map[string][]string{"limit": {"must be a number from 1 to 200"}})
		}
		limit = n
	}
	ident, err := s.getIdentity(r.Context(), id)
	if err != nil {
		s.adminAudit(r, "admin_logins_list", err, id, nil)
		return err
	}
	email, _ := traitsOf(ident.Traits)
	emails := []string{}
	if email != "" {
		emails = append(emails, email)
		if lower := strings.ToLower(email); lower != email {
			emails = append(emails, lower)
		}
	}
	// Both branches use an index (actor_id, at) / (subject, at).
	rows, err := s.pool.Query(r.Context(), `
		SELECT id, at, action, success, coalesce(subject, ''), coalesce(host(ip), ''), coalesce(user_agent, ''),
		       coalesce(details->>'reason', '')
		FROM truss_internal.audit_events
		WHERE action IN ('login', 'login_second_factor')
		  AND (actor_id = $1 OR (actor_id IS NULL AND subject = ANY($2)))
		ORDER BY at DESC, id DESC
		LIMIT $3`, id, emails, limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := AdminLoginHistory{IdentityID: id, Email: email, Logins: []AdminLogin{}}
	for rows.Next() {
		var l AdminLogin
		if err := rows.Scan(&l.ID, &l.At, &l.Action, &l.Success, &l.Email, &l.IP, &l.UserAgent, &l.Reason); err != nil {
			return err
		}
		out.Logins = append(out.Logins, l)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.adminAudit(r, "admin_logins_list", nil, id, map[string]any{"count": len(out.Logins)})
	return httpjson.Write(w, http.StatusOK, out)
}
