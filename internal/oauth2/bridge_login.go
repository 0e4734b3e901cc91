package oauth2

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
)

// LoginPath is the dashboard page the login bridge sends a browser without
// a Truss session to. Contract with the dashboard: it shows the sign-in form
// (always, even for a signed-in user, when prompt=login), signs in with POST
// /api/auth/login, then navigates to return_to, which is always an absolute
// URL of this server's /api/hydra/bridge/login (the dashboard must refuse
// any other return_to: it would be an open redirect). login_hint, when
// present, is the email the application suggested. GET /api/hydra/login
// tells the page which application asks.
const LoginPath = "/login"

// reauthParam is set on the bridge URL of a forced re-authentication
// (prompt=login, max_age): when the bridge asked (Unix milliseconds).
// Coming back, the Kratos session must have signed in after that, give or
// take reauthSkew (Kratos's clock is not Truss's).
const (
	reauthParam = "truss_reauth_at"
	reauthSkew  = 2 * time.Second
)

// BridgeLogin answers GET /api/hydra/bridge/login?login_challenge=..., where
// Hydra (urls.login) sends the browser. A valid truss_session accepts the
// login with the Kratos identity id as subject, remembered by Hydra for the
// rest of the Truss session (Hydra then reports skip=true next time);
// otherwise the browser goes to the dashboard's login page, which comes
// back here afterwards.
func (h *Handlers) BridgeLogin(w http.ResponseWriter, r *http.Request) error {
	challenge, err := challengeParam(r, kindLogin)
	if err != nil {
		return err
	}
	var lr client.OAuth2LoginRequest
	handled, err := h.getFlow(r.Context(), kindLogin, challenge, &lr)
	if err != nil {
		return err
	}
	if handled != "" {
		return redirect(w, r, handled)
	}
	authParams := authRequestParams(lr.RequestUrl)
	prompts := strings.Fields(authParams.Get("prompt"))

	// Public clients must use PKCE (S256): their code is not protected by a
	// secret. Checked here, on every flow, so it holds whatever Hydra's
	// configuration says.
	if lr.Client.GetTokenEndpointAuthMethod() == "none" && authParams.Get("code_challenge_method") != "S256" {
		return h.rejectLogin(w, r, challenge, "invalid_request",
			"This client is public: the authorization request must use PKCE with code_challenge_method=S256.")
	}

	p, err := h.Auth.Authenticate(r)
	if err != nil {
		if e := apierror.As(err); e.Status != http.StatusUnauthorized && e.Code != "mfa_required" {
			return err // Kratos down: say so rather than asking to sign in
		}
		if slices.Contains(prompts, "none") {
			return h.rejectLogin(w, r, challenge, "login_required", "The user is not signed in to Truss.")
		}
		return redirect(w, r, h.loginPage(challenge, lr, false))
	}

	if lr.Skip {
		if lr.Subject == p.IdentityID {
			return h.acceptLogin(w, r, challenge, client.AcceptOAuth2LoginRequest{Subject: lr.Subject})
		}
		// Hydra remembers another user in this browser than the one signed
		// in to Truss now: end Hydra's session and start the flow again,
		// so the application gets the current user.
		if lr.SessionId != nil && *lr.SessionId != "" {
			if err := h.revokeLoginSession(r, *lr.SessionId); err != nil {
				return err
			}
			if restart := absoluteRequestURL(lr.RequestUrl); restart != "" {
				return redirect(w, r, restart)
			}
		}
		return h.rejectLogin(w, r, challenge, "login_required",
			"Another user is signed in to Truss than the one remembered for this application; sign in again.")
	}

	// prompt=login and max_age ask for a fresh sign-in: the dashboard
	// shows its form again, and the Kratos session must have signed in
	// after the bridge asked for it.
	maxAge, maxAgeErr := strconv.Atoi(authParams.Get("max_age"))
	if slices.Contains(prompts, "login") || (maxAgeErr == nil && maxAge >= 0) {
		at, err := h.authenticatedAt(r)
		if err != nil {
			return err
		}
		stale := slices.Contains(prompts, "login") || time.Since(at) > time.Duration(maxAge)*time.Second
		if asked, err := strconv.ParseInt(r.URL.Query().Get(reauthParam), 10, 64); err == nil && asked > 0 {
			stale = at.Before(time.UnixMilli(asked).Add(-reauthSkew))
			if stale {
				return h.rejectLogin(w, r, challenge, "login_required", "The user did not sign in again as the application asked.")
			}
		}
		if stale {
			if slices.Contains(prompts, "none") {
				return h.rejectLogin(w, r, challenge, "login_required", "The Truss session is older than max_age.")
			}
			return redirect(w, r, h.loginPage(challenge, lr, true))
		}
	}

	accept := client.AcceptOAuth2LoginRequest{Subject: p.IdentityID, Remember: new(true), RememberFor: new(rememberFor(p))}
	if p.AAL != "" {
		accept.Acr = new(p.AAL)
	}
	return h.acceptLogin(w, r, challenge, accept)
}

