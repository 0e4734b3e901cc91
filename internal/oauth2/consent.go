package oauth2

import (
	"fmt"
	"net/http"
	"slices"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/httpjson"
)

// maxRememberFor bounds a remembered consent (one year).
const maxRememberFor = 365 * 24 * 3600

// ConsentInfo answers GET /api/hydra/consent?consent_challenge=...: what
// the consent screen shows. Only the user the consent is asked of may read
// it; for anyone else the challenge does not exist (404).
func (h *Handlers) ConsentInfo(w http.ResponseWriter, r *http.Request) error {
	challenge, err := challengeParam(r, kindConsent)
	if err != nil {
		return err
	}
	cr, err := h.ownConsent(r, challenge)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"challenge":                       challenge,
		"client":                          summarize(cr.Client),
		"subject":                         cr.GetSubject(),
		"requested_scope":                 nonNil(cr.RequestedScope),
		"requested_access_token_audience": nonNil(cr.RequestedAccessTokenAudience),
		"skip":                            cr.GetSkip(),
	})
}

// ConsentAcceptRequest is the body of POST /api/hydra/consent/accept.
// grant_scope and grant_access_token_audience default to everything
// requested and must be subsets of it; remember makes Hydra skip the screen
// next time (for remember_for seconds, 0 = forever, at most a year).
type ConsentAcceptRequest struct {
	ConsentChallenge         string   `json:"consent_challenge"`
	GrantScope               []string `json:"grant_scope"`
	GrantAccessTokenAudience []string `json:"grant_access_token_audience"`
	Remember                 bool     `json:"remember"`
	RememberFor              int64    `json:"remember_for"`
}

// ConsentAccept answers POST /api/hydra/consent/accept with
// {"redirect_to"}, where the dashboard sends the browser next.
func (h *Handlers) ConsentAccept(w http.ResponseWriter, r *http.Request) error {
	var req ConsentAcceptRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.ConsentChallenge == "" {
		return fieldError("consent_challenge", "is required")
	}
	cr, err := h.ownConsent(r, req.ConsentChallenge)
	if err != nil {
		return err
	}
	scopes, audience := req.GrantScope, req.GrantAccessTokenAudience
	if scopes == nil {
		scopes = cr.RequestedScope
	}
	if audience == nil {
		audience = cr.RequestedAccessTokenAudience
	}
	if extra := notIn(scopes, cr.RequestedScope); len(extra) > 0 {
		return fieldError("grant_scope", fmt.Sprintf("must be a subset of the requested scopes %q; not requested: %q", cr.RequestedScope, extra))
	}
	if extra := notIn(audience, cr.RequestedAccessTokenAudience); len(extra) > 0 {
		return fieldError("grant_access_token_audience", fmt.Sprintf("must be a subset of the requested audience %q; not requested: %q",
			cr.RequestedAccessTokenAudience, extra))
	}
	if req.RememberFor < 0 || req.RememberFor > maxRememberFor {
		return fieldError("remember_for", fmt.Sprintf("must be from 0 (forever) to %d seconds", maxRememberFor))
	}
	accept, err := h.consentGrant(r, cr, scopes, audience, req.Remember, req.RememberFor)
	if err != nil {
		return err
	}
	to, err := h.decideFlow(r.Context(), kindConsent, "accept", req.ConsentChallenge, accept)
	if err != nil {
		return err
	}
	h.audit(r, "oauth2_consent_accept", cr.Client.GetClientId(), map[string]any{"scope": scopes, "remember": req.Remember})
	return writeJSON(w, http.StatusOK, map[string]any{"redirect_to": to})
}

// ConsentRejectRequest is the body of POST /api/hydra/consent/reject; error
// defaults to access_denied.
type ConsentRejectRequest struct {
	ConsentChallenge string `json:"consent_challenge"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// ConsentReject answers POST /api/hydra/consent/reject with {"redirect_to"}:
// the application receives the OAuth2 error.
func (h *Handlers) ConsentReject(w http.ResponseWriter, r *http.Request) error {
	var req ConsentRejectRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.ConsentChallenge == "" {
		return fieldError("consent_challenge", "is required")
	}
	if req.Error == "" {
		req.Error = "access_denied"
	}
	if req.ErrorDescription == "" {
		req.ErrorDescription = "The user denied the request."
	}
	if len(req.Error) > 100 || len(req.ErrorDescription) > 1000 {
		return fieldError("error", "error must be at most 100 and error_description 1000 characters")
	}
	cr, err := h.ownConsent(r, req.ConsentChallenge)
	if err != nil {
		return err
	}
	to, err := h.decideFlow(r.Context(), kindConsent, "reject", req.ConsentChallenge,
		client.RejectOAuth2Request{Error: new(req.Error), ErrorDescription: new(req.ErrorDescription), StatusCode: new(int64(http.StatusForbidden))})
	if err != nil {
		return err
	}
	h.audit(r, "oauth2_consent_reject", cr.Client.GetClientId(), nil)
	return writeJSON(w, http.StatusOK, map[string]any{"redirect_to": to})
}

// ownConsent fetches a consent request asked of the signed-in user. Another
// user's challenge is reported exactly like an unknown one; an answered one
// is 410 (where Hydra would send the browser is not revealed: the bridge
// does that for the browser that owns the flow).
func (h *Handlers) ownConsent(r *http.Request, challenge string) (*client.OAuth2ConsentRequest, error) {
	if len(challenge) > maxChallenge {
		return nil, challengeNotFound(kindConsent)
	}
	var cr client.OAuth2ConsentRequest
	handled, err := h.getFlow(r.Context(), kindConsent, challenge, &cr)
	if err != nil {
		return nil, err
	}
	if handled != "" {
		return nil, alreadyHandled(kindConsent)
	}
	if cr.GetSubject() != principal(r).IdentityID {
		return nil, challengeNotFound(kindConsent)
	}
	if cr.Client == nil {
		cr.Client = &client.OAuth2Client{}
	}
	return &cr, nil
}

// notIn lists the elements of sub that are not in set.
func notIn(sub, set []string) []string {
	var extra []string
	for _, s := range sub {
		if !slices.Contains(set, s) {
			extra = append(extra, s)
		}
	}
	return extra
}
