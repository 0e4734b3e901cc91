package auth_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

func TestLoginRateLimitPerIdentifier(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	b := testenv.NewBrowser(t, srv.URL)
	b.Do("GET", "/api/auth/login", nil, nil)
	target := uniqueEmail()
	for i := range 10 {
		if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": target, "password": "guess number " + strconv.Itoa(i)}, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	// The bucket refills one attempt every 6 s, so on a slow machine an
	// attempt or two may come back before the limit bites: it must within 5.
	var e apiError
	var resp *http.Response
	for i := range 5 {
		e = apiError{}
		resp = b.Do("POST", "/api/auth/login", map[string]any{"email": target, "password": "one more guess " + strconv.Itoa(i)}, &e)
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests || e.Error.Code != "rate_limited" {
		t.Fatalf("attempts 11-15: %d %q, want 429 rate_limited", resp.StatusCode, e.Error.Code)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %q, want 1..60 seconds", resp.Header.Get("Retry-After"))
	}
	// Another account from the same address is not locked out by this one.
	if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": uniqueEmail(), "password": "x password 1"}, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("other identifier: %d, want 401", resp.StatusCode)
	}
}
