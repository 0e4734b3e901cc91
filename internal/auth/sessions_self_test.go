package auth_test

import (
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

type mySessions struct {
	Sessions []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
		Active  bool   `json:"active"`
		AAL     string `json:"aal"`
		Devices []struct {
			UserAgent string `json:"user_agent"`
		} `json:"devices"`
	} `json:"sessions"`
}

// TestMySessions: a user signed in from three browsers lists its sessions
// (this one first, marked current), signs out one other session, cannot
// touch another user's session nor its own current one here, then signs out
// all the others; the revoked browsers are signed out at once (same
// instance: the session cache forgets them).
func TestMySessions(t *testing.T) {
	t.Parallel()
	srv, _ := testenv.Server(t, nil)
	email := uniqueEmail()
	signIn := func() (*testenv.Browser, principal) {
		t.Helper()
		b := testenv.NewBrowser(t, srv.URL)
		b.Do("GET", "/api/auth/login", nil, nil)
		var p principal
		if resp := b.Do("POST", "/api/auth/login", map[string]any{"email": email, "password": password}, &p); resp.StatusCode != 200 {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		return b, p
	}
	a := testenv.NewBrowser(t, srv.URL)
	a.Do("GET", "/api/auth/login", nil, nil)
	if resp := a.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	b, _ := signIn()
	c, _ := signIn()
	sessionID := func(br *testenv.Browser) string {
		t.Helper()
		var s struct {
			SessionID string `json:"session_id"`
		}
		if resp := br.Do("GET", "/api/auth/session", nil, &s); resp.StatusCode != 200 {
			t.Fatalf("session: %d", resp.StatusCode)
		}
		return s.SessionID
	}
	sa, sb, sc := sessionID(a), sessionID(b), sessionID(c)

	var list mySessions
	if resp := a.Do("GET", "/api/auth/sessions", nil, &list); resp.StatusCode != 200 {
		t.Fatalf("list: %d", resp.StatusCode)
	}
	ids := map[string]bool{}
	for _, s := range list.Sessions {
		ids[s.ID] = s.Current
		if !s.Active {
			t.Errorf("inactive session listed: %+v", s)
		}
	}
	if len(list.Sessions) != 3 || list.Sessions[0].ID != sa || !list.Sessions[0].Current || ids[sb] || ids[sc] {
		t.Fatalf("sessions = %+v, want %s (current) first, then %s and %s", list.Sessions, sa, sb, sc)
	}
	if _, ok := ids[sb]; !ok {
		t.Fatalf("session %s missing from %+v", sb, list.Sessions)
	}

	// Another user can neither see nor revoke these sessions.
	other := testenv.NewBrowser(t, srv.URL)
	other.Do("GET", "/api/auth/login", nil, nil)
	if resp := other.Do("POST", "/api/auth/register", map[string]any{"email": uniqueEmail(), "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register other: %d", resp.StatusCode)
	}
	var ol mySessions
	other.Do("GET", "/api/auth/sessions", nil, &ol)
	for _, s := range ol.Sessions {
		if s.ID == sa || s.ID == sb || s.ID == sc {
			t.Fatalf("another user sees session %s", s.ID)
		}
	}
	var e apiError
	if resp := other.Do("DELETE", "/api/auth/sessions/"+sb, nil, &e); resp.StatusCode != 404 || e.Error.Code != "session_not_found" {
		t.Fatalf("other user revoking %s: %d %q", sb, resp.StatusCode, e.Error.Code)
	}
	if resp := b.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after another user's attempt, b is signed out: %d", resp.StatusCode)
	}

	// The current session is refused (logout does that), as are bad ids.
	e = apiError{}
	if resp := a.Do("DELETE", "/api/auth/sessions/"+sa, nil, &e); resp.StatusCode != 422 || e.Error.Details["fields"] == nil {
		t.Fatalf("revoking the current session: %d %+v", resp.StatusCode, e.Error)
	}
	if resp := a.Do("DELETE", "/api/auth/sessions/not-a-uuid", nil, nil); resp.StatusCode != 422 {
		t.Fatalf("bad id: %d", resp.StatusCode)
	}

	// One other session.
	if resp := a.Do("DELETE", "/api/auth/sessions/"+sb, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("revoke %s: %d", sb, resp.StatusCode)
	}
	if resp := b.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("the revoked browser still has a session: %d", resp.StatusCode)
	}
	list = mySessions{}
	a.Do("GET", "/api/auth/sessions", nil, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("after revoking one: %+v", list.Sessions)
	}

	// All others.
	var n struct {
		Revoked int `json:"revoked"`
	}
	if resp := a.Do("DELETE", "/api/auth/sessions", nil, &n); resp.StatusCode != 200 || n.Revoked != 1 {
		t.Fatalf("revoke others: %d %+v", resp.StatusCode, n)
	}
	if resp := c.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("c still signed in: %d", resp.StatusCode)
	}
	if resp := a.Do("GET", "/api/auth/session", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("the current session was revoked too: %d", resp.StatusCode)
	}
	list = mySessions{}
	a.Do("GET", "/api/auth/sessions", nil, &list)
	if len(list.Sessions) != 1 || !list.Sessions[0].Current {
		t.Fatalf("after revoking all others: %+v", list.Sessions)
	}

	// Signed out: 401.
	anon := testenv.NewBrowser(t, srv.URL)
	if resp := anon.Do("GET", "/api/auth/sessions", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("anonymous: %d", resp.StatusCode)
	}
}
