package clientip

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParseTrusted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		wantString string
		wantErr    []string // substrings of the error; nil: no error
	}{
		{"", "", nil},
		{" , ,", "", nil},
		{"10.0.0.5", "10.0.0.5", nil},
		{" 10.0.0.5 , 172.16.0.0/12,fd00::/8 ,2001:db8::1", "10.0.0.5,172.16.0.0/12,fd00::/8,2001:db8::1", nil},
		{"10.1.2.3/8", "10.0.0.0/8", nil},          // host bits cleared
		{"192.168.1.1/32", "192.168.1.1", nil},     // a /32 is one address
		{"::ffff:10.0.0.1", "10.0.0.1", nil},       // mapped address unmapped
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", nil}, // mapped range unmapped
		{"0.0.0.0/0,::/0", "0.0.0.0/0,::/0", nil},  // trust everyone: allowed, user's choice
		{"10.0.0.300", "", []string{EnvVar, "entry 1", `"10.0.0.300"`, "not an IP address or CIDR"}},
		{"10.0.0.1,proxy.internal", "", []string{"entry 2", `"proxy.internal"`, "host names are not resolved"}},
		{"10.0.0.0/33", "", []string{"entry 1", "not a CIDR range"}},
		{"10.0.0.0/", "", []string{"not a CIDR range"}},
		{"fe80::1%eth0", "", []string{"zone"}},
		{"::ffff:10.0.0.0/90", "", []string{"at least 96"}},
		{"http://10.0.0.1", "", []string{"entry 1"}},
		{"10.0.0.1:8080", "", []string{"entry 1"}},
		{"bad1, 10.0.0.1, bad3", "", []string{"entry 1", "entry 3"}}, // every problem at once
	}
	for _, tc := range tests {
		r, err := ParseTrusted(tc.in)
		if tc.wantErr == nil {
			if err != nil {
				t.Errorf("ParseTrusted(%q): %v", tc.in, err)
				continue
			}
			if got := r.String(); got != tc.wantString {
				t.Errorf("ParseTrusted(%q).String() = %q, want %q", tc.in, got, tc.wantString)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseTrusted(%q) succeeded, want an error", tc.in)
			continue
		}
		for _, want := range tc.wantErr {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseTrusted(%q) error %q lacks %q", tc.in, err, want)
			}
		}
	}
}

