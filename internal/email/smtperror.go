package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
)

// SessionError is a failed stage of an SMTP session, with what the server
// answered (if it answered) and what to do about it.
type SessionError struct {
	Step    string // dns, connect, tls, greeting, ehlo, starttls, auth, mail, rcpt, data
	Addr    string // host:port
	Err     error
	Code    int // the SMTP reply code, 0 when the server did not answer one
	Timeout bool
	Hint    string
}

func (e *SessionError) Error() string {
	return fmt.Sprintf("SMTP %s with %s failed: %v", e.Step, e.Addr, e.Err)
}

func (e *SessionError) Unwrap() error { return e.Err }

// Reply is the server's reply ("550 5.1.1 No such user"), or the error text
// when there was none.
func (e *SessionError) Reply() string {
	var tp *textproto.Error
	if errors.As(e.Err, &tp) {
		return fmt.Sprintf("%d %s", tp.Code, tp.Msg)
	}
	return e.Err.Error()
}

// permanent reports a 5xx reply to the message itself (RCPT TO, DATA):
// sending it again would fail again.
func (e *SessionError) permanent() bool {
	return e.Code >= 500 && (e.Step == "rcpt" || e.Step == "data")
}

// messageLevel reports a reply about this message (not the connection or
// the account): only those count towards MaxAttempts.
func (e *SessionError) messageLevel() bool {
	return e.Code != 0 && (e.Step == "rcpt" || e.Step == "data")
}

// Hint465 is the advice for a connection to the implicit-TLS port that
// times out: the port is very often blocked.
const Hint465 = "Many hosting providers (Hetzner, AWS Lightsail, GCP and others) block outgoing connections to port 465. " +
	"Port 587 with STARTTLS is the standard for mail submission (RFC 6409) and is almost never blocked: " +
	"set SMTP_PORT=587 and SMTP_TLS=auto (or starttls)."

func sessionError(step string, st Settings, err error) *SessionError {
	e := &SessionError{Step: step, Addr: st.Addr(), Err: err}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		e.Code = tp.Code
	}
	var ne net.Error
	e.Timeout = errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
	if e.Timeout {
		e.Err = fmt.Errorf("no answer within SMTP_TIMEOUT (%s): %w", st.Timeout, err)
	}
	e.Hint = hintFor(e, st)
	return e
}

func hintFor(e *SessionError, st Settings) string {
	pol := st.policy()
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case e.Step == "dns":
		return fmt.Sprintf("The host name %q does not resolve. Check SMTP_HOST (or the runtime settings) for typos and that this server's DNS works.", st.Host)
	case e.Timeout && (e.Step == "connect" || e.Step == "tls" || e.Step == "greeting") && (st.Port == 465 || pol == policyImplicit):
		return Hint465
	case e.Timeout && e.Step == "connect" && st.Port == 25:
		return "Most cloud and hosting providers block outgoing port 25. Use your mail provider's submission port 587 with STARTTLS (SMTP_PORT=587)."
	case e.Timeout && e.Step == "connect":
		return fmt.Sprintf("Nothing answered at %s. Check SMTP_HOST and SMTP_PORT, and that a firewall lets this server connect out to that port.", st.Addr())
	case e.Timeout && e.Step == "greeting":
		return fmt.Sprintf("%s accepted the connection but sent no SMTP greeting. If the server expects TLS from the first byte (usually port 465), set SMTP_TLS=tls; otherwise check the port.", st.Addr())
	case e.Timeout:
		return "The SMTP server stopped answering. Raise SMTP_TIMEOUT if it is merely slow, or check its status."
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		return fmt.Sprintf("Nothing listens on %s (connection refused). Check SMTP_HOST and SMTP_PORT.", st.Addr())
	case e.Step == "tls" && errors.As(e.Err, &recErr):
		return fmt.Sprintf("%s does not speak TLS from the first byte. Use SMTP_TLS=starttls (the usual mode of port 587) or auto.", st.Addr())
	case (e.Step == "tls" || e.Step == "starttls") && (errors.As(e.Err, &certErr) || errors.As(e.Err, &hostErr)):
		return fmt.Sprintf("The server's TLS certificate is not valid for %q or not trusted. Use the host name its certificate names (the provider's documented SMTP host), not an IP address or an alias.", st.Host)
	case e.Step == "starttls" && e.Code == 0 && strings.Contains(e.Err.Error(), "does not offer STARTTLS"):
		return "Port 587 and SMTP_TLS=starttls require STARTTLS. If the server expects TLS from the first byte (usually port 465), set SMTP_TLS=tls; for a local relay without TLS, SMTP_TLS=none."
	case e.Step == "auth" && e.Code >= 500:
		return "The server refused the user name or password (SMTP_USER / SMTP_PASS, or the runtime settings). Many providers require an app password or an API key as the password."
	case e.Step == "auth":
		return "Authentication could not be completed. Check the user name and password, and that the server offers AUTH on this port (many offer it only after STARTTLS)."
	case e.Step == "mail" && (e.Code == 530 || e.Code == 554 || e.Code == 550 || e.Code == 553):
		return "The server refused the sender address. Set SMTP_FROM to an address the SMTP account may send as, and SMTP_USER/SMTP_PASS if the server requires authentication."
	case e.Step == "rcpt" && e.Code >= 500:
		return "The server refused the recipient address permanently; the message will not be retried."
	}
	return ""
}
