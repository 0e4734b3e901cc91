package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"strconv"
	"time"
)

var smtpCheck = Check{
	ID:    "smtp.reachable",
	Title: "The SMTP server accepts connections",
	Symptom: "Verification and recovery emails never arrive; sending fails with a connection timeout or " +
		"ECONNREFUSED, typically on port 465, which Hetzner, AWS Lightsail and GCP block.",
	Fix: "Use port 587 with STARTTLS: SMTP_PORT=587 and SMTP_HOST=smtp.your-provider.com.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		s := env.Cfg.SMTP
		if s.Host == "" {
			return []Result{c.result(Warn, "SMTP_HOST is empty: Truss sends no email")}
		}
		if _, err := net.DefaultResolver.LookupHost(ctx, s.Host); err != nil {
			return []Result{c.resultFix(Fail, "DNS: "+s.Host+" does not resolve: "+err.Error(), "Check SMTP_HOST.")}
		}
		ev, err := probeSMTP(ctx, s.Host, s.Port, 5*time.Second, s.User, s.Pass)
		if err == nil {
			return []Result{c.result(OK, ev)}
		}
		var ne net.Error
		if s.Port == 465 && errors.As(err, &ne) && ne.Timeout() {
			alt, altErr := probeSMTP(ctx, s.Host, 587, 5*time.Second, s.User, s.Pass)
			if altErr == nil {
				return []Result{c.resultFix(Fail, fmt.Sprintf("port 465 timed out (%v), port 587 works: %s", err, alt),
					"Your host blocks 465. Set SMTP_PORT=587 (STARTTLS): it is the standard port for mail submission.")}
			}
		}
		return []Result{c.resultFix(Fail, fmt.Sprintf("%s:%d: %v", s.Host, s.Port, err),
			"Check SMTP_HOST and SMTP_PORT; if port 465 times out, your host probably blocks it: use 587 with STARTTLS.")}
	},
}

// probeSMTP connects, reads the greeting, says EHLO, negotiates TLS the way
// Truss would (implicit on 465, STARTTLS when offered) and, when a user is
// configured, tries AUTH. It sends no mail.
func probeSMTP(ctx context.Context, host string, port int, timeout time.Duration, user, pass string) (string, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	d := net.Dialer{Timeout: timeout}
	start := time.Now()
	var conn net.Conn
	var err error
	if port == 465 {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	connect := time.Since(start).Round(10 * time.Microsecond)
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		return "", fmt.Errorf("connected in %s but got no SMTP greeting: %w", connect, err)
	}
	defer cl.Close()
	if err := cl.Hello("truss-doctor"); err != nil {
		return "", err
	}
	mode := "implicit TLS"
	if port != 465 {
		mode = "plain (no STARTTLS offered)"
		if ok, _ := cl.Extension("STARTTLS"); ok {
			if err := cl.StartTLS(&tls.Config{ServerName: host}); err != nil {
				return "", fmt.Errorf("STARTTLS failed: %w", err)
			}
			mode = "STARTTLS"
		}
	}
	authResult := "no SMTP_USER: AUTH not tried"
	if user != "" {
		if ok, _ := cl.Extension("AUTH"); !ok {
			return "", fmt.Errorf("SMTP_USER is set but %s offers no AUTH (after %s)", addr, mode)
		}
		if err := cl.Auth(smtp.PlainAuth("", user, pass, host)); err != nil {
			return "", fmt.Errorf("AUTH as %s refused: %w (check SMTP_USER and SMTP_PASS)", user, err)
		}
		authResult = "AUTH as " + user + " accepted"
	}
	_ = cl.Quit()
	return fmt.Sprintf("%s connected in %s, %s, %s", addr, connect, mode, authResult), nil
}
