package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// session is one open, greeted, secured and authenticated SMTP connection.
// The outbox worker reuses it for consecutive messages.
type session struct {
	client  *smtp.Client
	st      Settings
	key     string
	tlsDesc string
	sent    int
}

// maxPerSession bounds how many messages one connection carries (servers
// commonly cap it around 100).
const maxPerSession = 90

// dial opens a session with st: DNS, TCP, TLS (implicit or STARTTLS per
// the mode), EHLO and AUTH, all within SMTP_TIMEOUT, recording each step
// in tr. greetingOnly stops after the server's greeting (health probe).
func (s *Service) dial(ctx context.Context, st Settings, tr *trace, greetingOnly bool) (*session, error) {
	deadline := time.Now().Add(st.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d // a health probe's shorter budget
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	fail := func(step string, start time.Time, err error) (*session, error) {
		se := sessionError(step, st, err)
		tr.add(step, start, se.Reply(), se)
		return nil, se
	}
	pol := st.policy()

	t0 := time.Now()
	var ips []string
	if ip := net.ParseIP(st.Host); ip != nil {
		ips = []string{st.Host}
		tr.add("dns", t0, "an IP address: nothing to look up", nil)
	} else {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, st.Host)
		if err != nil {
			return fail("dns", t0, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP.String())
		}
		tr.add("dns", t0, st.Host+" → "+strings.Join(ips, ", "), nil)
	}

	t0 = time.Now()
	var conn net.Conn
	var err error
	var d net.Dialer
	for _, ip := range ips {
		if conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(st.Port))); err == nil {
			break
		}
	}
	if err != nil {
		return fail("connect", t0, err)
	}
	tr.add("connect", t0, fmt.Sprintf("TCP connection to %s", conn.RemoteAddr()), nil)
	_ = conn.SetDeadline(deadline)
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()

	tlsDesc := "none"
	if pol == policyImplicit {
		t0 = time.Now()
		tc := tls.Client(conn, s.tlsConfig(st.Host))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("tls", t0, err)
		}
		conn = tc
		tlsDesc = "implicit TLS, " + describeTLS(tc.ConnectionState())
		tr.add("tls", t0, tlsDesc, nil)
	}

	t0 = time.Now()
	client, err := smtp.NewClient(conn, st.Host)
	if err != nil {
		return fail("greeting", t0, err)
	}
	tr.add("greeting", t0, "the server greeted (220)", nil)
	if greetingOnly {
		ok = true
		_ = client.Quit()
		return nil, nil
	}
	if tr != nil {
		client.SetLogger(traceLogger{tr})
		client.SetDebugLog(true)
	}

	t0 = time.Now()
	if err := client.Hello(localName()); err != nil {
		return fail("ehlo", t0, err)
	}
	tr.add("ehlo", t0, ehloSummary(client), nil)

	switch pol {
	case policyStartTLSRequired, policyStartTLSOpportunistic:
		t0 = time.Now()
		if offered, _ := client.Extension("STARTTLS"); !offered {
			if pol == policyStartTLSRequired {
				return fail("starttls", t0, fmt.Errorf("the server does not offer STARTTLS, which %s requires", modeSource(st)))
			}
			tr.add("starttls", t0, fmt.Sprintf("not offered by the server: continuing without encryption (port %d: STARTTLS only if offered)", st.Port), nil)
			break
		}
		if err := client.StartTLS(s.tlsConfig(st.Host)); err != nil {
			return fail("starttls", t0, err)
		}
		if cs, ok := client.TLSConnectionState(); ok {
			tlsDesc = "STARTTLS, " + describeTLS(cs)
		}
		tr.add("starttls", t0, tlsDesc, nil)
	case policyNone:
		tr.add("starttls", time.Now(), "skipped: SMTP_TLS=none (no encryption)", nil)
	}

	t0 = time.Now()
	if st.User == "" {
		tr.add("auth", t0, "skipped: no user name configured", nil)
	} else {
		if st.passErr != nil {
			return fail("auth", t0, st.passErr)
		}
		_, encrypted := client.TLSConnectionState()
		a, mech, err := chooseAuth(client, st, encrypted || pol == policyNone || isLoopback(st.Host))
		if err != nil {
			return fail("auth", t0, err)
		}
		if err := client.Auth(a); err != nil {
			return fail("auth", t0, err)
		}
		tr.add("auth", t0, fmt.Sprintf("%s as %q accepted", mech, st.User), nil)
	}
	ok = true
	return &session{client: client, st: st, key: st.key(), tlsDesc: tlsDesc}, nil
}

