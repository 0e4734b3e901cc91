package csrf

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// tokenLen is the length of a token: 32 random bytes in unpadded base64url.
const tokenLen = 43

// MaxAge is the cookie's lifetime, one year. A session cookie would vanish
// when the browser closes while the Kratos session may persist, making the
// first write after reopening the dashboard fail with csrf_cookie_missing;
// the token is not a credential, and Rotate replaces it at login and logout.
const MaxAge = 365 * 24 * time.Hour

// CookieValues returns the value of every cookie called name that the request
// carried, in the order sent, from every Cookie header line. Browsers send
// several cookies with one name when they hold copies with different Domain
// or Path attributes (a host-only truss_csrf from api.example.com next to one
// for .example.com); Request.Cookie returns only the first, which is how a
// perfectly correct header still gets "CSRF token mismatch". Surrounding
// double quotes are removed and empty values skipped (they carry no token).
// Parsing is lenient, so a malformed neighbouring cookie never hides a value;
// callers validate what they get.
func CookieValues(r *http.Request, name string) []string {
	var out []string
	for _, line := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || textproto.TrimString(k) != name {
				continue
			}
			v = textproto.TrimString(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// wellFormed checks the token format before any comparison: exactly tokenLen
// characters of the base64url alphabet.
func wellFormed(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func anyWellFormed(values []string) bool {
	for _, v := range values {
		if wellFormed(v) {
			return true
		}
	}
	return false
}

// cookieDomain is the Domain attribute for cfg: CookieDomain without its
// leading dot, lowercased, or "" when it is empty or not a valid cookie
// domain (net/http would drop it anyway, logging on every response).
func cookieDomain(cfg Config) string {
	d := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(cfg.CookieDomain), "."))
	if d == "" {
		return ""
	}
	if err := (&http.Cookie{Name: CookieName, Value: "x", Domain: d}).Valid(); err != nil {
		return ""
	}
	return d
}

// tokenCookie is the Set-Cookie value carrying token on domain ("" for
// host-only).
func tokenCookie(cfg Config, token, domain string) string {
	return (&http.Cookie{
		Name: CookieName, Value: token, Path: "/", Domain: domain, MaxAge: int(MaxAge / time.Second),
		Secure: cfg.Secure, HttpOnly: false, SameSite: http.SameSiteLaxMode,
	}).String()
}

// expiredCookie is the Set-Cookie value deleting the copy on domain ("" for
// host-only); Expires in the past covers clients that ignore Max-Age.
func expiredCookie(cfg Config, domain string) string {
	return (&http.Cookie{
		Name: CookieName, Value: "", Path: "/", Domain: domain, MaxAge: -1, Expires: time.Unix(0, 0),
		Secure: cfg.Secure, HttpOnly: false, SameSite: http.SameSiteLaxMode,
	}).String()
}
