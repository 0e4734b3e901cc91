package csrf

import (
	"fmt"
	"net/http"

	"github.com/trussdev/truss/internal/apierror"
)

// Error codes of a failed check, one per cause, so a bug report's code alone
// says what to fix.
const (
	CodeCookieMissing = "csrf_cookie_missing"
	CodeHeaderMissing = "csrf_header_missing"
	CodeTokenMismatch = "csrf_token_mismatch"
)

func errCookieMissing() *apierror.Error {
	return apierror.New(http.StatusForbidden, CodeCookieMissing,
		"No "+CookieName+" cookie arrived with this request, so its CSRF token cannot be checked.").
		WithHint("The client must first GET any /api endpoint (e.g. GET /api/auth/login) to receive the " + CookieName +
			" cookie; this response sets one too, so retrying works if the browser keeps it. If it still never arrives: " +
			"send requests with credentials (fetch: credentials: 'include'); when the dashboard and the API are on " +
			"different subdomains (app.example.com and api.example.com) set CSRF_COOKIE_DOMAIN to their shared parent " +
			"domain (e.g. .example.com); the cookie is SameSite=Lax, so the dashboard must be on the same site " +
			"(registrable domain) as the API; and check that no reverse proxy strips Set-Cookie or Cookie headers.").
		WithDetails(map[string]any{"cookie": CookieName, "header": HeaderName})
}

func errHeaderMissing(cookies int) *apierror.Error {
	return apierror.New(http.StatusForbidden, CodeHeaderMissing,
		"This request carries the "+CookieName+" cookie but no "+HeaderName+" header.").
		WithHint("Read the " + CookieName + " cookie (document.cookie) and send its value in the " + HeaderName +
			" header of every POST, PUT, PATCH and DELETE to /api/. When the dashboard runs on another subdomain than " +
			"the API, its JavaScript can read the cookie only if CSRF_COOKIE_DOMAIN is set to their shared parent " +
			"domain (e.g. .example.com); if it is already set, this response replaced a " + CookieName + " the " +
			"dashboard could not read: retry once. API clients authenticating with X-Session-Token or Authorization: Bearer " +
			"need no CSRF token.").
		WithDetails(map[string]any{"cookie": CookieName, "header": HeaderName, "cookies_received": cookies})
}

func errMismatch(cookies int, malformed bool) *apierror.Error {
	var msg string
	switch {
	case malformed:
		msg = fmt.Sprintf("The %s header is not a Truss CSRF token (43 characters of A-Z, a-z, 0-9, '-' and '_'); "+
			"%d %s cookie value(s) arrived.", HeaderName, cookies, CookieName)
	case cookies == 1:
		msg = fmt.Sprintf("The %s header does not match the %s cookie this request carried.", HeaderName, CookieName)
	default:
		msg = fmt.Sprintf("The %s header matches none of the %d %s cookies this request carried.", HeaderName, cookies, CookieName)
	}
	hint := "Send the current value of the " + CookieName + " cookie, re-reading it after login and logout (they issue " +
		"a new token) instead of caching it."
	if cookies > 1 {
		hint = "The browser holds several " + CookieName + " cookies: stale or duplicate copies from another domain " +
			"scope (host-only and CSRF_COOKIE_DOMAIN, or another deployment on a sibling subdomain). " + hint
	}
	hint += " Clear this site's cookies in the browser and log in again, and make sure CSRF_COOKIE_DOMAIN has the " +
		"same value on every deployment that shares the domain."
	return apierror.New(http.StatusForbidden, CodeTokenMismatch, msg).WithHint(hint).
		WithDetails(map[string]any{"cookie": CookieName, "header": HeaderName, "cookies_received": cookies})
}
