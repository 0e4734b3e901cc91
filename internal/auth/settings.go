package auth

import (
	"net/http"
	"strings"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/httpjson"
)

// SettingsRequest is the body of POST /api/auth/settings: any of the
// profile fields and/or a new password.
type SettingsRequest struct {
	Name     *string `json:"name"`
	Email    *string `json:"email"`
	Password string  `json:"password"`
}

// SettingsInfo answers GET /api/auth/settings with the editable profile.
func (s *Service) SettingsInfo(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	return httpjson.Write(w, http.StatusOK, map[string]any{"email": p.Email, "name": p.Name,
		"fields": []string{"email", "name", "password"}})
}

// UpdateSettings answers POST /api/auth/settings.
func (s *Service) UpdateSettings(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	var req SettingsRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	traits, changed, fields := profileChange(p, req)
	if len(req.Password) > 1024 {
		fields["password"] = []string{"must be at most 1024 characters"}
	}
	if !changed && req.Password == "" && len(fields) == 0 {
		fields["body"] = []string{"send at least one of name, email, password"}
	}
	if len(fields) > 0 {
		return httpjson.Invalid("Some fields are invalid.", fields)
	}
	kp := s.ory.KratosPublic
	flow, resp, err := kp.API.FrontendAPI.CreateNativeSettingsFlow(r.Context()).XSessionToken(p.token).Execute()
	if err != nil {
		return flowError(kp, err, resp)
	}
	if changed {
		body := client.UpdateSettingsFlowWithProfileMethodAsUpdateSettingsFlowBody(client.NewUpdateSettingsFlowWithProfileMethod("profile", traits))
		if _, resp, err := kp.API.FrontendAPI.UpdateSettingsFlow(r.Context()).Flow(flow.Id).XSessionToken(p.token).UpdateSettingsFlowBody(body).Execute(); err != nil {
			return flowError(kp, err, resp)
		}
	}
	if req.Password != "" {
		body := client.UpdateSettingsFlowWithPasswordMethodAsUpdateSettingsFlowBody(client.NewUpdateSettingsFlowWithPasswordMethod("password", req.Password))
		if _, resp, err := kp.API.FrontendAPI.UpdateSettingsFlow(r.Context()).Flow(flow.Id).XSessionToken(p.token).UpdateSettingsFlowBody(body).Execute(); err != nil {
			s.audit(r, "password_change", false, p.IdentityID, p.Email, nil)
			return flowError(kp, err, resp)
		}
		s.audit(r, "password_change", true, p.IdentityID, p.Email, nil)
	}
	if changed {
		s.audit(r, "profile_change", true, p.IdentityID, p.Email, nil)
	}
	s.cache.delete(cacheKey(p.token)) // the cached principal has the old traits
	fresh, err := s.whoami(r.Context(), p.token)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, fresh)
}

func profileChange(p *Principal, req SettingsRequest) (traits map[string]any, changed bool, fields map[string][]string) {
	fields = map[string][]string{}
	traits = map[string]any{"email": p.Email}
	if p.Name != "" {
		traits["name"] = p.Name
	}
	if req.Email != nil {
		e := strings.TrimSpace(*req.Email)
		if len(e) > 320 || !strings.Contains(e, "@") {
			fields["email"] = []string{"must be an email address"}
		}
		changed = changed || e != p.Email
		traits["email"] = e
	}
	if req.Name != nil {
		n := strings.TrimSpace(*req.Name)
		if len(n) > 200 {
			fields["name"] = []string{"must be at most 200 characters"}
		}
		changed = changed || n != p.Name
		if n == "" {
			delete(traits, "name")
		} else {
			traits["name"] = n
		}
	}
	return traits, changed, fields
}
