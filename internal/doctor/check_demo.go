package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// demoCookie is internal/demo's cookie; its Path keeps it away from /api/.
const demoCookie, demoPath = "truss_demo", "/demo"

var demoCheck = Check{
	ID:    "demo.separation",
	Title: "The demo cookie stays under /demo/",
	Symptom: "After logging in you still see the demo dashboard or are sent to /demo/: a demo cookie reaches real " +
		"pages because something widened its scope.",
	Fix: "Make the reverse proxy keep Set-Cookie's Path and Domain unchanged, then clear the browser's cookies for " +
		"the Truss domain (DevTools > Application > Cookies: delete truss_demo, truss_session and any ory_kratos_session) " +
		"and open the dashboard URL itself, not /demo/.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		url := env.Cfg.PublicURL.String() + "/demo/api/auth/session"
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := env.HTTP.Do(req)
		if err != nil {
			return []Result{c.resultFix(Warn, "could not reach "+url+": "+err.Error(), "Run truss doctor where TRUSS_PUBLIC_URL resolves, with Truss running.")}
		}
		defer resp.Body.Close()
		for _, raw := range resp.Header.Values("Set-Cookie") {
			if !strings.HasPrefix(raw, demoCookie+"=") {
				continue
			}
			ck, err := http.ParseSetCookie(raw)
			if err != nil || ck.Path != demoPath || ck.Domain != "" || !ck.HttpOnly {
				return []Result{c.result(Fail, fmt.Sprintf("the demo cookie arrived as `%s`: with Path other than %s or a Domain, it is sent to real pages", raw, demoPath))}
			}
			return []Result{c.result(OK, fmt.Sprintf("truss_demo is HttpOnly with Path=%s: browsers never send it to /api/ or the real dashboard; a real login clears it; demo traffic is always rate-limited per IP (built in)", demoPath))}
		}
		return []Result{c.resultFix(Warn, fmt.Sprintf("GET %s answered %s without a truss_demo cookie", url, resp.Status),
			"Check that the proxy forwards /demo/ to Truss and passes Set-Cookie.")}
	},
}
