// Package oauth2 serves Truss's OAuth2 / OpenID Connect endpoints on top of
// Ory Hydra. Every handler first checks Hydra is configured: OAuth2 is
// optional, and a server without it answers 503 oauth2_not_configured.
package oauth2

import (
	"net/http"
)

// Discovery answers GET /api/oauth2/discovery (and GET /api/hydra/discovery)
// with Hydra's OpenID Connect discovery document, so clients can find the
// issuer and its endpoints.
func (h *Handlers) Discovery(w http.ResponseWriter, r *http.Request) error {
	return h.publicPassthrough(w, r, "/.well-known/openid-configuration")
}

// JWKS answers GET /api/hydra/jwks with Hydra's public signing keys (the
// keys that verify ID tokens and JWT access tokens).
func (h *Handlers) JWKS(w http.ResponseWriter, r *http.Request) error {
	return h.publicPassthrough(w, r, "/.well-known/jwks.json")
}

// publicPassthrough relays a JSON document of Hydra's public API.
func (h *Handlers) publicPassthrough(w http.ResponseWriter, r *http.Request, path string) error {
	pub := h.Ory.HydraPublic
	if err := pub.Require(); err != nil {
		return err
	}
	var doc map[string]any
	_, rep, err := callReply(r.Context(), pub, http.MethodGet, path, nil, nil, &doc)
	if err != nil {
		return err
	}
	if rep != nil {
		// A 4xx on a well-known path means the URL is not Hydra's public API.
		return unexpected(pub, rep)
	}
	return writeJSON(w, http.StatusOK, doc)
}
