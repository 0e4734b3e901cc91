package auth

import (
	"net/http"
	"time"
)

// setSessionCookie stores the Kratos session token in truss_session:
// HttpOnly (scripts cannot steal it), Max-Age no longer than the Kratos
// session, Domain/SameSite/Secure from configuration.
func (s *Service) setSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	maxAge := int(time.Until(expires).Seconds())
	if expires.IsZero() || maxAge <= 0 {
		maxAge = 3600
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Domain: s.cfg.Cookies.SessionDomain, MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.Cookies.Secure, SameSite: s.cfg.Cookies.SameSite,
	})
}

// clearSessionCookie expires truss_session on the configured scope and, when
// that is a parent domain, on the host-only scope too, so no stale copy
// survives to shadow a newer one.
func (s *Service) clearSessionCookie(w http.ResponseWriter) {
	domains := []string{s.cfg.Cookies.SessionDomain}
	if s.cfg.Cookies.SessionDomain != "" {
		domains = append(domains, "")
	}
	for _, d := range domains {
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", Domain: d, MaxAge: -1,
			HttpOnly: true, Secure: s.cfg.Cookies.Secure, SameSite: s.cfg.Cookies.SameSite})
	}
}
