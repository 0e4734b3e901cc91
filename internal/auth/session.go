// Package auth serves Truss's account and session endpoints on top of Ory
// Kratos.
package auth

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/ory"
)

// SessionCookie is the cookie Kratos sets for browser sessions.
const SessionCookie = "ory_kratos_session"

// Handlers serves /api/auth/*.
type Handlers struct {
	Ory *ory.Clients
}

// SessionResponse is the body of GET /api/auth/session.
type SessionResponse struct {
	ID        string         `json:"id"`
	Active    bool           `json:"active"`
	ExpiresAt *time.Time     `json:"expires_at,omitempty"`
	AAL       string         `json:"aal,omitempty"`
	Identity  IdentitySketch `json:"identity"`
}

// IdentitySketch is the part of a Kratos identity the dashboard needs.
type IdentitySketch struct {
	ID     string `json:"id"`
	Traits any    `json:"traits"`
}

// Session answers GET /api/auth/session: who the caller is, per Kratos.
// The session comes from the ory_kratos_session cookie (browsers) or an
// X-Session-Token / "Authorization: Bearer" header (API clients).
func (h *Handlers) Session(w http.ResponseWriter, r *http.Request) error {
	token, cookie := credentials(r)
	if token == "" && cookie == "" {
		return apierror.Unauthorized("No session: this request carries no session cookie or token.")
	}
	req := h.Ory.KratosPublic.API.FrontendAPI.ToSession(r.Context())
	if token != "" {
		req = req.XSessionToken(token)
	} else {
		req = req.Cookie(cookie)
	}
	s, resp, err := req.Execute()
	if apiErr := h.Ory.KratosPublic.Check(err, resp); apiErr != nil {
		return apiErr
	}
	if err != nil || s == nil {
		return apierror.Unauthorized("The session is invalid or has expired.")
	}
	out := SessionResponse{ID: s.Id, Active: s.GetActive(), ExpiresAt: s.ExpiresAt}
	if s.AuthenticatorAssuranceLevel != nil {
		out.AAL = string(*s.AuthenticatorAssuranceLevel)
	}
	if s.Identity != nil {
		out.Identity = IdentitySketch{ID: s.Identity.Id, Traits: s.Identity.Traits}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(out)
}

// credentials extracts a session token, or else the Kratos session cookie(s)
// to forward. Only the Kratos cookie is forwarded: other cookies are none of
// Kratos's business.
func credentials(r *http.Request) (token, cookie string) {
	if t := r.Header.Get("X-Session-Token"); t != "" {
		return t, ""
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:]), ""
	}
	var parts []string
	for _, c := range r.CookiesNamed(SessionCookie) {
		parts = append(parts, c.String())
	}
	return "", strings.Join(parts, "; ")
}
