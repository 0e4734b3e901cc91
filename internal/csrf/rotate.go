package csrf

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Rotate issues a fresh token, to be called when a login or logout succeeds
// so that a token seen before the session changed is worthless afterwards. It
// returns the token (a handler may also return it in its body), and leaves
// the browser with exactly one truss_csrf cookie:
//
//   - any truss_csrf Set-Cookie already on w (the middleware's, for a request
//     that came without a cookie) is replaced rather than followed;
//   - with CookieDomain set, the host-only copy is expired (Set-Cookie
//     without Domain): it is a different cookie from the parent-domain one,
//     which is then set with Domain and replaces any older parent-domain copy;
//   - with CookieDomain empty the new host-only cookie simply replaces the
//     old one (expiring and setting the same cookie in one response would be
//     pointless);
//   - when the request carried any truss_csrf cookie, the copies on every
//     parent domain of the request's host other than the configured one are
//     expired too: the browser does not say which scope a cookie came from,
//     and a copy left there by an earlier CSRF_COOKIE_DOMAIN or by another
//     deployment on a sibling subdomain would otherwise keep arriving next to
//     the new one. Expiring a cookie the browser does not hold does nothing.
func Rotate(w http.ResponseWriter, r *http.Request, cfg Config) string {
	token := newToken()
	h := w.Header()
	dropSetCookies(h, CookieName)
	domain := cookieDomain(cfg)
	if domain != "" {
		h.Add("Set-Cookie", expiredCookie(cfg, ""))
	}
	if len(CookieValues(r, CookieName)) > 0 {
		for _, d := range parentDomains(r.Host) {
			if d != domain {
				h.Add("Set-Cookie", expiredCookie(cfg, d))
			}
		}
	}
	h.Add("Set-Cookie", tokenCookie(cfg, token, domain))
	return token
}

// dropSetCookies removes the Set-Cookie lines for name from h.
func dropSetCookies(h http.Header, name string) {
	lines := h.Values("Set-Cookie")
	kept := lines[:0:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, name+"=") {
			kept = append(kept, l)
		}
	}
	if len(kept) == 0 {
		h.Del("Set-Cookie")
	} else {
		h["Set-Cookie"] = kept
	}
}

// parentDomains lists the domains above host, nearest first, down to two
// labels: api.eu.example.com gives eu.example.com and example.com. An IP
// address has none. At most 8 are returned, whatever the Host header says.
func parentDomains(host string) []string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return nil
	}
	var out []string
	for {
		_, rest, ok := strings.Cut(host, ".")
		if !ok || !strings.Contains(rest, ".") || len(out) == 8 {
			return out
		}
		if rest != "" && cookieDomain(Config{CookieDomain: rest}) == rest {
			out = append(out, rest)
		}
		host = rest
	}
}
