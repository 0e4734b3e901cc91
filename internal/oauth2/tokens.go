package oauth2

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// maxToken bounds a token in a request body (JWT access tokens can be long).
const maxToken = 16384

// IntrospectRequest is the body of POST /api/hydra/introspect.
type IntrospectRequest struct {
	Token string `json:"token"`
	// Scope, when set, makes the token active only if it carries all of
	// these space-separated scopes.
	Scope string `json:"scope"`
}

// Introspect answers POST /api/hydra/introspect with Hydra's introspection
// of an access or refresh token (RFC 7662 JSON). Tenant-scoped: a token of
// another tenant's client, like an unknown, expired or revoked one, is
// {"active": false}.
func (h *Handlers) Introspect(w http.ResponseWriter, r *http.Request) error {
	var req IntrospectRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if err := checkToken(req.Token); err != nil {
		return err
	}
	info, err := h.introspect(r.Context(), req.Token, req.Scope)
	if err != nil {
		return err
	}
	own, err := h.ownsToken(r, info)
	if err != nil {
		return err
	}
	if !own {
		info = map[string]any{"active": false}
	}
	return writeJSON(w, http.StatusOK, info)
}

// RevokeRequest is the body of POST /api/hydra/revoke. client_secret is
// needed for tokens of confidential clients: Hydra revokes a single token
// only for the client it was issued to, and Truss keeps no secrets.
type RevokeRequest struct {
	Token        string `json:"token"`
	ClientSecret string `json:"client_secret"`
}

// Revoke answers POST /api/hydra/revoke: revokes an access or refresh token
// of one of the tenant's clients (Hydra revokes the whole grant: the access
// and refresh tokens issued together). {"revoked": false} when the token was
// not active or not the tenant's (nothing to do, as RFC 7009 says).
func (h *Handlers) Revoke(w http.ResponseWriter, r *http.Request) error {
	var req RevokeRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if err := checkToken(req.Token); err != nil {
		return err
	}
	info, err := h.introspect(r.Context(), req.Token, "")
	if err != nil {
		return err
	}
	own, err := h.ownsToken(r, info)
	if err != nil {
		return err
	}
	if !own {
		return writeJSON(w, http.StatusOK, map[string]any{"revoked": false})
	}
	clientID, _ := info["client_id"].(string)
	c, err := h.ownClient(r.Context(), principal(r), clientID)
	if err != nil {
		return err
	}
	var method string
	_ = json.Unmarshal(c["token_endpoint_auth_method"], &method)
	form := url.Values{"token": {req.Token}}
	basic := false
	switch method {
	case "none":
		form.Set("client_id", clientID)
	case "private_key_jwt":
		return fieldError("client_secret", "this client authenticates with private_key_jwt: revoke the token from the application, "+
			"or all of the client's access tokens with DELETE /api/hydra/clients/{id}/tokens")
	default:
		if req.ClientSecret == "" {
			return fieldError("client_secret", "is required to revoke a token of a confidential client "+
				"(or revoke all of its access tokens with DELETE /api/hydra/clients/{id}/tokens)")
		}
		if method == "client_secret_post" {
			form.Set("client_id", clientID)
			form.Set("client_secret", req.ClientSecret)
		} else {
			basic = true
		}
	}
	pub := h.Ory.HydraPublic
	httpReq, err := http.NewRequestWithContext(r.Context(), http.MethodPost, pub.URL.JoinPath("/oauth2/revoke").String(),
		strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	httpReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		httpReq.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(req.ClientSecret))
	}
	_, _, rep, err := do(pub, httpReq, nil)
	if err != nil {
		return err
	}
	if rep != nil {
		if rep.Status == http.StatusUnauthorized || rep.Body.Error == "invalid_client" {
			return fieldError("client_secret", "is not this client's secret")
		}
		return unexpected(pub, rep)
	}
	h.audit(r, "oauth2_token_revoke", clientID, nil)
	return writeJSON(w, http.StatusOK, map[string]any{"revoked": true})
}

// DeleteClientTokens answers DELETE /api/hydra/clients/{id}/tokens: revokes
// every access token of one of the tenant's clients (204).
func (h *Handlers) DeleteClientTokens(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.ownClient(r.Context(), principal(r), id); err != nil {
		return err
	}
	ep := h.Ory.HydraAdmin
	_, rep, err := callReply(r.Context(), ep, http.MethodDelete, "/admin/oauth2/tokens", url.Values{"client_id": {id}}, nil, nil)
	if err != nil {
		return err
	}
	if rep != nil {
		return unexpected(ep, rep)
	}
	h.audit(r, "oauth2_client_tokens_revoke", id, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// introspect asks Hydra's admin API about a token.
func (h *Handlers) introspect(ctx context.Context, token, scope string) (map[string]any, error) {
	form := url.Values{"token": {token}}
	if scope != "" {
		form.Set("scope", scope)
	}
	ep := h.Ory.HydraAdmin
	var info map[string]any
	_, rep, err := callReply(ctx, ep, http.MethodPost, "/admin/oauth2/introspect", nil, form, &info)
	if err != nil {
		return nil, err
	}
	if rep != nil {
		if rep.Status == http.StatusUnauthorized || rep.Status == http.StatusBadRequest {
			return map[string]any{"active": false}, nil // a malformed token is simply not active
		}
		return nil, unexpected(ep, rep)
	}
	return info, nil
}

// ownsToken reports whether an introspected token is active and was issued
// to a client of the signed-in tenant.
func (h *Handlers) ownsToken(r *http.Request, info map[string]any) (bool, error) {
	active, _ := info["active"].(bool)
	clientID, _ := info["client_id"].(string)
	if !active || clientID == "" {
		return false, nil
	}
	_, err := h.ownClient(r.Context(), principal(r), clientID)
	if err != nil {
		if apierror.As(err).Status == http.StatusNotFound {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func checkToken(token string) error {
	switch {
	case token == "":
		return fieldError("token", "is required")
	case len(token) > maxToken:
		return fieldError("token", "is too long to be a token")
	}
	return nil
}
