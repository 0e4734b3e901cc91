package auth

import (
	"net/http"
	"strings"
	"time"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// LoginRequest is the body of POST /api/auth/login. A first step sends
// email and password; an account with a second factor then sends
// totp_code or recovery_code (with the session cookie from the first step).
type LoginRequest struct {
	Email        string `json:"email"`
	Password     string `json:"password"`
	TOTPCode     string `json:"totp_code"`
	RecoveryCode string `json:"recovery_code"`
}

// LoginInfo answers GET /api/auth/login: what the form needs. Its real job
// for browsers is the first response, which carries the truss_csrf cookie.
func (s *Service) LoginInfo(w http.ResponseWriter, r *http.Request) error {
	return httpjson.Write(w, http.StatusOK, map[string]any{
		"methods":           []string{"password", "totp", "recovery_code"},
		"registration_open": !s.cfg.InviteOnly,
		"csrf_header":       "X-CSRF-Token",
	})
}

// Login answers POST /api/auth/login.
func (s *Service) Login(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.TOTPCode != "" || req.RecoveryCode != "" {
		return s.secondFactor(w, r, req)
	}
	// Lower-cased so audit history and rate limits see one account however
	// it is typed (Kratos matches identifiers case-insensitively too).
	req.Email = strings.ToLower(strings.TrimSpace(req.Email))
	if fields := validateCredentials(req.Email, req.Password); len(fields) > 0 {
		return httpjson.Invalid("Email and password are required.", fields)
	}
	if err := s.rateLimit(w, r, "login", req.Email); err != nil {
		s.audit(r, "login", false, "", req.Email, map[string]any{"reason": "rate_limited"})
		return err
	}
	kp := s.ory.KratosPublic
	flow, resp, err := kp.API.FrontendAPI.CreateNativeLoginFlow(r.Context()).Execute()
	if err != nil {
		return flowError(kp, err, resp)
	}
	body := client.UpdateLoginFlowWithPasswordMethodAsUpdateLoginFlowBody(
		client.NewUpdateLoginFlowWithPasswordMethod(req.Email, "password", req.Password))
	ok, resp, err := kp.API.FrontendAPI.UpdateLoginFlow(r.Context()).Flow(flow.Id).UpdateLoginFlowBody(body).Execute()
	if err != nil {
		ferr := flowError(kp, err, resp)
		s.audit(r, "login", false, "", req.Email, map[string]any{"reason": apierror.As(ferr).Code})
		return ferr
	}
	s.resetLimit("login", req.Email)
	return s.issueSession(w, r, ok.GetSessionToken(), "login", req.Email)
}

// secondFactor upgrades the current (aal1) session to aal2 with a TOTP or
// recovery code.
func (s *Service) secondFactor(w http.ResponseWriter, r *http.Request, req LoginRequest) error {
	token := sessionToken(r)
	if token == "" {
		return apierror.Unauthorized("Sign in with email and password first; the second factor completes that session.")
	}
	// Keyed by the account, not the token: a new password login must not
	// buy fresh second-factor guesses.
	if err := s.rateLimit(w, r, "login", "second-factor:"+s.pendingMFA.get(cacheKey(token))); err != nil {
		return err
	}
	kp := s.ory.KratosPublic
	flow, resp, err := kp.API.FrontendAPI.CreateNativeLoginFlow(r.Context()).Aal("aal2").XSessionToken(token).Execute()
	if err != nil {
		return flowError(kp, err, resp)
	}
	body := client.UpdateLoginFlowWithTotpMethodAsUpdateLoginFlowBody(client.NewUpdateLoginFlowWithTotpMethod("totp", req.TOTPCode))
	if req.RecoveryCode != "" {
		body = client.UpdateLoginFlowWithLookupSecretMethodAsUpdateLoginFlowBody(
			client.NewUpdateLoginFlowWithLookupSecretMethod(req.RecoveryCode, "lookup_secret"))
	}
	ok, resp, err := kp.API.FrontendAPI.UpdateLoginFlow(r.Context()).Flow(flow.Id).XSessionToken(token).UpdateLoginFlowBody(body).Execute()
	if err != nil {
		ferr := flowError(kp, err, resp)
		s.audit(r, "login_second_factor", false, "", "", map[string]any{"reason": apierror.As(ferr).Code})
		return ferr
	}
	s.cache.delete(cacheKey(token))
	newToken := ok.GetSessionToken()
	if newToken == "" {
		newToken = token // Kratos upgraded the existing session in place
	}
	return s.issueSession(w, r, newToken, "login_second_factor", "")
}

// issueSession verifies the new token, sets truss_session and answers with
// the principal (never the token).
func (s *Service) issueSession(w http.ResponseWriter, r *http.Request, token, action, subject string) error {
	p, err := s.whoami(r.Context(), token)
	if err != nil {
		if e := apierror.As(err); e.Code == "mfa_required" {
			// Password accepted, second factor pending: keep the aal1 session
			// so the client can complete it.
			s.pendingMFA.put(cacheKey(token), subject)
			s.setSessionCookie(w, token, p0Expiry())
			return e
		}
		return err
	}
	s.cache.put(cacheKey(token), p)
	s.setSessionCookie(w, token, p.ExpiresAt)
	if s.OnLogin != nil {
		s.OnLogin(w, r)
	}
	s.audit(r, action, true, p.IdentityID, subject, nil)
	if s.OnSignIn != nil && action != "register" {
		s.OnSignIn(r, p)
	}
	return httpjson.Write(w, http.StatusOK, p)
}

func validateCredentials(email, password string) map[string][]string {
	fields := map[string][]string{}
	switch {
	case email == "":
		fields["email"] = []string{"is required"}
	case len(email) > 320 || !strings.Contains(email, "@"):
		fields["email"] = []string{"must be an email address"}
	}
	switch {
	case password == "":
		fields["password"] = []string{"is required"}
	case len(password) > 1024:
		fields["password"] = []string{"must be at most 1024 characters"}
	}
	return fields
}

// p0Expiry bounds the cookie of a session that still awaits its second factor.
func p0Expiry() time.Time { return time.Now().Add(10 * time.Minute) }
