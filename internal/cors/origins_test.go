package cors

import (
	"slices"
	"strings"
	"testing"
)

func TestParseOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr []string // substrings of the error; nil: no error
	}{
		{"", nil, nil},
		{" , ", nil, nil},
		{"https://app.example.com", []string{"https://app.example.com"}, nil},
		{"https://app.example.com/", []string{"https://app.example.com"}, nil},
		{" HTTPS://App.Example.COM ", []string{"https://app.example.com"}, nil},
		{"https://app.example.com:443,http://localhost:80", []string{"https://app.example.com", "http://localhost"}, nil},
		{"http://localhost:5173, https://app.example.com:8443", []string{"http://localhost:5173", "https://app.example.com:8443"}, nil},
		{"http://127.0.0.1:3000", []string{"http://127.0.0.1:3000"}, nil},
		{"http://[::1]:3000", []string{"http://[::1]:3000"}, nil},
		{"http://[2001:DB8:0:0::1]", []string{"http://[2001:db8::1]"}, nil},
		{"https://xn--bcher-kva.example", []string{"https://xn--bcher-kva.example"}, nil},
		{"https://a.example.com,https://A.example.com/,https://b.example.com", []string{"https://a.example.com", "https://b.example.com"}, nil},
		{"https://app.example.com,", []string{"https://app.example.com"}, nil},
		{"*", nil, []string{EnvVar, "entry 1", `"*"`, "wildcard", "credentials"}},
		{"https://*.example.com", nil, []string{"wildcard"}},
		{"https://app.example.com,*", nil, []string{"entry 2", "wildcard"}},
		{"https://app.example.com/dashboard", nil, []string{"entry 1", "no path", "use https://app.example.com"}},
		{"https://app.example.com/?x=1", nil, []string{"no path, query"}},
		{"https://app.example.com?", nil, []string{"no path, query"}},
		{"https://app.example.com#top", nil, []string{"fragment"}},
		{"app.example.com", nil, []string{"missing scheme", "https://app.example.com"}},
		{"//app.example.com", nil, []string{"missing scheme"}},
		{"ftp://app.example.com", nil, []string{`scheme "ftp"`}},
		{"chrome-extension://abcdef", nil, []string{"scheme"}},
		{"null", nil, []string{`"null"`}},
		{"https://user:pw@app.example.com", nil, []string{"user name"}},
		{"https://", nil, []string{"missing host"}},
		{"https://app.example.com:0", nil, []string{"port"}},
		{"https://app.example.com:99999", nil, []string{"port"}},
		{"https://app.example.com:", nil, []string{"empty port"}},
		{"https://app.example.com:abc", nil, []string{"entry 1"}},
		{"https://bücher.example", nil, []string{"punycode"}},
		{"https://app..example.com", nil, []string{"empty label"}},
		{"https://app.example.com.", nil, []string{"empty label"}},
		{"https://app example.com", nil, []string{"entry 1"}},
		{"http://[fe80::1%25eth0]:3000", nil, []string{"IPv6"}},
		{"http://[1.2.3.4]", nil, []string{"not a URL"}},
		{"bad, https://ok.example.com, ftp://x", nil, []string{"entry 1", "entry 3"}}, // every problem at once
	}
	for _, tc := range tests {
		got, err := ParseOrigins(tc.in)
		if tc.wantErr == nil {
			if err != nil {
				t.Errorf("ParseOrigins(%q): %v", tc.in, err)
			} else if !slices.Equal(got, tc.want) {
				t.Errorf("ParseOrigins(%q) = %q, want %q", tc.in, got, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseOrigins(%q) = %q, want an error", tc.in, got)
			continue
		}
		for _, want := range tc.wantErr {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseOrigins(%q) error %q lacks %q", tc.in, err, want)
			}
		}
	}
}

func TestSelfOriginFromPublicURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://api.example.com":           "https://api.example.com",
		"https://api.example.com/truss/":    "https://api.example.com",
		"https://API.example.com:443/x?y#z": "https://api.example.com",
		"http://localhost:8787":             "http://localhost:8787",
		"http://[::1]:8787/api":             "http://[::1]:8787",
	} {
		if got, err := normalize(in, true); err != nil || got != want {
			t.Errorf("normalize(%q, allowPath) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func FuzzParseOrigins(f *testing.F) {
	for _, s := range []string{"", "https://app.example.com", "https://app.example.com/, http://localhost:5173",
		"*", "https://*.x", "null", "http://[::1]:3000", "https://a.b:443", "ftp://x", "https://app.example.com/dash",
		"HTTPS://APP.EXAMPLE.COM:0443", "http://[::ffff:1.2.3.4]", "https://%41.example", "https://a.b:+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseOrigins(s)
		if err != nil {
			if !strings.Contains(err.Error(), EnvVar) {
				t.Fatalf("error does not name %s: %v", EnvVar, err)
			}
			return
		}
		for _, o := range got {
			if strings.ContainsAny(o, "*,; \t\r\n") || strings.HasSuffix(o, "/") || o != strings.ToLower(o) {
				t.Fatalf("ParseOrigins(%q) produced non-canonical origin %q", s, o)
			}
			if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				t.Fatalf("ParseOrigins(%q) produced %q without http(s) scheme", s, o)
			}
			if strings.Contains(strings.SplitN(o, "://", 2)[1], "/") {
				t.Fatalf("ParseOrigins(%q) produced %q with a path", s, o)
			}
			if strings.HasSuffix(o, ":443") && strings.HasPrefix(o, "https:") || strings.HasSuffix(o, ":80") && strings.HasPrefix(o, "http:") {
				t.Fatalf("ParseOrigins(%q) kept the default port: %q", s, o)
			}
		}
		// Canonical output parses back to itself.
		again, err := ParseOrigins(strings.Join(got, ","))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("ParseOrigins(%q) = %q, but parsing that again gives %q, %v", s, got, again, err)
		}
	})
}
