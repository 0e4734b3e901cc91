package doctor

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ProbeCookie is the cookie the echo endpoint sets for the proxy check.
const ProbeCookie = "truss_doctor_probe"

var proxyCheck = Check{
	ID:    "proxy.passthrough",
	Title: "The reverse proxy passes cookies, WebSocket upgrades and the original scheme",
	Symptom: "Login answers 200 but no session exists afterwards (the proxy strips or rewrites Set-Cookie), or Truss " +
		"builds http:// links and non-Secure cookies behind an https proxy.",
	Fix: "Make the proxy (Nginx, Caddy, Traefik) pass Set-Cookie unchanged, pass WebSocket upgrades and send " +
		"X-Forwarded-Proto, and list its address in TRUSS_TRUSTED_PROXIES.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		nonce := strings.ToLower(rand.Text()[:16])
		url := env.Cfg.PublicURL.String() + "/api/doctor/echo?nonce=" + nonce
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		client := *env.HTTP
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := client.Do(req)
		if err != nil {
			return []Result{c.resultFix(Warn, "could not reach "+url+": "+err.Error(),
				"Run truss doctor where TRUSS_PUBLIC_URL resolves (or check DNS/firewall); the proxy checks need Truss running behind it.")}
		}
		defer resp.Body.Close()
		var echo EchoReport
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&echo) != nil || echo.Service != "truss" {
			return []Result{c.resultFix(Fail, fmt.Sprintf("GET %s answered %s, not Truss's echo", url, resp.Status),
				"Point TRUSS_PUBLIC_URL at this Truss (through its proxy) and make the proxy forward /api/ to it.")}
		}
		var out []Result
		cc, wc, pc := c, c, c
		cc.ID, wc.ID, pc.ID = c.ID+".set_cookie", c.ID+".websocket", c.ID+".forwarded_proto"
		out = append(out, cookieVerdict(cc, resp, nonce), webSocketVerdict(ctx, wc, env))
		if env.Cfg.PublicURL.Scheme == "https" && !echo.HTTPS {
			out = append(out, pc.resultFix(Fail, fmt.Sprintf("TRUSS_PUBLIC_URL is https but the request reached Truss as plain http (X-Forwarded-Proto %q, peer trusted: %v)", echo.ForwardedProto, echo.TrustedPeer),
				"Make the proxy send X-Forwarded-Proto: https and add its address to TRUSS_TRUSTED_PROXIES."))
		}
		return out
	},
}

func cookieVerdict(c Check, resp *http.Response, nonce string) Result {
	for _, raw := range resp.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(raw, ProbeCookie+"=") {
			continue
		}
		ck, err := http.ParseSetCookie(raw)
		if err != nil || ck.Value != nonce || !ck.HttpOnly || ck.Path != "/api/doctor" || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" {
			return c.resultFix(Fail, "the proxy rewrote Set-Cookie: Truss sent `"+ProbeCookie+"="+nonce+"; Path=/api/doctor; HttpOnly; SameSite=Lax`, the client got `"+raw+"`",
				"Remove cookie rewriting from the proxy (e.g. Nginx proxy_cookie_path/proxy_cookie_domain, Traefik headers middleware).")
		}
		return c.result(OK, "Set-Cookie arrived unchanged through "+resp.Request.URL.Host)
	}
	return c.resultFix(Fail, "Truss sent a Set-Cookie header and the client received none: the proxy strips Set-Cookie",
		"Stop the proxy from removing Set-Cookie (e.g. Nginx proxy_hide_header Set-Cookie, a CDN caching rule).")
}

// EchoReport is the body of GET /api/doctor/echo: what the request looked
// like when it reached Truss.
type EchoReport struct {
	Service        string `json:"service"`
	Host           string `json:"host"`
	TLS            bool   `json:"tls"`
	ForwardedProto string `json:"forwarded_proto"`
	TrustedPeer    bool   `json:"trusted_peer"`
	HTTPS          bool   `json:"https"`
}
