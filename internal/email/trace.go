package email

import (
	"fmt"
	"strings"
	"sync"
	"time"

	gmlog "github.com/wneessen/go-mail/log"
)

// Step is one stage of an SMTP session as POST /api/settings/smtp/test
// reports it: dns, connect, tls, greeting, ehlo, starttls, auth, send.
type Step struct {
	Name       string  `json:"step"`
	OK         bool    `json:"ok"`
	DurationMS float64 `json:"duration_ms"`
	Detail     string  `json:"detail,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// trace collects the steps of a session. A nil trace records nothing (the
// outbox worker's sessions).
type trace struct {
	mu         sync.Mutex
	steps      []Step
	transcript []string
}

func (t *trace) add(name string, start time.Time, detail string, err error) {
	if t == nil {
		return
	}
	st := Step{Name: name, OK: err == nil, Detail: detail,
		DurationMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		st.Error = err.Error()
	}
	t.mu.Lock()
	t.steps = append(t.steps, st)
	t.mu.Unlock()
}

// Steps returns the steps so far.
func (t *trace) Steps() []Step {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Step(nil), t.steps...)
}

// Transcript is the SMTP dialogue (AUTH data redacted by go-mail).
func (t *trace) Transcript() []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.transcript...)
}

const maxTranscript = 200

// logger receives go-mail's protocol log into the trace.
type traceLogger struct{ t *trace }

func (l traceLogger) line(entry gmlog.Log) {
	dir := "C: "
	if entry.Direction == gmlog.DirServerToClient {
		dir = "S: "
	}
	msg := strings.TrimRight(fmt.Sprintf(entry.Format, entry.Messages...), "\r\n")
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	if len(l.t.transcript) < maxTranscript {
		for _, ln := range strings.Split(msg, "\n") {
			l.t.transcript = append(l.t.transcript, dir+strings.TrimRight(ln, "\r"))
		}
	}
}

func (l traceLogger) Debugf(e gmlog.Log) { l.line(e) }
func (l traceLogger) Infof(e gmlog.Log)  { l.line(e) }
func (l traceLogger) Warnf(e gmlog.Log)  { l.line(e) }
func (l traceLogger) Errorf(e gmlog.Log) { l.line(e) }
