package auth

import (
	"net/http"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// Routes (internal/server/routes.go), for the signed-in user's own sessions:
//
//	GET    /api/auth/sessions       ListMySessions
//	DELETE /api/auth/sessions       RevokeMyOtherSessions
//	DELETE /api/auth/sessions/{id}  RevokeMySession
//
// They call Kratos's self-service (frontend) API with the caller's own
// session token, so Kratos itself confines them to the caller's identity:
// another user's session id is unknown to it (404 here).

// mySessionsMax bounds the list (Kratos pages; a user with more than this
// many live sessions sees the newest and can sign out all others).
const mySessionsMax = 250

// MySession is one of the caller's sessions (never its token).
type MySession struct {
	AdminSession
	// Current marks the session of this request.
	Current bool `json:"current"`
}

// MySessionList answers GET /api/auth/sessions.
type MySessionList struct {
	Sessions []MySession `json:"sessions"`
}

// ListMySessions answers GET /api/auth/sessions: the caller's active
// sessions, the current one first (Kratos lists the others).
func (s *Service) ListMySessions(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	out := MySessionList{Sessions: []MySession{}}
	if p.token == "" { // TRUSS_AUTH_REQUIRED=false: no Kratos session at all
		return httpjson.Write(w, http.StatusOK, out)
	}
	kp := s.ory.KratosPublic
	cur, resp, err := kp.API.FrontendAPI.ToSession(r.Context()).XSessionToken(p.token).Execute()
	if apiErr := kp.Check(err, resp); apiErr != nil {
		return apiErr
	}
	if err != nil || cur == nil {
		s.cache.delete(cacheKey(p.token))
		return apierror.Unauthorized("The session is invalid or has expired. Sign in again.")
	}
	out.Sessions = append(out.Sessions, MySession{AdminSession: toAdminSession(cur, p.IdentityID), Current: true})
	others, resp, err := kp.API.FrontendAPI.ListMySessions(r.Context()).XSessionToken(p.token).PerPage(mySessionsMax).Page(1).Execute()
	if apiErr := kp.Check(err, resp); apiErr != nil {
		return apiErr
	}
	if err != nil {
		return flowError(kp, err, resp)
	}
	for i := range others {
		if others[i].Id == cur.Id || !others[i].GetActive() {
			continue
		}
		out.Sessions = append(out.Sessions, MySession{AdminSession: toAdminSession(&others[i], p.IdentityID)})
	}
	return httpjson.Write(w, http.StatusOK, out)
}

// RevokeMySession answers DELETE /api/auth/sessions/{id} with 204: one of
// the caller's other sessions is revoked in Kratos and dropped from this
// instance's cache at once. The current session is refused (422 validation_failed: sign out
// with POST /api/auth/logout); a session that is not the caller's is 404
// session_not_found, exactly like an unknown one.
func (s *Service) RevokeMySession(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, _ := FromContext(r.Context())
	if sid == p.SessionID {
		return httpjson.Invalid("This is the session of this request.", map[string][]string{
			"id": {"is the current session: sign out with POST /api/auth/logout instead"}})
	}
	notFound := apierror.New(http.StatusNotFound, "session_not_found", "You have no session with this id.").
		WithHint("List your sessions with GET /api/auth/sessions.")
	if p.token == "" {
		return notFound
	}
	kp := s.ory.KratosPublic
	// Kratos v1.3.1 answers 204 to DELETE /sessions/{id} whatever the id
	// (its revocation is "WHERE id = ? AND identity_id = ?", unchecked), so
	// the session must be found among the caller's own first.
	own, err := s.ownsSession(r, p.token, sid)
	if err != nil {
		return err
	}
	if !own {
		s.audit(r, "session_revoke_own", false, p.IdentityID, p.Email, map[string]any{"session_id": sid})
		return notFound
	}
	resp, err := kp.API.FrontendAPI.DisableMySession(r.Context(), sid).XSessionToken(p.token).Execute()
	if apiErr := kp.Check(err, resp); apiErr != nil {
		return apiErr
	}
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest) {
			return notFound
		}
		return flowError(kp, err, resp)
	}
	s.cache.deleteSession(sid)
	s.audit(r, "session_revoke_own", true, p.IdentityID, p.Email, map[string]any{"session_id": sid})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ownsSession reports whether sid is one of the other active sessions of
// the token's identity.
func (s *Service) ownsSession(r *http.Request, token, sid string) (bool, error) {
	found := false
	err := s.eachOtherSession(r, token, func(sess *client.Session) bool {
		found = sess.Id == sid
		return !found
	})
	return found, err
}

// countOtherSessions counts the other active sessions of the token's identity.
func (s *Service) countOtherSessions(r *http.Request, token string) (int, error) {
	n := 0
	err := s.eachOtherSession(r, token, func(sess *client.Session) bool {
		if sess.GetActive() {
			n++
		}
		return true
	})
	return n, err
}

// eachOtherSession walks Kratos's list of the token identity's other
// sessions, page by page, while fn returns true.
func (s *Service) eachOtherSession(r *http.Request, token string, fn func(*client.Session) bool) error {
	kp := s.ory.KratosPublic
	for page := int64(1); page <= 40; page++ {
		list, resp, err := kp.API.FrontendAPI.ListMySessions(r.Context()).XSessionToken(token).PerPage(mySessionsMax).Page(page).Execute()
		if apiErr := kp.Check(err, resp); apiErr != nil {
			return apiErr
		}
		if err != nil {
			return flowError(kp, err, resp)
		}
		for i := range list {
			if !fn(&list[i]) {
				return nil
			}
		}
		if len(list) < mySessionsMax {
			return nil
		}
	}
	return nil
}

// RevokeMyOtherSessions answers DELETE /api/auth/sessions with 200
// {"revoked": n}: every session of the caller but this one is revoked in
// Kratos and dropped from this instance's cache.
func (s *Service) RevokeMyOtherSessions(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	if p.token == "" {
		return httpjson.Write(w, http.StatusOK, map[string]any{"revoked": 0})
	}
	// What the user sees as signed in elsewhere, counted before.
	n, err := s.countOtherSessions(r, p.token)
	if err != nil {
		return err
	}
	kp := s.ory.KratosPublic
	res, resp, err := kp.API.FrontendAPI.DisableMyOtherSessions(r.Context()).XSessionToken(p.token).Execute()
	if apiErr := kp.Check(err, resp); apiErr != nil {
		return apiErr
	}
	if err != nil {
		return flowError(kp, err, resp)
	}
	s.cache.deleteIdentityExcept(p.IdentityID, p.SessionID)
	_ = res // Kratos's count includes sessions that were already inactive
	s.audit(r, "session_revoke_others", true, p.IdentityID, p.Email, map[string]any{"count": n})
	return httpjson.Write(w, http.StatusOK, map[string]any{"revoked": n})
}

// deleteIdentityExcept drops every cached session of an identity but one.
func (c *sessionCache) deleteIdentityExcept(identityID, keepSessionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.p.IdentityID == identityID && e.p.SessionID != keepSessionID {
			delete(c.entries, k)
		}
	}
}
