package cors

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// EnvVar is the variable ParseOrigins reads; logs, errors and hints name it.
const EnvVar = "CORS_ALLOWED_ORIGINS"

// ParseOrigins parses CORS_ALLOWED_ORIGINS: comma-separated exact origins such
// as https://app.example.com or http://localhost:5173. Each is normalised to
// the form browsers send in the Origin header (lowercase scheme and host, no
// default port, no trailing slash), so a match is a plain string comparison;
// duplicates and empty entries are dropped. Every invalid entry is reported,
// naming its position and why: a wildcard (browsers refuse credentials with
// "Access-Control-Allow-Origin: *", and a reflected wildcard would let any
// site act as the logged-in user), a path, a query, a missing or non-http(s)
// scheme, user info, a bad port or a non-ASCII host.
func ParseOrigins(s string) ([]string, error) {
	var out []string
	var errs []error
	seen := map[string]bool{}
	for i, raw := range strings.Split(s, ",") {
		entry := strings.TrimSpace(raw)
		if entry == "" {
			continue
		}
		o, err := normalize(entry, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s entry %d (%q): %w", EnvVar, i+1, entry, err))
			continue
		}
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// normalize turns an origin, or with allowPath a whole URL, into the
// serialised origin a browser sends: scheme://host[:port].
func normalize(s string, allowPath bool) (string, error) {
	if strings.Contains(s, "*") {
		return "", errors.New("wildcards are not allowed: browsers refuse credentials (cookies) with " +
			"Access-Control-Allow-Origin: *, so list each dashboard origin exactly, e.g. https://app.example.com")
	}
	if strings.EqualFold(s, "null") {
		return "", errors.New(`"null" is the origin of sandboxed frames and local files, which any site can produce; it cannot be allowed`)
	}
	if !strings.Contains(s, "://") {
		return "", fmt.Errorf("missing scheme: write https://%s (or http:// for local development)", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("not a URL: expected an origin such as https://app.example.com")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("scheme %q is not allowed: use http:// or https://", u.Scheme)
	}
	if u.User != nil {
		return "", errors.New("an origin has no user name or password")
	}
	if !allowPath {
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
			return "", fmt.Errorf("an origin has no path, query or fragment: use %s://%s", scheme, strings.ToLower(u.Host))
		}
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", errors.New("missing host: expected an origin such as https://app.example.com")
	}
	if strings.Contains(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", errors.New("invalid IPv6 address: write it in brackets, e.g. http://[::1]:3000")
		}
		host = "[" + a.String() + "]"
	} else if err := checkHostname(host); err != nil {
		return "", err
	}
	port := u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return "", errors.New("empty port after the colon")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
		// Browsers omit the scheme's default port from Origin.
		if !(scheme == "http" && n == 80 || scheme == "https" && n == 443) {
			host += ":" + strconv.Itoa(n)
		}
	}
	return scheme + "://" + host, nil
}

// checkHostname accepts the characters browsers put in Origin: ASCII letters,
// digits, '-', '_' and dots between non-empty labels (so IPv4 passes too).
// Unicode names must be written in their punycode (xn--) form, which is what
// the browser sends.
func checkHostname(host string) error {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c >= 0x80 {
			return errors.New("non-ASCII host: write the punycode (xn--...) form the browser sends")
		}
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("invalid character %q in host %q", c, host)
		}
	}
	if strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return fmt.Errorf("invalid host %q: empty label", host)
	}
	return nil
}
