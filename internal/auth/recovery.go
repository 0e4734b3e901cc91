package auth

import (
	"net/http"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// RecoveryInfo answers GET /api/auth/recovery.
func (s *Service) RecoveryInfo(w http.ResponseWriter, r *http.Request) error {
	return httpjson.Write(w, http.StatusOK, map[string]any{"steps": []string{`{"email"}`, `{"flow_id","code"}`},
		"then": "POST /api/auth/settings with {\"password\"} to choose a new password"})
}

// Recover answers POST /api/auth/recovery. {"email"} emails a code (the
// answer is the same whether or not the account exists, so it cannot be used
// to discover accounts); {"flow_id","code"} signs the user in, after which
// POST /api/auth/settings sets a new password.
func (s *Service) Recover(w http.ResponseWriter, r *http.Request) error {
	var req CodeRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if fields := req.validate(); len(fields) > 0 {
		return httpjson.Invalid("Send {\"email\"} to get a code, then {\"flow_id\", \"code\"}.", fields)
	}
	if err := s.rateLimit(w, r, "recovery", req.Email+req.FlowID); err != nil {
		return err
	}
	kp := s.ory.KratosPublic
	if req.Code == "" {
		flow, resp, err := kp.API.FrontendAPI.CreateNativeRecoveryFlow(r.Context()).Execute()
		if err != nil {
			return flowError(kp, err, resp)
		}
		req.FlowID = flow.Id
	}
	m := client.NewUpdateRecoveryFlowWithCodeMethod("code")
	if req.Code != "" {
		m.Code = &req.Code
	} else {
		m.Email = &req.Email
	}
	flow, resp, err := kp.API.FrontendAPI.UpdateRecoveryFlow(r.Context()).Flow(req.FlowID).
		UpdateRecoveryFlowBody(client.UpdateRecoveryFlowWithCodeMethodAsUpdateRecoveryFlowBody(m)).Execute()
	if err != nil {
		return flowError(kp, err, resp)
	}
	if req.Code == "" {
		s.audit(r, "recovery_requested", true, "", req.Email, nil)
		return httpjson.Write(w, http.StatusOK, FlowState{FlowID: flow.Id, State: "sent_email"})
	}
	for _, c := range flow.ContinueWith {
		if c.ContinueWithSetOrySessionToken != nil {
			return s.issueSession(w, r, c.ContinueWithSetOrySessionToken.OrySessionToken, "recovery", "")
		}
	}
	return apierror.New(http.StatusBadRequest, "invalid_code", "The recovery code is invalid or has already been used.").
		WithHint("Request a new code and use it within its lifetime.")
}