func mustResolver(t testing.TB, s string) Resolver {
	t.Helper()
	r, err := ParseTrusted(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	r := mustResolver(t, "10.0.0.0/8, 2001:db8:ffff::/48, 192.0.2.10")
	tests := []struct {
		name   string
		remote string
		xff    []string // header lines
		want   string
	}{
		{"direct client, no header", "203.0.113.7:50000", nil, "203.0.113.7"},
		{"spoof from untrusted peer is ignored", "203.0.113.7:50000", []string{"1.2.3.4"}, "203.0.113.7"},
		{"spoof of a trusted address from untrusted peer", "203.0.113.7:50000", []string{"10.0.0.1"}, "203.0.113.7"},
		{"untrusted IPv6 peer", "[2001:db8::5]:443", []string{"1.2.3.4"}, "2001:db8::5"},
		{"trusted proxy, one hop", "10.0.0.2:40000", []string{"198.51.100.9"}, "198.51.100.9"},
		{"trusted proxy, no header", "10.0.0.2:40000", nil, "10.0.0.2"},
		{"trusted proxy, empty header", "10.0.0.2:40000", []string{" , "}, "10.0.0.2"},
		{"client-supplied left part is not believed", "10.0.0.2:40000", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
		{"client spoofs a trusted address on the left", "10.0.0.2:40000", []string{"10.9.9.9, 198.51.100.9"}, "198.51.100.9"},
		{"two trusted hops skipped", "10.0.0.2:40000", []string{"6.6.6.6, 198.51.100.9, 192.0.2.10, 10.1.1.1"}, "198.51.100.9"},
		{"several header lines form one list", "10.0.0.2:40000", []string{"6.6.6.6, 198.51.100.9", "10.1.1.1"}, "198.51.100.9"},
		{"last line is nearest", "10.0.0.2:40000", []string{"198.51.100.9", "203.0.113.50"}, "203.0.113.50"},
		{"every hop trusted: leftmost", "10.0.0.2:40000", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage nearest: the peer", "10.0.0.2:40000", []string{"198.51.100.9, not-an-ip"}, "10.0.0.2"},
		{"garbage behind a trusted hop: that hop", "10.0.0.2:40000", []string{"198.51.100.9, <script>, 10.4.4.4"}, "10.4.4.4"},
		{"garbage left of the client is irrelevant", "10.0.0.2:40000", []string{"unknown, 198.51.100.9"}, "198.51.100.9"},
		{"entry with port", "10.0.0.2:40000", []string{"198.51.100.9:51234"}, "198.51.100.9"},
		{"IPv6 entry", "10.0.0.2:40000", []string{"2001:db8:1::7"}, "2001:db8:1::7"},
		{"bracketed IPv6 entry with port", "10.0.0.2:40000", []string{"[2001:db8:1::7]:443"}, "2001:db8:1::7"},
		{"bracketed IPv6 entry", "10.0.0.2:40000", []string{"[2001:db8:1::7]"}, "2001:db8:1::7"},
		{"bracketed IPv4 is not a form", "10.0.0.2:40000", []string{"[198.51.100.9]"}, "10.0.0.2"},
		{"IPv4 with bad port", "10.0.0.2:40000", []string{"198.51.100.9:port"}, "10.0.0.2"},
		{"mapped entry unmapped", "10.0.0.2:40000", []string{"::ffff:198.51.100.9"}, "198.51.100.9"},
		{"zone dropped", "10.0.0.2:40000", []string{"fe80::1%eth0"}, "fe80::1"},
		{"trusted IPv6 proxy", "[2001:db8:ffff::1]:40000", []string{"198.51.100.9"}, "198.51.100.9"},
		{"mapped trusted peer", "[::ffff:10.0.0.2]:40000", []string{"198.51.100.9"}, "198.51.100.9"},
		{"single trusted address", "192.0.2.10:1", []string{"198.51.100.9"}, "198.51.100.9"},
		{"neighbour of the single trusted address", "192.0.2.11:1", []string{"198.51.100.9"}, "192.0.2.11"},
		{"RemoteAddr without port", "10.0.0.2", []string{"198.51.100.9"}, "198.51.100.9"},
		{"unix socket peer", "@", []string{"198.51.100.9"}, "invalid IP"},
		{"empty RemoteAddr", "", nil, "invalid IP"},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tc.remote
		for _, line := range tc.xff {
			req.Header.Add("X-Forwarded-For", line)
		}
		if got := r.ClientIP(req).String(); got != tc.want {
			t.Errorf("%s: ClientIP(RemoteAddr %q, XFF %q) = %s, want %s", tc.name, tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestZeroResolverTrustsNobody(t *testing.T) {
	t.Parallel()
	var r Resolver
	for _, remote := range []string{"127.0.0.1:1", "10.0.0.1:1", "[::1]:1"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", "1.2.3.4")
		req.Header.Set("X-Forwarded-Proto", "https")
		if got := r.ClientIP(req); got != remoteAddr(remote) {
			t.Errorf("zero Resolver: ClientIP from %s = %s", remote, got)
		}
		if r.IsHTTPS(req) {
			t.Errorf("zero Resolver: IsHTTPS believed X-Forwarded-Proto from %s", remote)
		}
	}
	if r.Trusted(netip.Addr{}) {
		t.Error("the zero Addr is trusted")
	}
}

func TestIsHTTPS(t *testing.T) {
	t.Parallel()
	r := mustResolver(t, "10.0.0.0/8")
	tests := []struct {
		name   string
		remote string
		tls    bool
		proto  []string
		want   bool
	}{
		{"plain http, direct", "203.0.113.7:1", false, nil, false},
		{"TLS connection", "203.0.113.7:1", true, nil, true},
		{"TLS connection, proxy header ignored", "203.0.113.7:1", true, []string{"http"}, true},
		{"spoofed proto from untrusted peer", "203.0.113.7:1", false, []string{"https"}, false},
		{"trusted proxy says https", "10.0.0.2:1", false, []string{"https"}, true},
		{"trusted proxy says HTTPS", "10.0.0.2:1", false, []string{"HTTPS"}, true},
		{"trusted proxy says http", "10.0.0.2:1", false, []string{"http"}, false},
		{"trusted proxy, no header", "10.0.0.2:1", false, nil, false},
		{"appended list: client-facing proxy wins", "10.0.0.2:1", false, []string{"https, http"}, true},
		{"appended list: client used http", "10.0.0.2:1", false, []string{"http,https"}, false},
		{"padded value", "10.0.0.2:1", false, []string{"  https  "}, true},
		{"garbage", "10.0.0.2:1", false, []string{"httpsx"}, false},
		{"unix socket peer", "@", false, []string{"https"}, false},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tc.remote
		if tc.tls {
			req.TLS = &tls.ConnectionState{}
		} else {
			req.TLS = nil
		}
		for _, p := range tc.proto {
			req.Header.Add("X-Forwarded-Proto", p)
		}
		if got := r.IsHTTPS(req); got != tc.want {
			t.Errorf("%s: IsHTTPS = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzParseTrusted(f *testing.F) {
	for _, s := range []string{"", "10.0.0.5", "10.0.0.0/8, fd00::/8", "::ffff:10.0.0.0/104", "0.0.0.0/0,::/0",
		"10.0.0.300", "fe80::1%eth0", "1.2.3.4/33", ",,,", "::ffff:1.2.3.4/128", "1.2.3.4/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseTrusted(s)
		if err != nil {
			if !strings.Contains(err.Error(), EnvVar) {
				t.Fatalf("error does not name %s: %v", EnvVar, err)
			}
			return
		}
		// The canonical form parses back to the same ranges.
		again, err := ParseTrusted(r.String())
		if err != nil {
			t.Fatalf("ParseTrusted(%q) accepted, but its String %q does not parse: %v", s, r.String(), err)
		}
		if again.String() != r.String() {
			t.Fatalf("String not stable: %q -> %q", r.String(), again.String())
		}
		for _, p := range r.trusted {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("ParseTrusted(%q) kept non-canonical range %s", s, p)
			}
			// Every range trusts its own first address, mapped or not.
			if !r.Trusted(p.Addr()) {
				t.Fatalf("ParseTrusted(%q): %s not trusted", s, p.Addr())
			}
			if p.Addr().Is4() && !r.Trusted(netip.AddrFrom16(p.Addr().As16())) {
				t.Fatalf("ParseTrusted(%q): IPv4-mapped %s not trusted", s, p.Addr())
			}
		}
	})
}

// FuzzForwardedFor feeds arbitrary X-Forwarded-For headers and peers.
// Whatever the client writes, the answer is the peer when the peer is not
// trusted, and otherwise an address that appears in the request.
func FuzzForwardedFor(f *testing.F) {
	f.Add("10.0.0.2:1", "198.51.100.9", "")
	f.Add("10.0.0.2:1", "6.6.6.6, 198.51.100.9, 10.1.1.1", "10.2.2.2")
	f.Add("203.0.113.7:1", "10.0.0.1", "")
	f.Add("[::ffff:10.0.0.2]:1", "[2001:db8::1]:443, fe80::1%eth0", "garbage, ,")
	f.Add("10.0.0.2", ",,,", "[::1]")
	r := mustResolver(f, "10.0.0.0/8, fd00::/8")
	f.Fuzz(func(t *testing.T, remote, line1, line2 string) {
		req := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {line1, line2}}}
		got := r.ClientIP(req)
		peer := remoteAddr(remote)
		if !r.Trusted(peer) {
			if got != peer {
				t.Fatalf("untrusted peer %q: ClientIP = %s, want the peer %s", remote, got, peer)
			}
			return
		}
		if got == peer {
			return
		}
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("ClientIP = %v: not a plain address", got)
		}
		found := false
		for _, e := range forwardedFor([]string{line1, line2}) {
			if a, ok := parseForwardedAddr(e); ok && a == got {
				found = true
			}
		}
		if !found {
			t.Fatalf("ClientIP = %s appears neither as the peer %q nor in X-Forwarded-For %q, %q", got, remote, line1, line2)
		}
		// Spoofing resistance: once a real (untrusted) client address is
		// found, whatever the client prepends cannot change it.
		if !r.Trusted(got) {
			req.Header["X-Forwarded-For"] = []string{"6.6.6.6, 10.9.9.9, nonsense, " + line1, line2}
			if again := r.ClientIP(req); again != got {
				t.Fatalf("prepending client-controlled entries changed ClientIP from %s to %s", got, again)
			}
		}
	})
}