// chooseAuth picks the mechanism: PLAIN or LOGIN only over TLS (or when
// the operator said none, or on loopback), else a challenge-response one.
func chooseAuth(c *smtp.Client, st Settings, plainOK bool) (smtp.Auth, string, error) {
	has, params := c.Extension("AUTH")
	if !has {
		return nil, "", errors.New("the server offers no AUTH; remove the user name if it needs no authentication")
	}
	offered := strings.Fields(strings.ToUpper(params))
	pick := func(m string) bool { return slicesContains(offered, m) }
	switch {
	case plainOK && pick("PLAIN"):
		return smtp.PlainAuth("", st.User, st.Pass, st.Host, true), "PLAIN", nil
	case plainOK && pick("LOGIN"):
		return smtp.LoginAuth(st.User, st.Pass, st.Host, true), "LOGIN", nil
	case pick("SCRAM-SHA-256"):
		return smtp.ScramSHA256Auth(st.User, st.Pass), "SCRAM-SHA-256", nil
	case pick("CRAM-MD5"):
		return smtp.CRAMMD5Auth(st.User, st.Pass), "CRAM-MD5", nil
	case pick("PLAIN") || pick("LOGIN"):
		return nil, "", errors.New("the server offers only PLAIN/LOGIN on an unencrypted connection; refusing to send the password " +
			"in clear text (use STARTTLS or implicit TLS, or set SMTP_TLS=none to accept the risk on a trusted network)")
	}
	return nil, "", fmt.Errorf("the server offers AUTH %s, none of which Truss supports (PLAIN, LOGIN, SCRAM-SHA-256, CRAM-MD5)", params)
}

func slicesContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// send transmits one message: MAIL FROM, RCPT TO, DATA. It returns the
// server's reply to the message ("250 2.0.0 Ok: queued as ...").
func (ss *session) send(m *gomail.Msg) (string, error) {
	_ = ss.client.UpdateDeadline(ss.st.Timeout)
	from, err := m.GetSender(false)
	if err != nil {
		return "", err
	}
	rcpts, err := m.GetRecipients()
	if err != nil {
		return "", err
	}
	if err := ss.client.Mail(from); err != nil {
		return "", sessionError("mail", ss.st, err)
	}
	for _, r := range rcpts {
		if err := ss.client.Rcpt(r); err != nil {
			_ = ss.client.Reset()
			return "", sessionError("rcpt", ss.st, err)
		}
	}
	w, err := ss.client.Data()
	if err != nil {
		return "", sessionError("data", ss.st, err)
	}
	if _, err := m.WriteTo(w); err != nil {
		_ = w.Close()
		return "", sessionError("data", ss.st, err)
	}
	if err := w.Close(); err != nil {
		return "", sessionError("data", ss.st, err)
	}
	ss.sent++
	reply := "250" // go-mail keeps the text of the reply, not its code
	if dc, ok := w.(*smtp.DataCloser); ok && dc.ServerResponse() != "" {
		reply += " " + dc.ServerResponse()
	}
	return reply, nil
}

func (ss *session) close() {
	if ss == nil {
		return
	}
	_ = ss.client.UpdateDeadline(time.Second)
	if err := ss.client.Quit(); err != nil {
		_ = ss.client.Close()
	}
}

func (s *Service) tlsConfig(host string) *tls.Config {
	c := &tls.Config{}
	if s.opts.TLSConfig != nil {
		c = s.opts.TLSConfig.Clone()
	}
	c.ServerName = host
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

func describeTLS(cs tls.ConnectionState) string {
	return fmt.Sprintf("%s, %s", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite))
}

func ehloSummary(c *smtp.Client) string {
	var ext []string
	for _, e := range []string{"STARTTLS", "AUTH", "SIZE", "8BITMIME", "SMTPUTF8", "PIPELINING", "ENHANCEDSTATUSCODES"} {
		if ok, params := c.Extension(e); ok {
			ext = append(ext, strings.TrimSpace(e+" "+params))
		}
	}
	detail := "250 " + c.HelloResponse()
	if len(ext) > 0 {
		detail += "; extensions: " + strings.Join(ext, ", ")
	}
	return detail
}

func modeSource(st Settings) string {
	if st.TLS == TLSStartTLS {
		return "SMTP_TLS=starttls"
	}
	return fmt.Sprintf("port %d with SMTP_TLS=auto", st.Port)
}

func localName() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, " \r\n") {
		return "localhost"
	}
	return h
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
