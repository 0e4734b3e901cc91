package auth

import (
	"net/http"

	"github.com/trussdev/truss/internal/httpjson"
)

// Session answers GET /api/auth/session: who is signed in (identity, email,
// tenant, admin and demo flags, assurance level, expiry).
func (s *Service) Session(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Authenticate(r)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, p)
}
