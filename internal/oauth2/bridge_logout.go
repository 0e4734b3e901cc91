package oauth2

import (
	"net/http"
	"net/url"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/httpjson"
)

// LogoutPath is the dashboard's sign-out confirmation page for logouts no
// application initiated. Contract: the bridge sends the browser to
// TRUSS_PUBLIC_URL + LogoutPath + "?logout_challenge=..."; the page POSTs
// /api/hydra/logout/accept or /reject with {"logout_challenge"} and
// navigates to the redirect_to of the answer.
const LogoutPath = "/oauth2/logout"

// BridgeLogout answers GET /api/hydra/bridge/logout?logout_challenge=...,
// where Hydra (urls.logout) sends the browser. An RP-initiated logout (the
// application sent an id_token_hint Hydra verified) ends both sessions at
// once: the Truss (Kratos) session is revoked and its cookie cleared, and
// Hydra's login session ends when the logout is accepted. Any other logout
// request asks the user first (a cross-site link must not sign anyone out).
func (h *Handlers) BridgeLogout(w http.ResponseWriter, r *http.Request) error {
	challenge, err := challengeParam(r, kindLogout)
	if err != nil {
		return err
	}
	var lr client.OAuth2LogoutRequest
	handled, err := h.getFlow(r.Context(), kindLogout, challenge, &lr)
	if err != nil {
		return err
	}
	if handled != "" {
		return redirect(w, r, handled)
	}
	if !lr.GetRpInitiated() {
		return redirect(w, r, h.dashboardURL(LogoutPath, url.Values{"logout_challenge": {challenge}}))
	}
	to, err := h.acceptLogout(w, r, challenge)
	if err != nil {
		return err
	}
	return redirect(w, r, to)
}

// LogoutDecision is the body of POST /api/hydra/logout/accept and /reject.
type LogoutDecision struct {
	LogoutChallenge string `json:"logout_challenge"`
}

// LogoutAccept answers POST /api/hydra/logout/accept: ends the Truss
// session (if any) and Hydra's, and answers {"redirect_to"}.
func (h *Handlers) LogoutAccept(w http.ResponseWriter, r *http.Request) error {
	challenge, err := logoutChallenge(r)
	if err != nil {
		return err
	}
	if _, err := h.getFlow(r.Context(), kindLogout, challenge, &client.OAuth2LogoutRequest{}); err != nil {
		return err
	}
	to, err := h.acceptLogout(w, r, challenge)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"redirect_to": to})
}

// LogoutReject answers POST /api/hydra/logout/reject: the user stays signed
// in; {"redirect_to"} is the dashboard.
func (h *Handlers) LogoutReject(w http.ResponseWriter, r *http.Request) error {
	challenge, err := logoutChallenge(r)
	if err != nil {
		return err
	}
	ep := h.Ory.HydraAdmin
	_, rep, err := callReply(r.Context(), ep, http.MethodPut, "/admin/oauth2/auth/requests/logout/reject",
		url.Values{"logout_challenge": {challenge}}, struct{}{}, nil)
	if err != nil {
		return err
	}
	if _, err := flowReply(ep, kindLogout, rep); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"redirect_to": h.dashboardURL("/", nil)})
}

func logoutChallenge(r *http.Request) (string, error) {
	var req LogoutDecision
	if err := httpjson.Decode(r, &req); err != nil {
		return "", err
	}
	switch {
	case req.LogoutChallenge == "":
		return "", fieldError("logout_challenge", "is required")
	case len(req.LogoutChallenge) > maxChallenge:
		return "", challengeNotFound(kindLogout)
	}
	return req.LogoutChallenge, nil
}

// acceptLogout ends the browser's Truss session through the auth service
// (Kratos revocation, cache, cookie, CSRF rotation) and then accepts Hydra's
// logout, which ends Hydra's login session and notifies the applications.
func (h *Handlers) acceptLogout(w http.ResponseWriter, r *http.Request, challenge string) (string, error) {
	// auth's Logout writes its cookies into the real response's headers and
	// its 204 into the void: this answer is a redirect or JSON instead.
	if err := h.Auth.Logout(&headersOnly{header: w.Header()}, r); err != nil {
		return "", err
	}
	return h.decideFlow(r.Context(), kindLogout, "accept", challenge, nil)
}

// headersOnly is a ResponseWriter that shares its headers with the real one
// and discards the status and body.
type headersOnly struct {
	header http.Header
}

func (x *headersOnly) Header() http.Header         { return x.header }
func (x *headersOnly) Write(b []byte) (int, error) { return len(b), nil }
func (x *headersOnly) WriteHeader(int)             {}
