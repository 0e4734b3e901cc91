package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

var csrfCookieDomainCheck = Check{
	ID:    "cookies.csrf_domain",
	Title: "CSRF cookie reaches the dashboard",
	Symptom: "403 Forbidden with `csrf_cookie_missing` or `csrf_token_mismatch` on login, registration or settings " +
		"forms when the dashboard and the API are on different subdomains.",
	Fix: "Set CSRF_COOKIE_DOMAIN to the parent domain both hosts share (e.g. .example.com for app.example.com and " +
		"api.example.com), then clear the browser's cookies for that domain.",
	Run: func(_ context.Context, env *Env, c Check) []Result {
		api, dash := hostOf(env.Cfg.PublicURL.Host), hostOf(env.Dashboard.Host)
		d := strings.TrimPrefix(strings.ToLower(env.Cfg.Cookies.CSRFDomain), ".")
		switch {
		case api == dash:
			return []Result{c.result(OK, fmt.Sprintf("dashboard and API share the host %s: a host-only truss_csrf cookie works", api))}
		case d == "":
			return []Result{c.resultFix(Fail, fmt.Sprintf("dashboard on %s, API on %s, CSRF_COOKIE_DOMAIN is empty: the dashboard's JavaScript cannot read the API's truss_csrf cookie", dash, api),
				"Set CSRF_COOKIE_DOMAIN=."+commonParent(api, dash)+" (and COOKIE_DOMAIN to the same), then clear the browser's cookies for that domain.")}
		case !covers(d, api) || !covers(d, dash):
			return []Result{c.resultFix(Fail, fmt.Sprintf("CSRF_COOKIE_DOMAIN=%s does not cover both %s and %s", env.Cfg.Cookies.CSRFDomain, dash, api),
				"Set CSRF_COOKIE_DOMAIN=."+commonParent(api, dash)+".")}
		}
		return []Result{c.result(OK, fmt.Sprintf("CSRF_COOKIE_DOMAIN=%s covers the dashboard (%s) and the API (%s)", env.Cfg.Cookies.CSRFDomain, dash, api))}
	},
}

var sessionCookieDomainCheck = Check{
	ID:    "cookies.session",
	Title: "Session cookie is kept after login",
	Symptom: "Login succeeds but the dashboard shows \"Not authenticated\" or sends you back to the login page: the " +
		"browser dropped or never sent the truss_session cookie.",
	Fix: "Dashboard and API on different sites need COOKIE_SAMESITE=none with an https TRUSS_PUBLIC_URL; COOKIE_DOMAIN, " +
		"when set, must cover the API host; the dashboard must fetch with credentials: 'include'.",
	Run: func(_ context.Context, env *Env, c Check) []Result {
		cfg := env.Cfg
		api, dash := hostOf(cfg.PublicURL.Host), hostOf(env.Dashboard.Host)
		d := strings.TrimPrefix(strings.ToLower(cfg.Cookies.SessionDomain), ".")
		if d != "" && !covers(d, api) {
			return []Result{c.resultFix(Fail, fmt.Sprintf("COOKIE_DOMAIN=%s does not cover the API host %s: browsers reject the cookie", cfg.Cookies.SessionDomain, api),
				"Set COOKIE_DOMAIN=."+commonParent(api, dash)+" or leave it empty.")}
		}
		if site(api) != site(dash) && cfg.Cookies.SameSite != http.SameSiteNoneMode {
			return []Result{c.resultFix(Fail, fmt.Sprintf("dashboard (%s) and API (%s) are different sites and COOKIE_SAMESITE is not none: browsers will not send truss_session with the dashboard's requests", dash, api),
				"Set COOKIE_SAMESITE=none and serve TRUSS_PUBLIC_URL over https, or put the dashboard on a subdomain of the API's domain.")}
		}
		if env.Dashboard.Scheme == "https" && cfg.PublicURL.Scheme != "https" {
			return []Result{c.resultFix(Warn, "the dashboard is served over https but TRUSS_PUBLIC_URL is http: cookies are not Secure and mixed content is blocked",
				"Serve the API over https and set TRUSS_PUBLIC_URL to its https URL.")}
		}
		return []Result{c.result(OK, fmt.Sprintf("truss_session: Domain=%q SameSite=%s Secure=%v HttpOnly=true, sent by the dashboard at %s",
			cfg.Cookies.SessionDomain, sameSiteName(cfg.Cookies.SameSite), cfg.Cookies.Secure, env.Dashboard))}
	},
}

func hostOf(hostport string) string {
	h := hostport
	if i := strings.LastIndex(h, ":"); i > 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}

func covers(domain, host string) bool { return host == domain || strings.HasSuffix(host, "."+domain) }

// commonParent is the longest domain suffix two hosts share (at least two
// labels when they have one), e.g. example.com for app.example.com and
// api.example.com.
func commonParent(a, b string) string {
	la, lb := strings.Split(a, "."), strings.Split(b, ".")
	var common []string
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		if la[len(la)-i] != lb[len(lb)-i] {
			break
		}
		common = append([]string{la[len(la)-i]}, common...)
	}
	if len(common) == 0 {
		return "example.com"
	}
	return strings.Join(common, ".")
}

// site approximates the registrable domain (last two labels). It is wrong
// for multi-label public suffixes such as co.uk, which only makes the check
// stricter.
func site(host string) string {
	l := strings.Split(host, ".")
	if len(l) <= 2 {
		return host
	}
	return strings.Join(l[len(l)-2:], ".")
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteNoneMode:
		return "None"
	case http.SameSiteStrictMode:
		return "Strict"
	}
	return "Lax"
}
