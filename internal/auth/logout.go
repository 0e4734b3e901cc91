package auth

import (
	"net/http"

	client "github.com/ory/client-go"
)

// Logout answers POST /api/auth/logout: revokes the Kratos session, forgets
// it in this instance's cache at once, and clears the cookie. Logging out
// without a session succeeds: the goal state is reached either way.
func (s *Service) Logout(w http.ResponseWriter, r *http.Request) error {
	token := sessionToken(r)
	if token != "" {
		kp := s.ory.KratosPublic
		resp, err := kp.API.FrontendAPI.PerformNativeLogout(r.Context()).
			PerformNativeLogoutBody(*client.NewPerformNativeLogoutBody(token)).Execute()
		if apiErr := kp.Check(err, resp); apiErr != nil {
			return apiErr // keep the cookie: the session is still valid in Kratos
		}
		if p, ok := s.cache.get(cacheKey(token)); ok {
			s.audit(r, "logout", true, p.IdentityID, p.Email, nil)
		}
		s.cache.delete(cacheKey(token))
	}
	s.clearSessionCookie(w)
	if s.OnLogin != nil {
		s.OnLogin(w, r) // a new anonymous CSRF token, as after login
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
