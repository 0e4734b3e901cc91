package auth

import (
	"net/http"
	"strconv"
	"time"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// AdminSession is a Kratos session as the admin API shows it (never its token).
type AdminSession struct {
	ID              string          `json:"id"`
	IdentityID      string          `json:"identity_id"`
	Active          bool            `json:"active"`
	AAL             string          `json:"aal,omitempty"`
	Methods         []string        `json:"methods,omitempty"`
	AuthenticatedAt *time.Time      `json:"authenticated_at,omitempty"`
	IssuedAt        *time.Time      `json:"issued_at,omitempty"`
	ExpiresAt       *time.Time      `json:"expires_at,omitempty"`
	Devices         []SessionDevice `json:"devices,omitempty"`
}

// SessionDevice is where a session was used.
type SessionDevice struct {
	IPAddress string `json:"ip_address,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Location  string `json:"location,omitempty"`
}

// AdminSessionList answers GET /api/admin/identities/{id}/sessions.
type AdminSessionList struct {
	Sessions      []AdminSession `json:"sessions"`
	NextPageToken string         `json:"next_page_token,omitempty"`
}

// AdminListIdentitySessions answers GET /api/admin/identities/{id}/sessions:
// the identity's sessions, most recently authenticated first, active and
// revoked/expired ones unless ?active=true or ?active=false filters them.
// page_size 1..250 (default 50); page_token is the previous answer's
// next_page_token (absent on the last page; pages are offsets, so sessions
// created while paging shift them). 404 identity_not_found for an unknown id.
func (s *Service) AdminListIdentitySessions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	fields := map[string][]string{}
	size, sizeErr := pageSize(q.Get("page_size"))
	if sizeErr != "" {
		fields["page_size"] = []string{sizeErr}
	}
	page := 1
	if token := q.Get("page_token"); token != "" {
		n, perr := strconv.Atoi(token)
		if perr != nil || n < 2 || n > 100_000 {
			fields["page_token"] = []string{"must be a next_page_token returned by this endpoint"}
		}
		page = n
	}
	var active *bool
	if raw := q.Get("active"); raw != "" {
		b, perr := strconv.ParseBool(raw)
		if perr != nil {
			fields["active"] = []string{"must be true or false"}
		}
		active = &b
	}
	if len(fields) > 0 {
		return httpjson.Invalid("Invalid query parameters.", fields)
	}
	// Kratos lists sessions of unknown identities as an empty list: ask
	// for the identity first so an unknown id is a 404.
	if _, err := s.getIdentity(r.Context(), id); err != nil {
		s.adminAudit(r, "admin_sessions_list", err, id, nil)
		return err
	}
	ka := s.ory.KratosAdmin
	// Kratos v1.3.1's token pagination of this endpoint repeats the first
	// page (its tokens count pages from 0, its database layer from 1), so
	// Truss pages itself with the legacy page/per_page parameters, whose
	// page numbers are the database layer's (1 = first), and issues its own
	// tokens: the number of the next page, when X-Total-Count says there is one.
	req := ka.API.IdentityAPI.ListIdentitySessions(r.Context(), id).PerPage(int64(size)).Page(int64(page))
	if active != nil {
		req = req.Active(*active)
	}
	list, resp, err := req.Execute()
	if err != nil {
		err = adminKratosError(ka, err, resp, identityNotFound())
		s.adminAudit(r, "admin_sessions_list", err, id, nil)
		return err
	}
	out := AdminSessionList{Sessions: make([]AdminSession, 0, len(list))}
	if total, perr := strconv.Atoi(resp.Header.Get("X-Total-Count")); perr == nil && page*size < total && len(list) > 0 {
		out.NextPageToken = strconv.Itoa(page + 1)
	}
	for i := range list {
		out.Sessions = append(out.Sessions, toAdminSession(&list[i], id))
	}
	s.adminAudit(r, "admin_sessions_list", nil, id, map[string]any{"count": len(list)})
	return httpjson.Write(w, http.StatusOK, out)
}

// AdminRevokeIdentitySessions answers DELETE /api/admin/identities/{id}/sessions
// with 204: every Kratos session of the identity is deleted, and this
// instance's cache forgets them at once (other instances: within
// SESSION_CACHE_TTL). An identity without sessions also gets 204.
func (s *Service) AdminRevokeIdentitySessions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// Kratos answers 404 both for "no sessions" and "no identity".
	_, err = s.getIdentity(r.Context(), id)
	if err == nil {
		err = s.revokeAllSessions(r.Context(), id)
	}
	s.cache.deleteIdentity(id)
	s.adminAudit(r, "admin_sessions_revoke_all", err, id, nil)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// AdminRevokeSession answers DELETE /api/admin/sessions/{session_id} with
// 204: the session is revoked in Kratos (it stays listed as inactive) and
// dropped from this instance's cache at once. 404 session_not_found for an
// unknown id.
func (s *Service) AdminRevokeSession(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathID(r, "session_id")
	if err != nil {
		return err
	}
	ka := s.ory.KratosAdmin
	notFound := apierror.New(http.StatusNotFound, "session_not_found", "No session has this id.").
		WithHint("List an identity's sessions with GET /api/admin/identities/{id}/sessions.")
	sess, resp, err := ka.API.IdentityAPI.GetSession(r.Context(), sid).Expand([]string{"identity"}).Execute()
	if err != nil {
		err = adminKratosError(ka, err, resp, notFound)
		s.adminAudit(r, "admin_session_revoke", err, "", map[string]any{"session_id": sid})
		return err
	}
	identityID := ""
	if sess.Identity != nil {
		identityID = sess.Identity.Id
	}
	resp, err = ka.API.IdentityAPI.DisableSession(r.Context(), sid).Execute()
	if err != nil {
		err = adminKratosError(ka, err, resp, notFound)
	}
	s.cache.deleteSession(sid)
	s.adminAudit(r, "admin_session_revoke", err, identityID, map[string]any{"session_id": sid})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func toAdminSession(sess *client.Session, identityID string) AdminSession {
	out := AdminSession{ID: sess.Id, IdentityID: identityID, Active: sess.GetActive(),
		AuthenticatedAt: sess.AuthenticatedAt, IssuedAt: sess.IssuedAt, ExpiresAt: sess.ExpiresAt}
	if sess.Identity != nil {
		out.IdentityID = sess.Identity.Id
	}
	if sess.AuthenticatorAssuranceLevel != nil {
		out.AAL = string(*sess.AuthenticatorAssuranceLevel)
	}
	for _, m := range sess.AuthenticationMethods {
		if m.Method != nil {
			out.Methods = append(out.Methods, *m.Method)
		}
	}
	for _, d := range sess.Devices {
		out.Devices = append(out.Devices, SessionDevice{IPAddress: d.GetIpAddress(), UserAgent: d.GetUserAgent(), Location: d.GetLocation()})
	}
	return out
}

// deleteSession drops the cached principal of one session (admin revocation
// of a single session).
func (c *sessionCache) deleteSession(sessionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.p.SessionID == sessionID {
			delete(c.entries, k)
		}
	}
}
