package email

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// Message is a composed message, for callers that do not use one of
// Truss's templates.
type Message struct {
	To      string // "ada@example.com" or "Ada <ada@example.com>"
	Subject string
	Text    string // required: every message has a plain-text part
	HTML    string // optional alternative
	// Kind labels the message in the outbox ("raw" if empty).
	Kind string
}

const (
	maxSubject = 998 // RFC 5322 line length
	maxAddress = 320
	maxBody    = 512 << 10
)

// checkHeader rejects a header value that could inject headers or break
// the line: CR, LF and other control characters.
func checkHeader(field, v string) *apierror.Error {
	if strings.ContainsAny(v, "\r\n") {
		return invalid(field, "must not contain line breaks (CR or LF): they would inject mail headers")
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return invalid(field, "must not contain control characters")
		}
	}
	if !utf8.ValidString(v) {
		return invalid(field, "must be valid UTF-8")
	}
	return nil
}

func invalid(field, problem string) *apierror.Error {
	return httpjson.Invalid(fmt.Sprintf("The email's %s is invalid: it %s.", field, problem),
		map[string][]string{field: {problem}})
}

// ParseRecipient validates one recipient address before anything is queued:
// a single RFC 5322 address with a domain, no header injection.
func ParseRecipient(field, to string) (*mail.Address, *apierror.Error) {
	if err := checkHeader(field, to); err != nil {
		return nil, err
	}
	if strings.TrimSpace(to) == "" {
		return nil, invalid(field, "is required")
	}
	if len(to) > maxAddress {
		return nil, invalid(field, fmt.Sprintf("must be at most %d characters", maxAddress))
	}
	addr, err := mail.ParseAddress(to)
	if err != nil {
		return nil, invalid(field, "must be one email address such as ada@example.com")
	}
	local, domain, ok := strings.Cut(addr.Address, "@")
	if !ok || local == "" || domain == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.ContainsAny(addr.Address, " <>,;") {
		return nil, invalid(field, "must be one email address such as ada@example.com")
	}
	return addr, nil
}

// validate checks a composed message before it is queued.
func (m *Message) validate() (*mail.Address, *apierror.Error) {
	addr, err := ParseRecipient("to", m.To)
	if err != nil {
		return nil, err
	}
	if err := checkHeader("subject", m.Subject); err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(m.Subject) == "":
		return nil, invalid("subject", "is required")
	case len(m.Subject) > maxSubject:
		return nil, invalid("subject", fmt.Sprintf("must be at most %d bytes", maxSubject))
	case strings.TrimSpace(m.Text) == "":
		return nil, invalid("text", "is required (every message has a plain-text part)")
	case len(m.Text) > maxBody || len(m.HTML) > maxBody:
		return nil, invalid("text", fmt.Sprintf("and html must be at most %d bytes each", maxBody))
	case !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML):
		return nil, invalid("text", "and html must be valid UTF-8")
	}
	if m.Kind == "" {
		m.Kind = "raw"
	}
	if err := checkHeader("kind", m.Kind); err != nil {
		return nil, err
	}
	return addr, nil
}
