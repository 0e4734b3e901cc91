package oauth2

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	client "github.com/ory/client-go"
)

// ConsentSession is one application the signed-in user granted access to.
type ConsentSession struct {
	Client                   ClientSummary `json:"client"`
	GrantScope               []string      `json:"grant_scope"`
	GrantAccessTokenAudience []string      `json:"grant_access_token_audience"`
	Remember                 bool          `json:"remember"`
	RememberFor              int64         `json:"remember_for"`
	HandledAt                *time.Time    `json:"handled_at,omitempty"`
}

// ConsentSessionList is the answer of GET /api/hydra/consent-sessions.
type ConsentSessionList struct {
	ConsentSessions []ConsentSession `json:"consent_sessions"`
	NextPageToken   string           `json:"next_page_token,omitempty"`
}

// ListConsentSessions answers GET /api/hydra/consent-sessions: the
// applications the signed-in user has granted access (page_size 1..500,
// page_token).
func (h *Handlers) ListConsentSessions(w http.ResponseWriter, r *http.Request) error {
	q := url.Values{"subject": {principal(r).IdentityID}}
	if s := r.URL.Query().Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxClientPageSize {
			return fieldError("page_size", "must be an integer from 1 to 500")
		}
		q.Set("page_size", s)
	}
	if t := r.URL.Query().Get("page_token"); t != "" {
		if len(t) > 2048 || !pageTokenPattern.MatchString(t) {
			return fieldError("page_token", "must be a next_page_token returned by this endpoint")
		}
		q.Set("page_token", t)
	}
	ep := h.Ory.HydraAdmin
	var found []client.OAuth2ConsentSession
	_, hdr, rep, err := exchange(r.Context(), ep, http.MethodGet, "/admin/oauth2/auth/sessions/consent", q, nil, &found)
	if err != nil {
		return err
	}
	if rep != nil {
		if rep.Status == http.StatusBadRequest && q.Has("page_token") {
			return fieldError("page_token", "must be a next_page_token returned by this endpoint")
		}
		return unexpected(ep, rep)
	}
	out := ConsentSessionList{ConsentSessions: []ConsentSession{}, NextPageToken: nextPageToken(hdr)}
	for _, s := range found {
		cs := ConsentSession{GrantScope: nonNil(s.GrantScope), GrantAccessTokenAudience: nonNil(s.GrantAccessTokenAudience),
			Remember: s.GetRemember(), RememberFor: s.GetRememberFor(), HandledAt: s.HandledAt}
		if s.ConsentRequest != nil {
			cs.Client = summarize(s.ConsentRequest.Client)
		}
		out.ConsentSessions = append(out.ConsentSessions, cs)
	}
	return writeJSON(w, http.StatusOK, out)
}

// RevokeConsentSessions answers DELETE /api/hydra/consent-sessions (every
// application) and DELETE /api/hydra/consent-sessions/{client_id} (one):
// the signed-in user's consents are forgotten and the tokens issued under
// them revoked (204).
func (h *Handlers) RevokeConsentSessions(w http.ResponseWriter, r *http.Request) error {
	q := url.Values{"subject": {principal(r).IdentityID}}
	if id := r.PathValue("client_id"); id != "" {
		if !validClientID(id) {
			return clientNotFound()
		}
		q.Set("client", id)
	} else {
		q.Set("all", "true")
	}
	ep := h.Ory.HydraAdmin
	_, rep, err := callReply(r.Context(), ep, http.MethodDelete, "/admin/oauth2/auth/sessions/consent", q, nil, nil)
	if err != nil {
		return err
	}
	if rep != nil && rep.Status != http.StatusNotFound {
		return unexpected(ep, rep)
	}
	h.audit(r, "oauth2_consent_revoke", q.Get("client"), nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
