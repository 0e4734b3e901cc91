package csrf

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestCookieValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"no header", nil, nil},
		{"one", []string{"truss_csrf=abc"}, []string{"abc"}},
		{"among others", []string{"a=1; truss_csrf=abc; b=2"}, []string{"abc"}},
		{"duplicates in order", []string{"truss_csrf=one; x=y; truss_csrf=two"}, []string{"one", "two"}},
		{"across lines", []string{"truss_csrf=one", "truss_csrf=two; truss_csrf=three"}, []string{"one", "two", "three"}},
		{"spaces and tabs", []string{" truss_csrf = abc ;\ttruss_csrf\t=\tdef\t"}, []string{"abc", "def"}},
		{"no space after semicolon", []string{"a=1;truss_csrf=abc"}, []string{"abc"}},
		{"quoted", []string{`truss_csrf="abc"`}, []string{"abc"}},
		{"lone quote kept", []string{`truss_csrf="abc`}, []string{`"abc`}},
		{"empty value skipped", []string{"truss_csrf=; truss_csrf=abc; truss_csrf=\"\""}, []string{"abc"}},
		{"no equals sign", []string{"truss_csrf; truss_csrf=abc"}, []string{"abc"}},
		{"value containing =", []string{"truss_csrf=a=b"}, []string{"a=b"}},
		{"similar names", []string{"truss_csrf_x=1; xtruss_csrf=2; Truss_csrf=3"}, nil},
		{"malformed neighbour does not hide", []string{`bad"name=1; ;;; =x; truss_csrf=abc`}, []string{"abc"}},
		{"invalid bytes kept for the caller to validate", []string{"truss_csrf=a b\x01c"}, []string{"a b\x01c"}},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("GET", "/", nil)
		for _, l := range tc.lines {
			req.Header.Add("Cookie", l)
		}
		if got := CookieValues(req, CookieName); !slices.Equal(got, tc.want) {
			t.Errorf("%s: CookieValues(%q) = %q, want %q", tc.name, tc.lines, got, tc.want)
		}
	}
}

func TestWellFormed(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		tokA: true, tokB: true, newToken(): true,
		"": false, tokA[:42]: false, tokA + "A": false, tokA[:42] + "=": false, tokA[:42] + "+": false,
		tokA[:42] + "/": false, tokA[:42] + " ": false, tokA[:41] + "é": false,
	} {
		if got := wellFormed(s); got != want {
			t.Errorf("wellFormed(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzCookieValues checks the lenient parser against net/http's strict one:
// every well-formed token net/http finds, in every arrangement of header
// lines, CookieValues finds too, in the same order; and what it returns is
// never empty and never spans a cookie separator.
func FuzzCookieValues(f *testing.F) {
	f.Add("truss_csrf="+tokA, "truss_csrf="+tokB)
	f.Add("a=1; truss_csrf=\""+tokA+"\"; b", "")
	f.Add(" truss_csrf = x ;truss_csrf=;truss_csrf=\"\"", "=;;=")
	f.Add("truss_csrf", "truss_csrf=a=b=c")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		req := &http.Request{Header: http.Header{"Cookie": {line1, line2}}}
		got := CookieValues(req, CookieName)
		for _, v := range got {
			if v == "" || strings.Contains(v, ";") {
				t.Fatalf("CookieValues returned %q", v)
			}
		}
		var strict []string
		for _, c := range req.CookiesNamed(CookieName) {
			if wellFormed(c.Value) {
				strict = append(strict, c.Value)
			}
		}
		var ours []string
		for _, v := range got {
			if wellFormed(v) {
				ours = append(ours, v)
			}
		}
		if !isSubsequence(strict, ours) {
			t.Fatalf("net/http finds tokens %q, CookieValues %q (lines %q, %q)", strict, ours, line1, line2)
		}
		// Round trip: a token appended as a cookie of its own is found last.
		req.Header["Cookie"] = []string{line1, line2, CookieName + "=" + tokC}
		if all := CookieValues(req, CookieName); len(all) == 0 || all[len(all)-1] != tokC {
			t.Fatalf("appended cookie not found last: %q", all)
		}
	})
}

func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

// FuzzWellFormed: whatever passes the format check is a 32-byte base64url
// token, so nothing else ever reaches the comparison.
func FuzzWellFormed(f *testing.F) {
	f.Add(tokA)
	f.Add(tokA[:42] + "=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if !wellFormed(s) {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("wellFormed(%q) but it decodes to %d bytes, %v", s, len(b), err)
		}
	})
}
