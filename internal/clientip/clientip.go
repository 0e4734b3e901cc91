// Package clientip finds the address of the client behind Truss's reverse
// proxies, for rate limits and logs, and whether the client used HTTPS.
//
// X-Forwarded-For and X-Forwarded-Proto are written by whoever sends the
// request, so they are believed only when the direct peer (RemoteAddr) is a
// proxy listed in TRUSS_TRUSTED_PROXIES. Without that list a client could
// claim any address and escape its rate limit; with it, but set too narrowly,
// every user shares the proxy's address and its rate limit.
package clientip

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// EnvVar is the variable ParseTrusted reads; error messages name it.
const EnvVar = "TRUSS_TRUSTED_PROXIES"

// Resolver knows which peers are trusted proxies. The zero Resolver trusts
// none, so every request's client is its direct peer.
type Resolver struct {
	trusted []netip.Prefix
}

// ParseTrusted parses TRUSS_TRUSTED_PROXIES: comma-separated IP addresses
// (10.0.0.5, 2001:db8::1) and CIDR ranges (172.16.0.0/12, fd00::/8). Empty
// entries are ignored and an empty string trusts nobody. Host bits of a CIDR
// are cleared (10.1.2.3/8 means 10.0.0.0/8). Every invalid entry is reported,
// naming its position and why.
func ParseTrusted(s string) (Resolver, error) {
	var r Resolver
	var errs []error
	for i, raw := range strings.Split(s, ",") {
		entry := strings.TrimSpace(raw)
		if entry == "" {
			continue
		}
		p, err := parseEntry(entry)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s entry %d (%q): %w", EnvVar, i+1, entry, err))
			continue
		}
		r.trusted = append(r.trusted, p)
	}
	if len(errs) > 0 {
		return Resolver{}, errors.Join(errs...)
	}
	return r, nil
}

func parseEntry(entry string) (netip.Prefix, error) {
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, errors.New("not a CIDR range (expected e.g. 10.0.0.0/8 or fd00::/8)")
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8; peers are compared unmapped.
			if p.Bits() < 96 {
				return netip.Prefix{}, errors.New("an IPv4-mapped range needs a prefix length of at least 96; write the IPv4 range instead")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, errors.New("not an IP address or CIDR range (expected e.g. 10.0.0.5 or 172.16.0.0/12; host names are not resolved)")
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("an IPv6 zone (%...) is not allowed; write the address alone")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// String lists the trusted ranges in canonical form, comma-separated, for the
// start-up log. ParseTrusted(r.String()) gives back the same Resolver.
func (r Resolver) String() string {
	parts := make([]string, len(r.trusted))
	for i, p := range r.trusted {
		if p.IsSingleIP() {
			parts[i] = p.Addr().String()
		} else {
			parts[i] = p.String()
		}
	}
	return strings.Join(parts, ",")
}

// Trusted reports whether addr is a trusted proxy.
func (r Resolver) Trusted(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ClientIP is the address of the client that sent req. When the direct peer
// is a trusted proxy, X-Forwarded-For is read from the right (the entry the
// nearest proxy appended) leftwards, skipping trusted proxies, and the first
// untrusted address is the client: entries further left were written by the
// client itself and could be anything. If the walk meets an entry that is not
// an address, the last trusted hop is returned, since nothing to its left can
// be believed; if every entry is trusted, the leftmost one is. Otherwise, and
// when the peer is not trusted, the peer's address is returned. The result is
// the zero Addr only when RemoteAddr is not an IP address (e.g. a Unix socket).
func (r Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := remoteAddr(req.RemoteAddr)
	if !r.Trusted(peer) {
		return peer
	}
	client := peer
	for _, entry := range forwardedFor(req.Header.Values("X-Forwarded-For")) {
		a, ok := parseForwardedAddr(entry)
		if !ok {
			return client
		}
		client = a
		if !r.Trusted(a) {
			return a
		}
	}
	return client
}

// IsHTTPS reports whether the client reached Truss over HTTPS: the connection
// itself is TLS, or a trusted proxy says so in X-Forwarded-Proto. When
// proxies append to the header ("https, http"), the leftmost value is the one
// the client-facing proxy wrote.
func (r Resolver) IsHTTPS(req *http.Request) bool {
	if req.TLS != nil {
		return true
	}
	if !r.Trusted(remoteAddr(req.RemoteAddr)) {
		return false
	}
	proto := req.Header.Get("X-Forwarded-Proto")
	first, _, _ := strings.Cut(proto, ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
}

// remoteAddr parses http.Request.RemoteAddr ("ip:port", or a bare IP in
// hand-built requests), unmapped and without zone.
func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// forwardedFor splits X-Forwarded-For header lines into entries ordered from
// the nearest hop (rightmost entry of the last line) to the farthest. Several
// header lines count as one list joined in order (RFC 9110, section 5.3).
func forwardedFor(lines []string) []string {
	var entries []string
	for i := len(lines) - 1; i >= 0; i-- {
		parts := strings.Split(lines[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			if e := strings.TrimSpace(parts[j]); e != "" {
				entries = append(entries, e)
			}
		}
	}
	return entries
}

// parseForwardedAddr accepts the forms proxies write in X-Forwarded-For:
// 203.0.113.7, 2001:db8::1, 203.0.113.7:51234, [2001:db8::1]:51234 and
// [2001:db8::1]. Zones are dropped and IPv4-mapped addresses unmapped.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
