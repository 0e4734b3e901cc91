package email

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/http"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/trussdev/truss/internal/apierror"
)

//go:embed templates
var templateFS embed.FS

// Template is the data of one of Truss's messages; its type picks the
// templates (templates/<kind>.subject.txt, .txt and .html).
type Template interface {
	kind() string
	validate() error
}

// Invitation invites someone to an organization.
type Invitation struct {
	OrganizationName string
	InviterName      string
	InviterEmail     string
	Role             string
	AcceptURL        string
	ExpiresAt        time.Time
}

// APIKeyCreated tells an account owner that an API key was created.
type APIKeyCreated struct {
	KeyName   string
	KeyPrefix string // the first characters, never the key
	Scope     string // organization or project, if any
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	IP        string
	ManageURL string
}

// APIKeyRevoked tells an account owner that an API key was revoked.
type APIKeyRevoked struct {
	KeyName   string
	KeyPrefix string
	RevokedBy string
	RevokedAt time.Time
	Reason    string
	ManageURL string
}

// SignInAlert tells an account owner about a sign-in from a new device or network.
type SignInAlert struct {
	Name        string
	At          time.Time
	IP          string
	UserAgent   string
	SecurityURL string
}

// smtpTest is the message of POST /api/settings/smtp/test.
type smtpTest struct {
	Server      string
	TLSMode     string
	At          time.Time
	RequestedBy string
}

func (Invitation) kind() string    { return "invitation" }
func (APIKeyCreated) kind() string { return "api_key_created" }
func (APIKeyRevoked) kind() string { return "api_key_revoked" }
func (SignInAlert) kind() string   { return "sign_in_alert" }
func (smtpTest) kind() string      { return "smtp_test" }

func (t Invitation) validate() error {
	return firstErr(required("OrganizationName", t.OrganizationName), required("InviterName", t.InviterName),
		absoluteURL("AcceptURL", t.AcceptURL, true))
}

func (t APIKeyCreated) validate() error {
	return firstErr(required("KeyName", t.KeyName), requiredTime("CreatedAt", t.CreatedAt), absoluteURL("ManageURL", t.ManageURL, false))
}

func (t APIKeyRevoked) validate() error {
	return firstErr(required("KeyName", t.KeyName), requiredTime("RevokedAt", t.RevokedAt), absoluteURL("ManageURL", t.ManageURL, false))
}

func (t SignInAlert) validate() error {
	return firstErr(requiredTime("At", t.At), absoluteURL("SecurityURL", t.SecurityURL, false))
}

func (t smtpTest) validate() error { return required("Server", t.Server) }

// Rendered is a message ready to queue.
type Rendered struct {
	Kind    string
	Subject string
	Text    string
	HTML    string
}

// view is what every template sees: the brand, the public URL, the
// recipient and the message's own data as .D.
type view struct {
	Brand     string
	PublicURL string
	To        string
	Subject   string
	D         any
}

type kindTemplates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

type templates struct {
	byKind map[string]kindTemplates
}

// funcs format times in the templates (UTC: the server cannot know the
// reader's zone) without reflective method chains, which cost more than the
// rest of a render.
var funcs = map[string]any{
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006 at 15:04 MST") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 January 2006 at 15:04:05 MST") },
	"set":      func(t time.Time) bool { return !t.IsZero() },
}

var kinds = []string{"invitation", "api_key_created", "api_key_revoked", "sign_in_alert", "smtp_test"}

// mustParseTemplates parses the embedded templates; they are part of the
// binary, so a parse error is a bug caught by every test.
func mustParseTemplates() *templates {
	t, err := parseTemplates()
	if err != nil {
		panic(err)
	}
	return t
}

func parseTemplates() (*templates, error) {
	read := func(name string) (string, error) {
		b, err := templateFS.ReadFile("templates/" + name)
		return string(b), err
	}
	layoutHTML, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	layoutText, err := read("layout.txt")
	if err != nil {
		return nil, err
	}
	out := &templates{byKind: map[string]kindTemplates{}}
	for _, k := range kinds {
		var kt kindTemplates
		subj, err := read(k + ".subject.txt")
		if err != nil {
			return nil, err
		}
		if kt.subject, err = texttemplate.New(k + ".subject").Funcs(funcs).Option("missingkey=error").Parse(strings.TrimSpace(subj)); err != nil {
			return nil, err
		}
		body, err := read(k + ".txt")
		if err != nil {
			return nil, err
		}
		if kt.text, err = texttemplate.New("layout").Funcs(funcs).Option("missingkey=error").Parse(layoutText); err != nil {
			return nil, err
		}
		if _, err = kt.text.Parse(body); err != nil {
			return nil, fmt.Errorf("%s.txt: %w", k, err)
		}
		body, err = read(k + ".html")
		if err != nil {
			return nil, err
		}
		if kt.html, err = htmltemplate.New("layout").Funcs(funcs).Option("missingkey=error").Parse(layoutHTML); err != nil {
			return nil, err
		}
		if _, err = kt.html.Parse(body); err != nil {
			return nil, fmt.Errorf("%s.html: %w", k, err)
		}
		out.byKind[k] = kt
	}
	return out, nil
}

// Render renders a message for `to`. Every part renders completely into
// memory first: a template that fails fails the call, and nothing is queued
// or sent half-made. Data that would break the subject line (CR/LF) is bad
// input (422), a template that fails to execute a server bug (500
// email_template_failed).
func (s *Service) Render(to string, t Template) (Rendered, error) {
	return s.templates.render(t, view{Brand: brand, PublicURL: strings.TrimRight(s.cfg.PublicURL.String(), "/"), To: to})
}

const brand = "Truss"

func (ts *templates) render(t Template, v view) (Rendered, error) {
	if t == nil {
		return Rendered{}, templateError("(none)", fmt.Errorf("no template data"))
	}
	k := t.kind()
	kt, ok := ts.byKind[k]
	if !ok {
		return Rendered{}, templateError(k, fmt.Errorf("no such template"))
	}
	if err := t.validate(); err != nil {
		return Rendered{}, templateError(k, err)
	}
	v.D = t
	var subj, text, html bytes.Buffer
	text.Grow(1 << 10)
	html.Grow(6 << 10) // the layout alone is 2 KiB
	if err := kt.subject.Execute(&subj, v); err != nil {
		return Rendered{}, templateError(k, err)
	}
	v.Subject = strings.TrimSpace(subj.String())
	if err := checkHeader("subject", v.Subject); err != nil {
		return Rendered{}, err
	}
	if err := kt.text.Execute(&text, v); err != nil {
		return Rendered{}, templateError(k, err)
	}
	if err := kt.html.Execute(&html, v); err != nil {
		return Rendered{}, templateError(k, err)
	}
	return Rendered{Kind: k, Subject: v.Subject, Text: text.String(), HTML: html.String()}, nil
}

// CodeTemplateFailed is the error code of a template that cannot render.
const CodeTemplateFailed = "email_template_failed"

func templateError(kind string, err error) *apierror.Error {
	e := apierror.New(http.StatusInternalServerError, CodeTemplateFailed,
		fmt.Sprintf("The email template %q cannot be rendered (%v); nothing was queued or sent.", kind, err))
	e.Cause = err
	return e
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s is required", field)
	}
	return nil
}

func requiredTime(field string, v time.Time) error {
	if v.IsZero() {
		return fmt.Errorf("%s is required", field)
	}
	return nil
}

func absoluteURL(field, v string, req bool) error {
	if v == "" {
		if req {
			return fmt.Errorf("%s is required", field)
		}
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s must be an absolute http(s) URL, not %q", field, v)
	}
	return nil
}
