package auth

import (
	"net/http"
	"strings"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// RegisterRequest is the body of POST /api/auth/register.
type RegisterRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// RegisterInfo answers GET /api/auth/register.
func (s *Service) RegisterInfo(w http.ResponseWriter, r *http.Request) error {
	return httpjson.Write(w, http.StatusOK, map[string]any{
		"open": !s.cfg.InviteOnly, "fields": []string{"email", "password", "name"}, "csrf_header": "X-CSRF-Token",
	})
}

// Register answers POST /api/auth/register: creates the account, signs it
// in, and Kratos emails a verification code.
func (s *Service) Register(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.InviteOnly {
		return apierror.New(http.StatusForbidden, "registration_closed", "Registration is by invitation only on this server.").
			WithHint("Ask an admin to create your account (TRUSS_INVITE_ONLY=true).")
	}
	var req RegisterRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	req.Email, req.Name = strings.TrimSpace(req.Email), strings.TrimSpace(req.Name)
	fields := validateCredentials(req.Email, req.Password)
	if len(req.Name) > 200 {
		fields["name"] = []string{"must be at most 200 characters"}
	}
	if len(fields) > 0 {
		return httpjson.Invalid("Some fields are invalid.", fields)
	}
	if err := s.rateLimit(w, r, "register", req.Email); err != nil {
		return err
	}
	kp := s.ory.KratosPublic
	flow, resp, err := kp.API.FrontendAPI.CreateNativeRegistrationFlow(r.Context()).Execute()
	if err != nil {
		return flowError(kp, err, resp)
	}
	traits := map[string]any{"email": req.Email}
	if req.Name != "" {
		traits["name"] = req.Name
	}
	body := client.UpdateRegistrationFlowWithPasswordMethodAsUpdateRegistrationFlowBody(
		client.NewUpdateRegistrationFlowWithPasswordMethod("password", req.Password, traits))
	ok, resp, err := kp.API.FrontendAPI.UpdateRegistrationFlow(r.Context()).Flow(flow.Id).UpdateRegistrationFlowBody(body).Execute()
	if err != nil {
		ferr := flowError(kp, err, resp)
		s.audit(r, "register", false, "", req.Email, map[string]any{"reason": apierror.As(ferr).Code})
		return ferr
	}
	if ok.GetSessionToken() == "" {
		return apierror.New(http.StatusBadGateway, "kratos_no_session",
			"Kratos registered the account but issued no session.").
			WithHint("Enable the `session` hook after password registration in kratos.yml (selfservice.flows.registration.after.password.hooks).")
	}
	return s.issueSession(w, r, ok.GetSessionToken(), "register", req.Email)
}
