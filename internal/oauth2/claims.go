package oauth2

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// idTokenClaims are the claims Truss adds to the ID token (and so to
// /userinfo) of a grant: with the email scope, the identity's email and,
// when Kratos tracks that address, email_verified; with profile, its name.
// The identity is read from Kratos at consent time, so a changed email is
// reflected in new grants.
func (h *Handlers) idTokenClaims(ctx context.Context, subject string, scopes []string) (map[string]any, error) {
	claims := map[string]any{}
	wantEmail, wantProfile := slices.Contains(scopes, "email"), slices.Contains(scopes, "profile")
	if subject == "" || (!wantEmail && !wantProfile) {
		return claims, nil
	}
	ka := h.Ory.KratosAdmin
	id, resp, err := ka.API.IdentityAPI.GetIdentity(ctx, subject).Execute()
	if apiErr := ka.Check(err, resp); apiErr != nil {
		return nil, apiErr
	}
	if err != nil || id == nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return claims, nil // e.g. the local tenant of TRUSS_AUTH_REQUIRED=false
		}
		return nil, ka.Check(err, &http.Response{StatusCode: http.StatusBadGateway, Status: "unexpected answer"})
	}
	traits, _ := id.Traits.(map[string]any)
	if email, _ := traits["email"].(string); wantEmail && email != "" {
		claims["email"] = email
		for _, a := range id.VerifiableAddresses {
			if a.Via == "email" && strings.EqualFold(a.Value, email) {
				claims["email_verified"] = a.Verified
			}
		}
	}
	if name, _ := traits["name"].(string); wantProfile && name != "" {
		claims["name"] = name
	}
	return claims, nil
}
