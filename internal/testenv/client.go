package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
)

// Browser is an HTTP client with a cookie jar that behaves like a
// same-origin dashboard: it sends cookies back and copies the truss_csrf
// cookie into X-CSRF-Token on state-changing requests.
type Browser struct {
	T      testing.TB
	Base   string
	Client *http.Client
}

// NewBrowser returns a Browser for the server at base.
func NewBrowser(t testing.TB, base string) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{T: t, Base: base, Client: &http.Client{Jar: jar}}
}

// Do sends a request with an optional JSON body and decodes a JSON answer
// into out (when non-nil). It returns the response (body already read).
func (b *Browser) Do(method, path string, body, out any) *http.Response {
	b.T.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.Base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && method != http.MethodHead {
		if tok := b.Cookie("truss_csrf"); tok != "" {
			req.Header.Set("X-CSRF-Token", tok)
		}
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			b.T.Fatalf("%s %s: %d, body not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp
}

// Cookie returns the value the jar would send for name ("" if none).
func (b *Browser) Cookie(name string) string {
	u, _ := url.Parse(b.Base)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Password is a password Kratos accepts (long, not in breach lists), for
// accounts tests create.
const Password = "a perfectly long passphrase 9"

// APIError is the API's one error envelope as a client decodes it
// (internal/apierror writes it).
type APIError struct {
	Error struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Hint      string         `json:"hint"`
		RequestID string         `json:"request_id"`
		Details   map[string]any `json:"details"`
	} `json:"error"`
}
