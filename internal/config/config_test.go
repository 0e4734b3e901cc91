package config

import (
	"strings"
	"testing"
	"time"
)

func lookup(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func valid() map[string]string {
	return map[string]string{"DATABASE_URL": "postgres://u:p@localhost:5432/truss"}
}

func TestDefaults(t *testing.T) {
	c, err := Load(lookup(valid()))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIPort != 8787 || c.Env != Development || c.SMTP.Port != 587 || c.OryTimeout != 5*time.Second {
		t.Errorf("defaults: port %d env %s smtp %d timeout %s", c.APIPort, c.Env, c.SMTP.Port, c.OryTimeout)
	}
	for name, got := range map[string]string{
		"KRATOS_PUBLIC_URL": c.KratosPublicURL.String(), "KRATOS_ADMIN_URL": c.KratosAdminURL.String(),
		"KETO_READ_URL": c.KetoReadURL.String(), "KETO_WRITE_URL": c.KetoWriteURL.String(),
		"HYDRA_PUBLIC_URL": c.HydraPublicURL.String(), "HYDRA_ADMIN_URL": c.HydraAdminURL.String(),
	} {
		if got != Default(name) {
			t.Errorf("%s = %s, want default %s", name, got, Default(name))
		}
	}
	if !c.HydraEnabled() {
		t.Error("hydra disabled by default")
	}
}

func TestEachInvalidValueIsReported(t *testing.T) {
	tests := []struct {
		name, value, wantExpected string
	}{
		{"API_PORT", "eighty", "integer from 1 to 65535"},
		{"API_PORT", "0", "integer from 1 to 65535"},
		{"API_PORT", "70000", "integer from 1 to 65535"},
		{"SMTP_PORT", "-1", "integer from 1 to 65535"},
		{"TRUSS_ENV", "prod", "one of development, production"},
		{"KRATOS_PUBLIC_URL", "localhost:4433", "absolute http:// or https:// URL"},
		{"KRATOS_ADMIN_URL", "", "absolute http:// or https:// URL"},
		{"KETO_READ_URL", "ftp://keto", "absolute http:// or https:// URL"},
		{"HYDRA_ADMIN_URL", "http://", "absolute http:// or https:// URL"},
		{"DATABASE_URL", "mysql://x", "postgres:// or postgresql:// URL"},
		{"DATABASE_URL", "", "PostgreSQL URL"},
		{"DATABASE_MAX_CONNS", "0", "integer from 1 to 1000"},
		{"ORY_TIMEOUT", "5", "positive duration"},
		{"ORY_TIMEOUT", "-1s", "positive duration"},
		{"LOG_LEVEL", "loud", "debug, info, warn, error"},
		{"LOG_FORMAT", "xml", "one of json, text"},
		{"SHUTDOWN_TIMEOUT", "soon", "positive duration"},
		{"SMTP_HOST", "smtp.example.com:587", "host name or IP address"},
		{"SMTP_HOST", "smtps://smtp.example.com", "host name or IP address"},
		{"SMTP_TLS", "ssl", "one of auto, starttls, tls, none"},
		{"SMTP_TIMEOUT", "10", "positive duration"},
		{"SMTP_FROM", "no-reply", "email address"},
		{"SMTP_FROM", "Truss <no-reply@example.com>\nBcc: x@example.com", "email address"},
		{"SMTP_SENDER_NAME", "Truss\nBcc: x@example.com", "one line"},
		{"TRUSS_SECRET_KEY", "too-short", "at least 32 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			env := valid()
			env[tc.name] = tc.value
			_, err := Load(lookup(env))
			es, ok := AsErrors(err)
			if !ok || len(es) != 1 {
				t.Fatalf("want exactly one error, got %v", err)
			}
			if es[0].Name != tc.name || !strings.Contains(es[0].Expected, tc.wantExpected) {
				t.Errorf("got %+v, want %s expecting %q", es[0], tc.name, tc.wantExpected)
			}
		})
	}
}

func TestUnsafeCombinationsAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"SameSite=None on http", map[string]string{"COOKIE_SAMESITE": "none"}, "COOKIE_SAMESITE"},
		{"no auth in production", map[string]string{"TRUSS_ENV": "production", "TRUSS_PUBLIC_URL": "https://x.example.com", "TRUSS_AUTH_REQUIRED": "false"}, "TRUSS_AUTH_REQUIRED"},
		{"http public URL in production", map[string]string{"TRUSS_ENV": "production", "TRUSS_PUBLIC_URL": "http://x.example.com"}, "TRUSS_PUBLIC_URL"},
		{"cookie domain with scheme", map[string]string{"CSRF_COOKIE_DOMAIN": "https://example.com"}, "CSRF_COOKIE_DOMAIN"},
		{"short bootstrap password", map[string]string{"TRUSS_BOOTSTRAP_ADMIN_PASSWORD": "short"}, "TRUSS_BOOTSTRAP_ADMIN_PASSWORD"},
		{"boolean typo", map[string]string{"TRUSS_INVITE_ONLY": "yes please"}, "TRUSS_INVITE_ONLY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := valid()
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := Load(lookup(env))
			es, ok := AsErrors(err)
			if !ok || len(es) != 1 || es[0].Name != tc.wantVar {
				t.Fatalf("want one error on %s, got %v", tc.wantVar, err)
			}
		})
	}
	env := valid()
	env["TRUSS_PUBLIC_URL"] = "https://api.example.com"
	env["COOKIE_SAMESITE"] = "none"
	c, err := Load(lookup(env))
	if err != nil || !c.Cookies.Secure {
		t.Fatalf("SameSite=None over https must load with Secure cookies: %v %+v", err, c.Cookies)
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	_, err := Load(lookup(map[string]string{"API_PORT": "x", "KRATOS_PUBLIC_URL": "nope", "TRUSS_ENV": "staging"}))
	es, ok := AsErrors(err)
	if !ok {
		t.Fatalf("want Errors, got %v", err)
	}
	names := map[string]bool{}
	for _, e := range es {
		names[e.Name] = true
	}
	for _, want := range []string{"API_PORT", "KRATOS_PUBLIC_URL", "TRUSS_ENV", "DATABASE_URL"} {
		if !names[want] {
			t.Errorf("%s not reported; got %v", want, err)
		}
	}
	if !strings.Contains(err.Error(), `API_PORT="x"`) {
		t.Errorf("message does not show the bad value: %s", err)
	}
}

func TestSecretsAreNotEchoed(t *testing.T) {
	env := valid()
	env["DATABASE_URL"] = "mysql://admin:hunter2@db/x"
	_, err := Load(lookup(env))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error must be reported without the password: %v", err)
	}
}

func TestSMTPSettings(t *testing.T) {
	env := valid()
	env["SMTP_FROM"] = "Acme Ops <ops@acme.example>"
	env["SMTP_USER"], env["SMTP_PASS"], env["SMTP_TLS"], env["SMTP_TIMEOUT"] = "apikey", "pw", "tls", "3s"
	c, err := Load(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	s := c.SMTP
	if s.From != "ops@acme.example" || s.SenderName != "Acme Ops" || s.User != "apikey" || s.Pass != "pw" || s.TLS != "tls" || s.Timeout != 3*time.Second {
		t.Errorf("SMTP: %+v", s)
	}
	delete(env, "SMTP_FROM")
	if c, _ = Load(lookup(env)); c.SMTP.From != "no-reply@localhost" || c.SMTP.SenderName != "Truss" || c.SecretKey != "" {
		t.Errorf("defaults: %+v", c.SMTP)
	}
	env["SMTP_PASS"], env["TRUSS_SECRET_KEY"], env["SMTP_TLS"] = "hunter2-smtp", "short-secret-key", "bogus"
	_, err = Load(lookup(env))
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "short-secret-key") {
		t.Errorf("secrets echoed or no error: %v", err)
	}
}

func TestEmptyHydraAdminURLDisablesOAuth2(t *testing.T) {
	env := valid()
	env["HYDRA_ADMIN_URL"] = ""
	c, err := Load(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.HydraEnabled() || c.HydraPublicURL != nil {
		t.Errorf("HYDRA_ADMIN_URL empty must disable hydra entirely: %+v %+v", c.HydraAdminURL, c.HydraPublicURL)
	}
}

func TestTrailingSlashIsTrimmed(t *testing.T) {
	env := valid()
	env["KRATOS_PUBLIC_URL"] = "https://auth.example.com/"
	c, err := Load(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.KratosPublicURL.String(); got != "https://auth.example.com" {
		t.Errorf("got %s", got)
	}
}

func TestEveryVariableHasDescription(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Variables {
		if v.Description == "" || seen[v.Name] {
			t.Errorf("%s: empty description or duplicate", v.Name)
		}
		seen[v.Name] = true
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("8787", "http://localhost:4433", "5s", "postgres://x@y/z")
	f.Add("", "", "", "")
	f.Add("99999", "::::", "-5h", "postgres://%zz")
	f.Fuzz(func(t *testing.T, port, url, timeout, dsn string) {
		c, err := Load(lookup(map[string]string{"API_PORT": port, "KRATOS_PUBLIC_URL": url, "ORY_TIMEOUT": timeout, "DATABASE_URL": dsn}))
		if err == nil && (c.APIPort < 1 || c.APIPort > 65535 || c.OryTimeout <= 0 || c.KratosPublicURL == nil) {
			t.Fatalf("accepted invalid config: %+v", c)
		}
		if err != nil {
			if _, ok := AsErrors(err); !ok {
				t.Fatalf("error is not Errors: %v", err)
			}
		}
	})
}
