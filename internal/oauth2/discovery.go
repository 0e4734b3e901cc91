// Package oauth2 serves Truss's OAuth2 / OpenID Connect endpoints on top of
// Ory Hydra. Every handler first checks Hydra is configured: OAuth2 is
// optional, and a server without it answers 503 oauth2_not_configured.
package oauth2

import (
	"encoding/json"
	"net/http"

	"github.com/trussdev/truss/internal/ory"
)

// Handlers serves /api/oauth2/*.
type Handlers struct {
	Ory *ory.Clients
}

// Discovery answers GET /api/oauth2/discovery with Hydra's OpenID Connect
// discovery document, so clients can find the issuer and its endpoints.
func (h *Handlers) Discovery(w http.ResponseWriter, r *http.Request) error {
	pub := h.Ory.HydraPublic
	if err := pub.Require(); err != nil {
		return err
	}
	doc, resp, err := pub.API.OidcAPI.DiscoverOidcConfiguration(r.Context()).Execute()
	if apiErr := pub.Check(err, resp); apiErr != nil {
		return apiErr
	}
	if err != nil {
		// A 4xx on the discovery path means the URL is not Hydra's public API.
		return pub.Check(err, &http.Response{StatusCode: http.StatusBadGateway, Status: "unexpected " + resp.Status})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	return json.NewEncoder(w).Encode(doc)
}
