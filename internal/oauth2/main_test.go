package oauth2_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const password = testenv.Password

// apiError is the API's error envelope.
type apiError testenv.APIError

// fields is the details.fields of an error.
func (e apiError) fields() map[string]any {
	f, _ := e.Error.Details["fields"].(map[string]any)
	return f
}

type principal struct {
	IdentityID string `json:"identity_id"`
	Email      string `json:"email"`
	TenantID   string `json:"tenant_id"`
	IsAdmin    bool   `json:"is_admin"`
}

func uniqueEmail() string { return "o-" + strings.ToLower(rand.Text()[:10]) + "@example.com" }

// stack is one Truss server on the shared stack, with what the OAuth2 tests
// need to reach it and Hydra.
type stack struct {
	t        *testing.T
	srv      *httptest.Server
	cfg      config.Config
	issuer   string // Hydra's issuer (http://localhost:<port>/)
	callback *httptest.Server
}

func newStack(t *testing.T, overrides map[string]string) *stack {
	t.Helper()
	// make test runs every package at once on one machine: a generous
	// timeout keeps a busy Hydra (bcrypt-hashing client secrets) from
	// failing requests that are only slow.
	o := map[string]string{"ORY_TIMEOUT": "20s"}
	for k, v := range overrides {
		o[k] = v
	}
	srv, cfg := testenv.Server(t, o)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "callback")
	}))
	t.Cleanup(cb.Close)
	s := &stack{t: t, srv: srv, cfg: cfg, callback: cb}
	if _, custom := overrides["HYDRA_PUBLIC_URL"]; !custom && cfg.HydraPublicURL != nil {
		var disc struct {
			Issuer string `json:"issuer"`
		}
		b := testenv.NewBrowser(t, srv.URL)
		if resp := b.Do("GET", "/api/hydra/discovery", nil, &disc); resp.StatusCode != 200 || disc.Issuer == "" {
			t.Fatalf("discovery: %d %+v", resp.StatusCode, disc)
		}
		s.issuer = disc.Issuer
	}
	return s
}

// redirectURI is a callback URL the tests register on clients.
func (s *stack) redirectURI() string { return s.callback.URL + "/callback" }

// user is a browser signed in to Truss.
type user struct {
	*testenv.Browser
	s     *stack
	p     principal
	email string
	// nav follows no redirects: the tests walk the OAuth2 flow hop by hop.
	nav *http.Client
}

// newUser registers an account (which signs it in).
func (s *stack) newUser() *user {
	s.t.Helper()
	b := testenv.NewBrowser(s.t, s.srv.URL)
	u := &user{Browser: b, s: s, email: uniqueEmail()}
	u.nav = &http.Client{Jar: b.Client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b.Do("GET", "/api/auth/login", nil, nil) // the CSRF cookie
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": u.email, "password": password}, &u.p); resp.StatusCode != 200 {
		s.t.Fatalf("register: %d", resp.StatusCode)
	}
	return u
}

// newAdmin registers an account, makes it a Truss admin and signs in again
// (a new session, so the admin flag is fresh).
func (s *stack) newAdmin() *user {
	s.t.Helper()
	u := s.newUser()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.cfg.DatabaseURL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO truss_internal.admins (identity_id) VALUES ($1)", u.p.IdentityID); err != nil {
		s.t.Fatal(err)
	}
	u.login()
	if !u.p.IsAdmin {
		s.t.Fatalf("%s is not an admin after promotion: %+v", u.email, u.p)
	}
	return u
}

func (u *user) login() {
	u.s.t.Helper()
	if resp := u.Do("POST", "/api/auth/login", map[string]any{"email": u.email, "password": password}, &u.p); resp.StatusCode != 200 {
		u.s.t.Fatalf("login %s: %d", u.email, resp.StatusCode)
	}
}

// expectError checks an error answer's status and code.
func (u *user) expectError(method, path string, body any, status int, code string) apiError {
	u.s.t.Helper()
	var e apiError
	resp := u.Do(method, path, body, &e)
	if resp.StatusCode != status || e.Error.Code != code {
		u.s.t.Fatalf("%s %s = %d %q (%s), want %d %q", method, path, resp.StatusCode, e.Error.Code, e.Error.Message, status, code)
	}
	return e
}

// client creates an OAuth2 client for this user's tenant.
func (u *user) client(body map[string]any) map[string]any {
	u.s.t.Helper()
	var c map[string]any
	if resp := u.Do("POST", "/api/hydra/clients", body, &c); resp.StatusCode != 201 {
		u.s.t.Fatalf("create client: %d %v", resp.StatusCode, c)
	}
	return c
}

// hop is one step of a browser navigation.
type hop struct {
	URL    *url.URL
	Status int
}

// navigate follows redirects from start like a browser, until a redirect
// leaves for stopPrefix (returned, not fetched) or a page answers without
// redirecting (its URL is returned). Truss's public URL (where Hydra sends
// the browser) is rewritten to this test's server.
func (u *user) navigate(start, stopPrefix string) (*url.URL, []hop) {
	t := u.s.t
	t.Helper()
	next := start
	var hops []hop
	for range 20 {
		target := u.s.rewrite(next)
		t0 := time.Now()
		resp, err := u.nav.Get(target)
		if d := time.Since(t0); d > 5*time.Second {
			t.Logf("slow hop (%s): GET %s", d, target)
		}
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cur, _ := url.Parse(target)
		hops = append(hops, hop{URL: cur, Status: resp.StatusCode})
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s\nhops: %v", target, resp.StatusCode, body, hops)
			}
			return cur, hops
		}
		loc, err := cur.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatalf("bad Location %q from %s", resp.Header.Get("Location"), target)
		}
		if stopPrefix != "" && strings.HasPrefix(loc.String(), stopPrefix) {
			return loc, hops
		}
		next = loc.String()
	}
	t.Fatalf("more than 20 redirects from %s: %v", start, hops)
	return nil, nil
}

// rewrite maps TRUSS_PUBLIC_URL (which Hydra's config names) to this
// test's server.
func (s *stack) rewrite(u string) string {
	pub := strings.TrimRight(s.cfg.PublicURL.String(), "/")
	if strings.HasPrefix(u, pub+"/") {
		return s.srv.URL + strings.TrimPrefix(u, pub)
	}
	return u
}

// pkce is a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authURL is an authorization request to Hydra.
func (s *stack) authURL(clientID, scope, state, nonce, challenge string, extra url.Values) string {
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {scope},
		"redirect_uri": {s.redirectURI()}, "state": {state}, "nonce": {nonce}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	for k, v := range extra {
		q[k] = v
	}
	return strings.TrimRight(s.issuer, "/") + "/oauth2/auth?" + q.Encode()
}

// tokenResponse is Hydra's token endpoint answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// token calls Hydra's token endpoint (basic auth when secret is set).
func (s *stack) token(clientID, secret string, form url.Values) (tokenResponse, int) {
	s.t.Helper()
	if secret == "" {
		form.Set("client_id", clientID)
	}
	req, _ := http.NewRequest("POST", strings.TrimRight(s.issuer, "/")+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	_ = json.NewDecoder(resp.Body).Decode(&tr)
	return tr, resp.StatusCode
}

// getJSON fetches a JSON document (optionally with a bearer token).
func getJSON(t *testing.T, u, bearer string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("GET %s: %d, not JSON: %s", u, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func jsonDecode(resp *http.Response, out any) error { return json.NewDecoder(resp.Body).Decode(out) }
