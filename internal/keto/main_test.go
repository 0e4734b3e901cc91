package keto_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const password = testenv.Password

// apiError is the API's error envelope.
type apiError testenv.APIError

// tenant is a signed-in account (every account is a tenant).
type tenant struct {
	*testenv.Browser
	ID string
}

func newTenant(t *testing.T, base string) *tenant {
	t.Helper()
	b := testenv.NewBrowser(t, base)
	b.Do("GET", "/api/auth/register", nil, nil)
	email := "k-" + strings.ToLower(rand.Text()[:10]) + "@example.com"
	var p struct {
		TenantID string `json:"tenant_id"`
	}
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	b.Do("GET", "/api/auth/session", nil, &p)
	if p.TenantID == "" {
		t.Fatal("no tenant id in the session")
	}
	return &tenant{Browser: b, ID: p.TenantID}
}

type tuple = map[string]any

// tup builds a tuple "namespace:object#relation@subject" in Keto's JSON;
// a subject with a ":" is a subject set "ns:obj" or "ns:obj#rel".
func tup(ns, obj, rel, subject string) tuple {
	t := tuple{"namespace": ns, "object": obj, "relation": rel}
	if nsObj, ok := strings.CutPrefix(subject, "set:"); ok {
		parts := strings.SplitN(nsObj, ":", 2)
		obj, rel, _ := strings.Cut(parts[1], "#")
		t["subject_set"] = tuple{"namespace": parts[0], "object": obj, "relation": rel}
	} else {
		t["subject_id"] = subject
	}
	return t
}

func (c *tenant) put(t *testing.T, tuples ...tuple) {
	t.Helper()
	for _, tp := range tuples {
		var e apiError
		if resp := c.Do("PUT", "/api/keto/relation-tuples", tp, &e); resp.StatusCode != 201 && resp.StatusCode != 200 {
			t.Fatalf("PUT %v: %d %+v", tp, resp.StatusCode, e.Error)
		}
	}
}

func (c *tenant) allowed(t *testing.T, tp tuple) bool {
	t.Helper()
	var res struct {
		Allowed *bool `json:"allowed"`
	}
	var raw json.RawMessage
	resp := c.Do("POST", "/api/keto/check", tp, &raw)
	_ = json.Unmarshal(raw, &res)
	if resp.StatusCode != 200 || res.Allowed == nil {
		t.Fatalf("check %v: %d %s", tp, resp.StatusCode, raw)
	}
	return *res.Allowed
}

type page struct {
	RelationTuples []tuple `json:"relation_tuples"`
	NextPageToken  string  `json:"next_page_token"`
}

// list follows next_page_token to the end.
func (c *tenant) list(t *testing.T, query url.Values) []tuple {
	t.Helper()
	var all []tuple
	for {
		var p page
		if resp := c.Do("GET", "/api/keto/relation-tuples?"+query.Encode(), nil, &p); resp.StatusCode != 200 {
			t.Fatalf("list %v: %d", query, resp.StatusCode)
		}
		all = append(all, p.RelationTuples...)
		if p.NextPageToken == "" {
			return all
		}
		query.Set("page_token", p.NextPageToken)
	}
}

// text sends a text/plain body (an OPL model).
func (c *tenant) text(method, path, body string, out any) *http.Response {
	c.T.Helper()
	req, _ := http.NewRequest(method, c.Base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-CSRF-Token", c.Cookie("truss_csrf"))
	resp, err := c.Client.Do(req)
	if err != nil {
		c.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.T.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp
}

// eventually polls cond (every 50 ms, at most 10 s) instead of sleeping.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ketoDirect calls Keto itself (not through Truss), to look at what is
// really stored.
func ketoDirect(t *testing.T, method, api, path string, body any, out any) int {
	t.Helper()
	base := os.Getenv("KETO_READ_URL")
	if api == "write" {
		base = os.Getenv("KETO_WRITE_URL")
	}
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}
