package oauth2

import (
	"net/http"
	"net/url"

	client "github.com/ory/client-go"
)

// ConsentPath is the dashboard's consent screen. Contract: the bridge sends
// the browser to TRUSS_PUBLIC_URL + ConsentPath + "?consent_challenge=...";
// the page reads GET /api/hydra/consent?consent_challenge=..., then POSTs
// /api/hydra/consent/accept or /reject and navigates to the redirect_to of
// the answer.
const ConsentPath = "/oauth2/consent"

// BridgeConsent answers GET /api/hydra/bridge/consent?consent_challenge=...,
// where Hydra (urls.consent) sends the browser after login. Consent is given
// at once when Hydra remembers it (skip) or the client is first-party
// (skip_consent, which only Truss admins may set); otherwise the browser goes
// to the dashboard's consent screen.
func (h *Handlers) BridgeConsent(w http.ResponseWriter, r *http.Request) error {
	challenge, err := challengeParam(r, kindConsent)
	if err != nil {
		return err
	}
	var cr client.OAuth2ConsentRequest
	handled, err := h.getFlow(r.Context(), kindConsent, challenge, &cr)
	if err != nil {
		return err
	}
	if handled != "" {
		return redirect(w, r, handled)
	}
	if cr.GetSkip() || (cr.Client != nil && cr.Client.GetSkipConsent()) {
		accept, err := h.consentGrant(r, &cr, cr.RequestedScope, cr.RequestedAccessTokenAudience, false, 0)
		if err != nil {
			return err
		}
		to, err := h.decideFlow(r.Context(), kindConsent, "accept", challenge, accept)
		if err != nil {
			return err
		}
		return redirect(w, r, to)
	}
	return redirect(w, r, h.dashboardURL(ConsentPath, url.Values{"consent_challenge": {challenge}}))
}

// consentGrant builds Hydra's accept body: the granted scopes and audience
// and the ID token claims (email, email_verified, name) they allow.
func (h *Handlers) consentGrant(r *http.Request, cr *client.OAuth2ConsentRequest, scopes, audience []string,
	remember bool, rememberFor int64) (*client.AcceptOAuth2ConsentRequest, error) {
	claims, err := h.idTokenClaims(r.Context(), cr.GetSubject(), scopes)
	if err != nil {
		return nil, err
	}
	accept := &client.AcceptOAuth2ConsentRequest{
		GrantScope:               nonNil(scopes),
		GrantAccessTokenAudience: nonNil(audience),
		Remember:                 new(remember),
		Session:                  &client.AcceptOAuth2ConsentRequestSession{IdToken: claims},
	}
	if remember {
		accept.RememberFor = new(rememberFor)
	}
	return accept, nil
}
