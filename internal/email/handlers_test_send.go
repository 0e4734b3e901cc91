package email

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
)

// TestRequest is the body of POST /api/settings/smtp/test; every field is
// optional (to defaults to the admin's own address).
type TestRequest struct {
	To string `json:"to"`
}

// TestResult is the answer of a successful test. A failed one is the API
// error smtp_test_failed with the same steps in its details.
type TestResult struct {
	OK         bool     `json:"ok"`
	To         string   `json:"to"`
	Server     string   `json:"server"`
	Source     string   `json:"source"`
	TLSMode    string   `json:"tls_mode"`
	Reply      string   `json:"reply"`
	DurationMS float64  `json:"duration_ms"`
	Steps      []Step   `json:"steps"`
	Transcript []string `json:"transcript,omitempty"`
}

// CodeTestFailed is the error code of a failed SMTP test.
const CodeTestFailed = "smtp_test_failed"

// TestSettings answers POST /api/settings/smtp/test (admins): it sends a
// test message right now (not through the outbox) with the settings in
// effect and reports every step: DNS, TCP connect time, TLS mode
// negotiated, AUTH result and the server's reply.
func (s *Service) TestSettings(w http.ResponseWriter, r *http.Request) error {
	var req TestRequest
	if r.ContentLength != 0 {
		if err := httpjson.Decode(r, &req); err != nil {
			return err
		}
	}
	p, _ := auth.FromContext(r.Context())
	if req.To == "" && p != nil {
		req.To = p.Email
	}
	if req.To == "" {
		return httpjson.Invalid("No recipient: give \"to\" (your account has no email address).", map[string][]string{"to": {"is required"}})
	}
	requestedBy := ""
	if p != nil {
		requestedBy = p.Email
	}
	res, err := s.Diagnose(r.Context(), req.To, requestedBy)
	details := map[string]any{"to": req.To, "server": res.Server, "source": res.Source}
	if err == nil || apierror.As(err).Code == CodeTestFailed { // the test ran
		s.audit(r, "smtp_test", err == nil, details)
	}
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, res)
}

// Diagnose sends a test message to `to` right now, with the settings in
// effect, and reports every step. It is what POST /api/settings/smtp/test
// runs; a failure is the API error smtp_test_failed (502) whose details
// hold the steps, the failed step, the server's reply and the transcript,
// and whose hint says what to change.
func (s *Service) Diagnose(ctx context.Context, to, requestedBy string) (TestResult, error) {
	addr, aerr := ParseRecipient("to", to)
	if aerr != nil {
		return TestResult{}, aerr
	}
	st, err := s.freshSettings(ctx)
	if err != nil {
		return TestResult{}, err
	}
	if !st.Enabled() {
		return TestResult{}, ErrDisabled
	}
	return s.sendTest(ctx, st, addr, requestedBy)
}

// sendTest runs one traced session and sends the test message over it.
func (s *Service) sendTest(ctx context.Context, st Settings, addr *mail.Address, requestedBy string) (TestResult, error) {
	start := time.Now()
	tr := &trace{}
	to := addr.Address
	res := TestResult{To: to, Server: st.Addr(), Source: st.Source, TLSMode: st.policy().String()}
	fail := func(err error) (TestResult, error) {
		res.Steps, res.Transcript = tr.Steps(), tr.Transcript()
		details := map[string]any{"to": to, "server": st.Addr(), "source": st.Source, "tls_mode": res.TLSMode,
			"steps": res.Steps, "transcript": res.Transcript}
		var se *SessionError
		msg := fmt.Sprintf("The test message could not be sent through %s: %v", st.Addr(), err)
		e := apierror.New(http.StatusBadGateway, CodeTestFailed, msg)
		if errors.As(err, &se) {
			details["failed_step"], details["reply"], details["timeout"] = se.Step, se.Reply(), se.Timeout
			e = e.WithHint(se.Hint)
		}
		return res, e.WithDetails(details)
	}
	ss, err := s.dial(ctx, st, tr, false)
	if err != nil {
		return fail(err)
	}
	defer ss.close()
	res.TLSMode = ss.tlsDesc
	rendered, err := s.Render(to, smtpTest{Server: st.Addr(), TLSMode: ss.tlsDesc, At: time.Now(), RequestedBy: requestedBy})
	if err != nil {
		return res, err
	}
	msg, err := compose(st, outboxRow{to: addr.Address, toName: addr.Name, subject: rendered.Subject, text: rendered.Text,
		html: rendered.HTML, messageID: s.newMessageID(st)})
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	reply, err := ss.send(msg)
	if err != nil {
		tr.add("send", t0, "", err)
		return fail(err)
	}
	tr.add("send", t0, reply, nil)
	res.OK, res.Reply = true, reply
	res.Steps, res.Transcript = tr.Steps(), tr.Transcript()
	res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}
