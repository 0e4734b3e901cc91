package oauth2

import (
	"context"
	"net/http"
	"net/url"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/ory"
)

// Hydra's three kinds of flow requests Truss answers as its login, consent
// and logout app.
const (
	kindLogin   = "login"
	kindConsent = "consent"
	kindLogout  = "logout"
)

// maxChallenge bounds a challenge parameter (Hydra v2 challenges are
// encrypted flows of a few hundred bytes).
const maxChallenge = 8192

// challengeParam reads "<kind>_challenge" from the query string.
func challengeParam(r *http.Request, kind string) (string, error) {
	name := kind + "_challenge"
	c := r.URL.Query().Get(name)
	switch {
	case c == "":
		return "", fieldError(name, "is required")
	case len(c) > maxChallenge:
		return "", challengeNotFound(kind)
	}
	return c, nil
}

func challengeNotFound(kind string) *apierror.Error {
	name := kind + "_challenge"
	return notFound("challenge_not_found", "Unknown or expired "+name+".").
		WithHint("Challenges come from Ory Hydra and are valid for one flow only; start the OAuth2 flow again from the application.").
		WithDetails(map[string]any{"fields": map[string][]string{name: {"unknown or expired"}}})
}

func alreadyHandled(kind string) *apierror.Error {
	return apierror.New(http.StatusGone, "challenge_already_handled", "This "+kind+"_challenge was already answered.").
		WithHint("Start the OAuth2 flow again from the application.")
}

// getFlow fetches Hydra's login, consent or logout request into out. When
// the request was already handled, Hydra answers 410 with where the browser
// should go instead: that URL is returned, and out is left untouched.
func (h *Handlers) getFlow(ctx context.Context, kind, challenge string, out any) (handledRedirect string, err error) {
	ep := h.Ory.HydraAdmin
	_, rep, err := callReply(ctx, ep, http.MethodGet, "/admin/oauth2/auth/requests/"+kind,
		url.Values{kind + "_challenge": {challenge}}, nil, out)
	if err != nil {
		return "", err
	}
	return flowReply(ep, kind, rep)
}

// decideFlow accepts or rejects a flow request (verb "accept" or "reject")
// and returns where Hydra wants the browser next.
func (h *Handlers) decideFlow(ctx context.Context, kind, verb, challenge string, body any) (string, error) {
	ep := h.Ory.HydraAdmin
	var out struct {
		RedirectTo string `json:"redirect_to"`
	}
	if body == nil {
		body = struct{}{}
	}
	_, rep, err := callReply(ctx, ep, http.MethodPut, "/admin/oauth2/auth/requests/"+kind+"/"+verb,
		url.Values{kind + "_challenge": {challenge}}, body, &out)
	if err != nil {
		return "", err
	}
	if rep != nil {
		return flowReply(ep, kind, rep)
	}
	if out.RedirectTo == "" {
		return "", unexpected(ep, &reply{Status: http.StatusOK, Body: hydraError{Error: "empty redirect_to"}})
	}
	return out.RedirectTo, nil
}

// flowReply interprets a 4xx answer about a flow request.
func flowReply(ep *ory.Endpoint, kind string, rep *reply) (string, error) {
	if rep == nil {
		return "", nil
	}
	switch rep.Status {
	case http.StatusGone:
		if rep.Body.RedirectTo != "" {
			return rep.Body.RedirectTo, nil
		}
		return "", alreadyHandled(kind)
	case http.StatusNotFound:
		return "", challengeNotFound(kind)
	case http.StatusConflict:
		return "", alreadyHandled(kind)
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		msg := rep.Body.Description
		if msg == "" {
			msg = rep.Body.Error
		}
		return "", badRequest("invalid_request", "Ory Hydra refused the "+kind+" request: "+msg, nil)
	}
	return "", unexpected(ep, rep)
}
