package ory

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/trussdev/truss/internal/apierror"
)

var displayName = map[string]string{"kratos": "Ory Kratos", "keto": "Ory Keto", "hydra": "Ory Hydra"}

// Check turns the outcome of an SDK call into an API error when the service
// itself failed: unreachable or timed out → 503 "<service>_unavailable";
// a 5xx or an answer Truss cannot understand → 502 "<service>_bad_gateway".
// It returns nil for successes and for 4xx answers, which mean something about
// the request (no session, unknown id) that the caller must interpret.
func (e *Endpoint) Check(err error, resp *http.Response) *apierror.Error {
	if resp == nil {
		if err == nil {
			return nil
		}
		return e.unavailable(err)
	}
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable:
		return e.unavailable(fmt.Errorf("it answered %s", resp.Status))
	case resp.StatusCode >= 500:
		return e.badGateway(fmt.Errorf("it answered %s", resp.Status))
	case resp.StatusCode < 300 && err != nil:
		// 2xx with a body the SDK could not decode: a wrong service on that
		// port, or a proxy's HTML page.
		return e.badGateway(fmt.Errorf("its answer could not be decoded: %w", err))
	}
	return nil
}

// Unavailable is the 503 for a failed connection to this endpoint.
func (e *Endpoint) unavailable(cause error) *apierror.Error {
	reason := "is not reachable"
	if isTimeout(cause) {
		reason = "did not answer in time"
	}
	return &apierror.Error{
		Status:  http.StatusServiceUnavailable,
		Code:    e.Service + "_unavailable",
		Message: fmt.Sprintf("%s (%s API) %s at %s.", displayName[e.Service], e.Role, reason, e.urlString()),
		Hint: fmt.Sprintf("Check that %s is running (curl -f %s/health/alive) and that %s points to it; `truss doctor` checks this.",
			displayName[e.Service], e.urlString(), e.EnvVar),
		Details: e.details(),
		Cause:   cause,
	}
}

func (e *Endpoint) badGateway(cause error) *apierror.Error {
	return &apierror.Error{
		Status:  http.StatusBadGateway,
		Code:    e.Service + "_bad_gateway",
		Message: fmt.Sprintf("%s (%s API) at %s gave an invalid answer.", displayName[e.Service], e.Role, e.urlString()),
		Hint: fmt.Sprintf("Check that %s points to %s's %s API (not another service or a proxy error page) and read its log.",
			e.EnvVar, displayName[e.Service], e.Role),
		Details: e.details(),
		Cause:   cause,
	}
}

// NotConfigured is the answer of every OAuth2 endpoint when Hydra is
// disabled. HYDRA_ADMIN_URL is the one switch, so the error names it.
func NotConfigured() *apierror.Error {
	return &apierror.Error{
		Status:  http.StatusServiceUnavailable,
		Code:    apierror.CodeOAuth2NotEnabled,
		Message: "OAuth2 is not configured on this Truss server.",
		Hint:    "Set HYDRA_ADMIN_URL and HYDRA_PUBLIC_URL to your Ory Hydra server to enable OAuth2.",
		Details: map[string]any{"service": "hydra", "env": "HYDRA_ADMIN_URL"},
	}
}

// Require returns NotConfigured when e is disabled, nil otherwise.
func (e *Endpoint) Require() *apierror.Error {
	if !e.Enabled() {
		return NotConfigured()
	}
	return nil
}

func (e *Endpoint) details() map[string]any {
	return map[string]any{"service": e.Service, "api": e.Role, "url": e.urlString(), "env": e.EnvVar}
}

func (e *Endpoint) urlString() string {
	if e.URL == nil {
		return "(not configured)"
	}
	return e.URL.String()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
