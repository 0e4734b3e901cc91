package demo

import (
	"fmt"
	"strings"
	"time"
)

// The demo tenant's example data: what the demo dashboard shows. It is static
// (the demo is read-only, so it never changes) and made up: no real account
// is ever listed. Times are relative to when the process started, so the
// demo always looks recent.

// Email is the demo identity's address (example.com never delivers mail).
const Email = "demo@example.com"

type seedUser struct {
	ID       string     `json:"id"`
	Email    string     `json:"email"`
	Name     string     `json:"name,omitempty"`
	State    string     `json:"state"`
	Verified bool       `json:"email_verified"`
	IsAdmin  bool       `json:"is_admin"`
	Created  *time.Time `json:"created_at,omitempty"`
	Updated  *time.Time `json:"updated_at,omitempty"`
}

type seedSession struct {
	ID              string          `json:"id"`
	IdentityID      string          `json:"identity_id"`
	Active          bool            `json:"active"`
	AAL             string          `json:"aal"`
	Methods         []string        `json:"methods"`
	AuthenticatedAt *time.Time      `json:"authenticated_at"`
	IssuedAt        *time.Time      `json:"issued_at"`
	ExpiresAt       *time.Time      `json:"expires_at"`
	Devices         []seedDeviceRow `json:"devices"`
}

type seedDeviceRow struct {
	IPAddress string `json:"ip_address"`
	UserAgent string `json:"user_agent"`
}

type seedLogin struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Action    string    `json:"action"`
	Success   bool      `json:"success"`
	Email     string    `json:"email,omitempty"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

type seedData struct {
	users    []seedUser
	sessions map[string][]seedSession
	logins   map[string][]seedLogin
}

func seed(now time.Time) seedData {
	at := func(d time.Duration) *time.Time { t := now.Add(-d).UTC().Truncate(time.Second); return &t }
	day := 24 * time.Hour
	people := []struct {
		email, name, state string
		verified, admin    bool
		age                time.Duration
	}{
		{Email, "Demo Admin", "active", true, true, 90 * day},
		{"ada@example.com", "Ada Lovelace", "active", true, false, 60 * day},
		{"grace@example.com", "Grace Hopper", "active", true, false, 45 * day},
		{"alan@example.com", "Alan Turing", "active", false, false, 30 * day},
		{"katherine@example.com", "Katherine Johnson", "active", true, true, 21 * day},
		{"edsger@example.com", "Edsger Dijkstra", "inactive", true, false, 14 * day},
		{"barbara@example.com", "Barbara Liskov", "active", true, false, 7 * day},
		{"linus@example.com", "", "active", false, false, 2 * day},
	}
	d := seedData{sessions: map[string][]seedSession{}, logins: map[string][]seedLogin{}}
	for i, p := range people {
		id := IdentityID
		if i > 0 {
			id = fmt.Sprintf("00000000-0000-4000-8000-0000000d%04d", i)
		}
		d.users = append(d.users, seedUser{ID: id, Email: p.email, Name: p.name, State: p.state, Verified: p.verified,
			IsAdmin: p.admin, Created: at(p.age), Updated: at(p.age / 2)})
		if p.state != "active" {
			continue
		}
		d.sessions[id] = []seedSession{{
			ID: fmt.Sprintf("00000000-0000-4000-9000-0000000d%04d", i), IdentityID: id, Active: true, AAL: "aal1",
			Methods: []string{"password"}, AuthenticatedAt: at(time.Duration(i+1) * time.Hour),
			IssuedAt: at(time.Duration(i+1) * time.Hour), ExpiresAt: at(-time.Duration(23-i) * time.Hour),
			Devices: []seedDeviceRow{{IPAddress: fmt.Sprintf("192.0.2.%d", 10+i), UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}},
		}}
		d.logins[id] = []seedLogin{
			{ID: int64(100 + 2*i), At: *at(time.Duration(i+1) * time.Hour), Action: "login", Success: true,
				Email: p.email, IP: fmt.Sprintf("192.0.2.%d", 10+i)},
			{ID: int64(101 + 2*i), At: *at(time.Duration(i+2) * time.Hour), Action: "login", Success: false,
				Email: p.email, IP: "198.51.100.7", Reason: "invalid_credentials"},
		}
	}
	return d
}

func (d seedData) find(id string) (seedUser, bool) {
	for _, u := range d.users {
		if u.ID == strings.ToLower(id) {
			return u, true
		}
	}
	return seedUser{}, false
}
