package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/ory"
)

// kratosBody is the part of a Kratos flow or error answer that explains a
// failure: messages on the whole flow, on each field, or a generic error.
type kratosBody struct {
	UI *struct {
		Messages []kratosMessage `json:"messages"`
		Nodes    []struct {
			Attributes struct {
				Name string `json:"name"`
			} `json:"attributes"`
			Messages []kratosMessage `json:"messages"`
		} `json:"nodes"`
	} `json:"ui"`
	Error *struct {
		ID      string `json:"id"`
		Code    int    `json:"code"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
	} `json:"error"`
}

type kratosMessage struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
	Type string `json:"type"`
}

// Kratos message IDs Truss gives their own error codes.
const (
	msgInvalidCredentials = 4000006
	msgDuplicateAccount   = 4000007
	msgInvalidTOTP        = 4000008
	msgInvalidLookup      = 4000016
	msgUsedLookup         = 4000012
	msgInvalidCode        = 4060006 // recovery / verification code wrong or used
)

// fieldNames maps Kratos's form field names to Truss's request fields.
var fieldNames = map[string]string{
	"identifier": "email", "traits.email": "email", "email": "email", "traits.name": "name",
	"password": "password", "totp_code": "totp_code", "lookup_secret": "recovery_code", "code": "code",
}

// flowError turns a failed Kratos flow call into an API error: the service
// failures of ory.Endpoint.Check, otherwise a 4xx carrying Kratos's own
// per-field messages.
func flowError(ep *ory.Endpoint, err error, resp *http.Response) error {
	if apiErr := ep.Check(err, resp); apiErr != nil {
		return apiErr
	}
	var body kratosBody
	var gen *client.GenericOpenAPIError
	if errors.As(err, &gen) {
		_ = json.Unmarshal(gen.Body(), &body)
	}
	if body.Error != nil {
		return kratosErrorObject(body.Error.ID, body.Error.Message, body.Error.Reason, resp)
	}
	fields := map[string][]string{}
	var general []kratosMessage
	if body.UI != nil {
		general = body.UI.Messages
		for _, n := range body.UI.Nodes {
			for _, m := range n.Messages {
				if m.Type != "error" {
					continue
				}
				name := fieldNames[n.Attributes.Name]
				if name == "" {
					name = n.Attributes.Name
				}
				fields[name] = append(fields[name], m.Text)
			}
		}
	}
	for _, m := range general {
		switch m.ID {
		case msgInvalidCredentials:
			return apierror.New(http.StatusUnauthorized, "invalid_credentials", m.Text).
				WithHint("Check the email and password. Accounts created by an admin may need a password reset first.")
		case msgDuplicateAccount:
			return apierror.New(http.StatusConflict, "account_exists", m.Text).WithHint("Sign in instead, or recover the password.")
		case msgInvalidTOTP, msgInvalidLookup, msgUsedLookup:
			return apierror.New(http.StatusUnauthorized, "invalid_second_factor", m.Text)
		case msgInvalidCode:
			return apierror.New(http.StatusBadRequest, "invalid_code", m.Text).WithHint("Request a new code and use it within its lifetime.")
		}
	}
	msg := "The request was refused by the identity service."
	if len(general) > 0 {
		msg = general[0].Text
	} else if len(fields) > 0 {
		msg = "Some fields are invalid."
	}
	if len(fields) > 0 {
		return apierror.New(http.StatusUnprocessableEntity, "validation_failed", msg).WithDetails(map[string]any{"fields": fields})
	}
	return apierror.New(http.StatusBadRequest, "request_refused", msg)
}

func kratosErrorObject(id, message, reason string, resp *http.Response) *apierror.Error {
	switch id {
	case "self_service_flow_expired":
		return apierror.New(http.StatusBadRequest, "flow_expired", "This flow has expired.").WithHint("Start again: the code or form is no longer valid.")
	case "session_aal2_required":
		return apierror.New(http.StatusForbidden, "mfa_required", "A second factor is required.").
			WithHint(`POST /api/auth/login with {"totp_code"} or {"recovery_code"}.`)
	case "session_refresh_required":
		return apierror.New(http.StatusForbidden, "reauthentication_required", "This change needs a recent sign-in.").
			WithHint("Sign in again (with your second factor, if you use one), then retry within 15 minutes.")
	case "session_inactive", "session_not_found":
		return apierror.Unauthorized("The session is invalid or has expired. Sign in again.")
	}
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return apierror.New(http.StatusBadRequest, "flow_not_found", "Unknown flow.").WithHint("Start the flow again.")
	}
	if resp != nil && resp.StatusCode == http.StatusGone {
		return apierror.New(http.StatusBadRequest, "flow_expired", "This flow has expired.").WithHint("Start again.")
	}
	text := strings.TrimSpace(message + " " + reason)
	if text == "" {
		text = "The request was refused by the identity service."
	}
	return apierror.New(http.StatusBadRequest, "request_refused", text)
}
