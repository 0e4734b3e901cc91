package auth

import (
	"net/http"
	"regexp"
	"strings"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/httpjson"
)

// CodeRequest is the body of the email-code flows (verification, recovery):
// first {"email"}, then {"flow_id", "code"}.
type CodeRequest struct {
	Email  string `json:"email"`
	FlowID string `json:"flow_id"`
	Code   string `json:"code"`
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// FlowState is the answer of each step of an email-code flow.
type FlowState struct {
	FlowID string `json:"flow_id"`
	State  string `json:"state"`
}

func (req *CodeRequest) validate() map[string][]string {
	req.Email, req.FlowID, req.Code = strings.TrimSpace(req.Email), strings.TrimSpace(req.FlowID), strings.TrimSpace(req.Code)
	fields := map[string][]string{}
	switch {
	case req.Code == "" && req.Email == "":
		fields["email"] = []string{"is required (or send flow_id and code)"}
	case req.Code != "" && req.FlowID == "":
		fields["flow_id"] = []string{"is required with code"}
	case req.Code == "" && (len(req.Email) > 320 || !strings.Contains(req.Email, "@")):
		fields["email"] = []string{"must be an email address"}
	case req.FlowID != "" && !uuidPattern.MatchString(req.FlowID):
		fields["flow_id"] = []string{"must be a flow id (a UUID)"}
	case len(req.Code) > 64:
		fields["code"] = []string{"must be at most 64 characters"}
	}
	return fields
}

// VerificationInfo answers GET /api/auth/verification?flow_id=...
func (s *Service) VerificationInfo(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("flow_id")
	if id != "" && !uuidPattern.MatchString(id) {
		return httpjson.Invalid("Invalid flow_id.", map[string][]string{"flow_id": {"must be a flow id (a UUID)"}})
	}
	if id == "" {
		return httpjson.Write(w, http.StatusOK, map[string]any{"steps": []string{`{"email"}`, `{"flow_id","code"}`}})
	}
	kp := s.ory.KratosPublic
	flow, resp, err := kp.API.FrontendAPI.GetVerificationFlow(r.Context()).Id(id).Execute()
	if err != nil {
		return flowError(kp, err, resp)
	}
	return httpjson.Write(w, http.StatusOK, FlowState{FlowID: flow.Id, State: flow.GetState().(string)})
}

// Verify answers POST /api/auth/verification: {"email"} emails a code,
// {"flow_id","code"} verifies the address.
func (s *Service) Verify(w http.ResponseWriter, r *http.Request) error {
	var req CodeRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if fields := req.validate(); len(fields) > 0 {
		return httpjson.Invalid("Send {\"email\"} to get a code, then {\"flow_id\", \"code\"}.", fields)
	}
	if err := s.rateLimit(w, r, "verify", req.Email+req.FlowID); err != nil {
		return err
	}
	kp := s.ory.KratosPublic
	if req.Code == "" {
		flow, resp, err := kp.API.FrontendAPI.CreateNativeVerificationFlow(r.Context()).Execute()
		if err != nil {
			return flowError(kp, err, resp)
		}
		req.FlowID = flow.Id
	}
	m := client.NewUpdateVerificationFlowWithCodeMethod("code")
	if req.Code != "" {
		m.Code = &req.Code
	} else {
		m.Email = &req.Email
	}
	flow, resp, err := kp.API.FrontendAPI.UpdateVerificationFlow(r.Context()).Flow(req.FlowID).
		UpdateVerificationFlowBody(client.UpdateVerificationFlowWithCodeMethodAsUpdateVerificationFlowBody(m)).Execute()
	if err != nil {
		return flowError(kp, err, resp)
	}
	state, _ := flow.GetState().(string)
	if req.Code != "" && state != "passed_challenge" {
		return flowError(kp, nil, resp) // Kratos kept the flow open: the code was refused
	}
	return httpjson.Write(w, http.StatusOK, FlowState{FlowID: flow.Id, State: state})
}
