// Package apierror defines the one error shape of the Truss HTTP API:
//
//	{"error": {"code": "kratos_unavailable", "message": "...", "hint": "...", "request_id": "..."}}
//
// Handlers return *Error values; anything else is logged and answered as a
// 500 "internal_error" with no detail, so stack traces and driver messages
// never reach clients.
package apierror

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error a client is meant to see.
type Error struct {
	Status  int            `json:"-"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Hint    string         `json:"hint,omitempty"`
	Details map[string]any `json:"details,omitempty"`
	// Cause is logged, never sent.
	Cause error `json:"-"`
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// WithHint returns a copy of e with a hint.
func (e *Error) WithHint(hint string) *Error {
	c := *e
	c.Hint = hint
	return &c
}

// WithDetails returns a copy of e with extra machine-readable details.
func (e *Error) WithDetails(d map[string]any) *Error {
	c := *e
	c.Details = d
	return &c
}

// New builds an error.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// As returns the *Error in err's chain, or a generic 500.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "An unexpected error occurred. The request ID identifies it in the server log.", Cause: err}
}

// Error codes shared across packages. Feature packages may define their own
// codes next to their handlers; these are the cross-cutting ones.
const (
	CodeInternal          = "internal_error"
	CodeNotFound          = "not_found"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeBadRequest        = "bad_request"
	CodeInvalidJSON       = "invalid_json"
	CodeBodyTooLarge      = "body_too_large"
	CodeUnauthorized      = "unauthorized"
	CodeForbidden         = "forbidden"
	CodeServiceDown       = "service_unavailable"
	CodeBadGateway        = "bad_gateway"
	CodeOAuth2NotEnabled  = "oauth2_not_configured"
	CodeDatabaseUnavaible = "database_unavailable"
)

// NotFound is the answer for unknown routes.
func NotFound() *Error {
	return New(http.StatusNotFound, CodeNotFound, "No such endpoint.").
		WithHint("The API lives under /api/; see the README for the list of endpoints.")
}

// Unauthorized is the answer when no valid session accompanies a request.
func Unauthorized(msg string) *Error {
	return New(http.StatusUnauthorized, CodeUnauthorized, msg).
		WithHint("Log in and send the session cookie (fetch with credentials: 'include') or an X-Session-Token header.")
}
