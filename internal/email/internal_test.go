package email

import (
	"bytes"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/config"
)

func TestSealerRoundTripAndKeyChange(t *testing.T) {
	s := newSealer(strings.Repeat("k", 40))
	sealed, err := s.seal([]byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) || sealed[0] != sealVersion {
		t.Fatalf("sealed %x", sealed)
	}
	again, _ := s.seal([]byte("hunter2"))
	if bytes.Equal(sealed, again) {
		t.Error("two seals of the same password are equal: nonce reused")
	}
	if got, err := s.open(sealed); err != nil || string(got) != "hunter2" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := newSealer(strings.Repeat("x", 40)).open(sealed); err != errUndecryptable {
		t.Errorf("another key opened it: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.open(sealed); err != errUndecryptable {
		t.Errorf("tampered value opened: %v", err)
	}
	var none *sealer
	if _, err := none.seal([]byte("x")); err != errNoSecretKey {
		t.Errorf("no key: %v", err)
	}
}

func TestPolicyFollowsPortAndMode(t *testing.T) {
	for _, tc := range []struct {
		port int
		mode string
		want policy
	}{
		{587, TLSAuto, policyStartTLSRequired}, {465, TLSAuto, policyImplicit}, {25, TLSAuto, policyStartTLSOpportunistic},
		{1025, TLSAuto, policyStartTLSOpportunistic}, {2525, TLSAuto, policyStartTLSOpportunistic},
		{2525, TLSStartTLS, policyStartTLSRequired}, {587, TLSImplicit, policyImplicit}, {587, TLSNone, policyNone},
	} {
		if got := (Settings{Port: tc.port, TLS: tc.mode}).policy(); got != tc.want {
			t.Errorf("port %d mode %s: %s, want %s", tc.port, tc.mode, got, tc.want)
		}
	}
}

func TestKratosCourierURI(t *testing.T) {
	for _, tc := range []struct {
		st   Settings
		want string
	}{
		{Settings{Host: "smtp.example.com", Port: 587, TLS: TLSAuto, User: "api key@x", Pass: "p"}, "smtp://api%20key%40x:PASSWORD@smtp.example.com:587/"},
		{Settings{Host: "smtp.example.com", Port: 465, TLS: TLSAuto}, "smtps://smtp.example.com:465/"},
		{Settings{Host: "127.0.0.1", Port: 1025, TLS: TLSAuto}, "smtp://127.0.0.1:1025/?disable_starttls=true"},
		{Settings{}, ""},
	} {
		got := KratosCourierURI(tc.st)
		if got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.st, got, tc.want)
		}
		if got != "" {
			if _, err := url.Parse(got); err != nil {
				t.Errorf("%s does not parse: %v", got, err)
			}
		}
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	s := &Service{opts: Options{}}
	s.opts.defaults()
	prev := time.Duration(0)
	for n := 1; n <= 40; n++ {
		d := s.backoff(n)
		base := min(s.opts.RetryBase<<min(n-1, 29), s.opts.RetryMax)
		if n > 20 {
			base = s.opts.RetryMax
		}
		if d < base*8/10 || d > base*12/10 {
			t.Fatalf("attempt %d: %s, want %s ±20%%", n, d, base)
		}
		if n <= 6 && d <= prev*6/10 {
			t.Errorf("attempt %d: %s does not grow from %s", n, d, prev)
		}
		prev = d
	}
}

func TestEveryTemplateRendersBothParts(t *testing.T) {
	ts := mustParseTemplates()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, tpl := range []Template{
		Invitation{OrganizationName: "Acme", InviterName: "Grace", InviterEmail: "grace@acme.test", Role: "admin",
			AcceptURL: "https://t.example/i/1", ExpiresAt: now},
		APIKeyCreated{KeyName: "deploy", KeyPrefix: "trs_12", Scope: "project web", CreatedBy: "grace@acme.test", CreatedAt: now,
			IP: "192.0.2.7", ManageURL: "https://t.example/keys"},
		APIKeyRevoked{KeyName: "deploy", RevokedBy: "grace@acme.test", RevokedAt: now, Reason: "leaked"},
		SignInAlert{Name: "Ada", At: now, IP: "192.0.2.7", UserAgent: "Firefox <script>", SecurityURL: "https://t.example/s"},
		smtpTest{Server: "smtp.example.com:587", TLSMode: "STARTTLS", At: now},
	} {
		r, err := ts.render(tpl, view{Brand: brand, PublicURL: "https://t.example", To: "ada@example.com"})
		if err != nil {
			t.Fatalf("%s: %v", tpl.kind(), err)
		}
		if r.Subject == "" || !strings.Contains(r.Text, "ada@example.com") || !strings.Contains(r.HTML, "<title>"+html.EscapeString(r.Subject)) {
			t.Errorf("%s: %+v", tpl.kind(), r)
		}
		if strings.Contains(r.Text, "<no value>") || strings.Contains(r.HTML, "<no value>") {
			t.Errorf("%s renders a missing value", tpl.kind())
		}
		if strings.Contains(r.HTML, "<script>") {
			t.Errorf("%s: HTML not escaped", tpl.kind())
		}
	}
}

func TestConfigDefaultsGiveSettings(t *testing.T) {
	cfg, err := config.Load(func(n string) (string, bool) {
		if n == "DATABASE_URL" {
			return "postgres://u:p@localhost/x", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	st := fromConfig(cfg.SMTP)
	if st.Port != 587 || st.policy() != policyStartTLSRequired || st.Timeout != 10*time.Second || st.From != "no-reply@localhost" ||
		st.SenderName != "Truss" || st.Source != "environment" {
		t.Errorf("defaults: %+v", st)
	}
}
