package dashboardtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trussdev/truss/internal/testenv"
)

// TestOAuth2AuthorizationCodeInBrowser walks OpenID Connect's authorization
// code flow with PKCE in Chromium, through the dashboard: an application
// ("Notes", a public client created through the API) sends the browser to
// Hydra; Truss's login bridge sends it to the dashboard's sign-in page
// (return_to, login_hint), which signs in and resumes the flow; the consent
// screen shows the application and its scopes and is accepted; Hydra
// redirects to the application with a code, which the application
// exchanges with its PKCE verifier for tokens whose ID token names the
// user's email.
func TestOAuth2AuthorizationCodeInBrowser(t *testing.T) {
	// Hydra's urls.login/consent/logout (internal/devstack/templates/
	// hydra.yml.tmpl) point at the stack's TRUSS_PUBLIC_URL, on the API
	// port where the harness runs no server (SkipAPIPort): this test serves
	// Truss there. It is the only test that does, so it needs no lock.
	pub := strings.TrimRight(os.Getenv("TRUSS_PUBLIC_URL"), "/")
	pu, err := url.Parse(pub)
	if err != nil || pu.Port() == "" {
		t.Fatalf("TRUSS_PUBLIC_URL %q: want http://localhost:<port> from the stack", pub)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+pu.Port())
	if err != nil {
		t.Fatalf("serve Truss on the stack's TRUSS_PUBLIC_URL %s (Hydra's login and consent URLs point there): %v", pub, err)
	}
	st := serveTruss(t, ln, pub, map[string]string{"ORY_TIMEOUT": "20s"})

	// The application's redirect URI records what Hydra sends it.
	got := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><title>Notes</title><h1>Notes received an authorization response</h1>`)
	}))
	t.Cleanup(app.Close)
	redirectURI := app.URL + "/callback"

	// A signed-in user creates the client through the API.
	email := uniqueEmail("oauth")
	api := testenv.NewBrowser(t, st.base)
	api.Do("GET", "/api/auth/login", nil, nil)
	if resp := api.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": password}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	var c map[string]any
	if resp := api.Do("POST", "/api/hydra/clients", map[string]any{
		"client_name": "Notes", "redirect_uris": []string{redirectURI}, "grant_types": []string{"authorization_code", "refresh_token"},
		"response_types": []string{"code"}, "token_endpoint_auth_method": "none", "scope": "openid email profile offline_access",
	}, &c); resp.StatusCode != 201 {
		t.Fatalf("create client: %d %v", resp.StatusCode, c)
	}
	clientID, _ := c["client_id"].(string)

	// Hydra's public URL: the browser must use the issuer's host name
	// (localhost), on HYDRA_PUBLIC_URL's port, because Hydra's CSRF cookies
	// are set on the host of the authorization request and its redirects
	// come back on the issuer.
	hydra, err := url.Parse(os.Getenv("HYDRA_PUBLIC_URL"))
	if err != nil || hydra.Port() == "" {
		t.Fatalf("HYDRA_PUBLIC_URL %q", os.Getenv("HYDRA_PUBLIC_URL"))
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	if resp := api.Do("GET", "/api/hydra/discovery", nil, &disc); resp.StatusCode != 200 {
		t.Fatalf("discovery: %d", resp.StatusCode)
	}
	issuer, err := url.Parse(disc.Issuer)
	if err != nil || issuer.Port() != hydra.Port() {
		t.Fatalf("issuer %q is not on HYDRA_PUBLIC_URL's port %s", disc.Issuer, hydra.Port())
	}
	verifier := base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))
	sum := sha256.Sum256([]byte(verifier))
	state, nonce := rand.Text(), rand.Text()
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {"openid email"},
		"redirect_uri": {redirectURI}, "state": {state}, "nonce": {nonce}, "login_hint": {email},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	authURL := "http://" + issuer.Hostname() + ":" + hydra.Port() + "/oauth2/auth?" + q.Encode()

	b := newBrowser(t, st.base)

	// The open-redirect guard: a return_to anywhere but this server's login
	// bridge is ignored, and the page says so.
	b.open("/login?return_to=" + url.QueryEscape("https://evil.example/api/hydra/bridge/login?login_challenge=x"))
	b.do("return_to refused", waitSelector(`[data-testid=return-to-refused]`))
	b.screenshot("oauth2-return-to-refused")

	// The application starts the flow: Hydra → login bridge → sign-in page.
	b.do("open the authorization URL", chromedp.Navigate(authURL))
	b.waitAcrossPages(fmt.Sprintf(`location.href.startsWith(%s)`, jsString(pub+"/login?")))
	if u := b.url(); !strings.HasPrefix(u, pub+"/login?") || !strings.Contains(u, "return_to=") {
		t.Fatalf("the flow shows %s, want the dashboard's sign-in page with return_to", u)
	}
	b.waitText("Sign in to continue to Notes")
	var hinted string
	b.eval(`document.querySelector('input[name=email]').value`, &hinted)
	if hinted != email {
		t.Errorf("login_hint: the email field holds %q, want %q", hinted, email)
	}
	b.screenshot("oauth2-login")
	b.fill(`input[name=password]`, password)
	b.click("Sign in")

	// Back through the bridge to the consent screen.
	b.waitAcrossPages(fmt.Sprintf(`location.href.startsWith(%s)`, jsString(pub+"/oauth2/consent?consent_challenge=")))
	b.waitText("Authorize Notes")
	b.do("scopes", waitSelector(`[data-testid=consent-scopes] [data-scope=email]`))
	var scopes []string
	b.eval(`[...document.querySelectorAll('[data-scope]')].map(e => e.dataset.scope)`, &scopes)
	if !slices.Equal(scopes, []string{"openid", "email"}) {
		t.Errorf("consent screen shows scopes %v, want [openid email]", scopes)
	}
	if b.text(`[data-testid=who]`) != email {
		t.Errorf("signed in as %q, want %s", b.text(`[data-testid=who]`), email)
	}
	b.screenshot("oauth2-consent")
	b.click("Allow")

	// Hydra redirects to the application with the code.
	var cb url.Values
	select {
	case cb = <-got:
	case <-time.After(waitTimeout):
		b.fatal("wait for the redirect to the application", context.DeadlineExceeded)
	}
	b.waitAcrossPages(`document.body && document.body.innerText.includes('Notes received an authorization response')`)
	b.screenshot("oauth2-callback")
	if cb.Get("state") != state || cb.Get("code") == "" || cb.Get("error") != "" {
		t.Fatalf("callback %v: want a code and state %s", cb, state)
	}

	// The application exchanges the code with its PKCE verifier.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "code_verifier": {verifier}}
	resp, err := http.PostForm(strings.TrimRight(hydra.String(), "/")+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.IDToken == "" {
		t.Fatalf("token exchange: %d %v %+v", resp.StatusCode, err, tok)
	}
	// The ID token's payload (its signature is verified against Hydra's
	// JWKS in internal/oauth2's tests).
	parts := strings.Split(tok.IDToken, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token is not a JWS: %q", tok.IDToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("ID token payload: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
		Nonce string `json:"nonce"`
		Aud   any    `json:"aud"`
		Sub   string `json:"sub"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatalf("ID token payload %s: %v", raw, err)
	}
	if claims.Email != email || claims.Nonce != nonce || claims.Sub == "" {
		t.Fatalf("ID token claims %s: want email %s and nonce %s", raw, email, nonce)
	}
	t.Logf("ID token for %s (sub %s) issued to client %s", claims.Email, claims.Sub, clientID)
}

// waitAcrossPages polls js until it is truthy while the browser moves
// through full page loads (redirects between Hydra, the bridge and the
// dashboard destroy the page a poll runs in: it is started again).
func (b *browser) waitAcrossPages(js string) {
	b.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		err := chromedp.Do(ctx, poll(js))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.fatal("wait for "+js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