// LoginInfo answers GET /api/hydra/login?login_challenge=...: which
// application asks the user to sign in, for the dashboard's login page.
func (h *Handlers) LoginInfo(w http.ResponseWriter, r *http.Request) error {
	challenge, err := challengeParam(r, kindLogin)
	if err != nil {
		return err
	}
	var lr client.OAuth2LoginRequest
	handled, err := h.getFlow(r.Context(), kindLogin, challenge, &lr)
	if err != nil {
		return err
	}
	if handled != "" {
		return alreadyHandled(kindLogin)
	}
	out := map[string]any{
		"challenge":       challenge,
		"client":          summarize(&lr.Client),
		"requested_scope": nonNil(lr.RequestedScope),
		"skip":            lr.Skip,
	}
	if lr.OidcContext != nil && lr.OidcContext.GetLoginHint() != "" {
		out["login_hint"] = lr.OidcContext.GetLoginHint()
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handlers) acceptLogin(w http.ResponseWriter, r *http.Request, challenge string, body client.AcceptOAuth2LoginRequest) error {
	to, err := h.decideFlow(r.Context(), kindLogin, "accept", challenge, body)
	if err != nil {
		return err
	}
	return redirect(w, r, to)
}

// rejectLogin ends the flow with an OAuth2 error the application receives.
func (h *Handlers) rejectLogin(w http.ResponseWriter, r *http.Request, challenge, code, description string) error {
	to, err := h.decideFlow(r.Context(), kindLogin, "reject", challenge,
		client.RejectOAuth2Request{Error: new(code), ErrorDescription: new(description)})
	if err != nil {
		return err
	}
	return redirect(w, r, to)
}

// loginPage is the dashboard login URL that resumes this flow afterwards.
func (h *Handlers) loginPage(challenge string, lr client.OAuth2LoginRequest, forcePrompt bool) string {
	back := url.Values{"login_challenge": {challenge}}
	q := url.Values{}
	if forcePrompt {
		back.Set(reauthParam, strconv.FormatInt(time.Now().UnixMilli(), 10))
		q.Set("prompt", "login")
	}
	q.Set("return_to", h.bridgeURL("/api/hydra/bridge/login", back))
	if lr.OidcContext != nil && lr.OidcContext.GetLoginHint() != "" {
		q.Set("login_hint", lr.OidcContext.GetLoginHint())
	}
	return h.dashboardURL(LoginPath, q)
}

// revokeLoginSession ends one of Hydra's remembered login sessions.
func (h *Handlers) revokeLoginSession(r *http.Request, sid string) error {
	ep := h.Ory.HydraAdmin
	_, rep, err := callReply(r.Context(), ep, http.MethodDelete, "/admin/oauth2/auth/sessions/login", url.Values{"sid": {sid}}, nil, nil)
	if err != nil {
		return err
	}
	if rep != nil && rep.Status != http.StatusNotFound {
		return unexpected(ep, rep)
	}
	return nil
}

// authenticatedAt is when the browser's Truss (Kratos) session signed in.
func (h *Handlers) authenticatedAt(r *http.Request) (time.Time, error) {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil {
		return time.Time{}, nil // no session of its own (TRUSS_AUTH_REQUIRED=false): as old as can be
	}
	kp := h.Ory.KratosPublic
	sess, resp, err := kp.API.FrontendAPI.ToSession(r.Context()).XSessionToken(c.Value).Execute()
	if apiErr := kp.Check(err, resp); apiErr != nil {
		return time.Time{}, apiErr
	}
	if err != nil || sess == nil || sess.AuthenticatedAt == nil {
		return time.Time{}, nil // unknown: as old as can be
	}
	return *sess.AuthenticatedAt, nil
}

// rememberFor is how long Hydra may remember the login: no longer than the
// Truss session, so a signed-out user is asked again. 0 means "for the
// browser session" to Hydra.
func rememberFor(p *auth.Principal) int64 {
	if p.ExpiresAt.IsZero() {
		return 0
	}
	return max(int64(time.Until(p.ExpiresAt).Seconds()), 1)
}

// authRequestParams are the query parameters of the original authorization
// request (prompt, max_age, code_challenge_method...).
func authRequestParams(requestURL string) url.Values {
	u, err := url.Parse(requestURL)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// absoluteRequestURL returns the authorization request URL when Hydra gave
// an absolute one ("" otherwise).
func absoluteRequestURL(requestURL string) string {
	u, err := url.Parse(requestURL)
	if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.String()
}

// redirect sends the browser on (302, never cached).
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
