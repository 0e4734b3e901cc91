package doctor

// guideIntro opens docs/troubleshooting.md.
const guideIntro = `# Troubleshooting Truss

<!-- Generated from internal/doctor (Checks, guideExtra). Edit there, then run
     UPDATE_DOCS=1 go test ./internal/doctor/ -run TestTroubleshootingGuide -->

Run ` + "`truss doctor`" + ` first: it runs every check below against your configuration and running services and
prints ok / warn / fail, the evidence it saw and the fix (` + "`--json`" + ` for scripts; exit code 0 ok, 1 warnings,
2 failures). Admins see the same report at ` + "`GET /api/doctor`" + `. Each section here is one of its checks.

`

// guideExtra adds detail to a check's section: commands and background a
// reader needs beyond the one-line fix.
var guideExtra = map[string]string{
	"cookies.csrf_domain": "Truss's CSRF protection is a double submit: the `truss_csrf` cookie (readable by JavaScript, " +
		"`SameSite=Lax`) must be echoed in the `X-CSRF-Token` header. Dashboard on `app.example.com` and API on " +
		"`api.example.com`: set `CSRF_COOKIE_DOMAIN=.example.com` so both can read it. Stale duplicates (a host-only copy " +
		"and a parent-domain copy) do not break Truss: the server reads every `truss_csrf` value the browser sends and " +
		"accepts the header if it matches any of them (the job `parseAllCookieValues()` does elsewhere), and a login " +
		"rotates the token and expires the copies on both scopes. If it persists, clear all cookies for the domain, and " +
		"check that your reverse proxy (Nginx, Caddy, Traefik) does not strip `Set-Cookie` headers. The 403's `code` " +
		"says which case you hit: `csrf_cookie_missing`, `csrf_header_missing` or `csrf_token_mismatch`.",
	"cookies.session": "Checklist: `CORS_ALLOWED_ORIGINS` includes the dashboard URL (e.g. `https://app.example.com`); " +
		"the dashboard calls the API with `fetch(url, {credentials: 'include'})`; for cross-site setups the session " +
		"cookie needs `Domain=.example.com`, `SameSite=None`, `Secure` and `HttpOnly` (`COOKIE_DOMAIN=.example.com`, " +
		"`COOKIE_SAMESITE=none`), and the API must be served over HTTPS, because browsers reject `SameSite=None` cookies " +
		"without `Secure`. In DevTools > Network, open the login response and check the `Set-Cookie` header and the " +
		"request's Cookies tab to see whether the browser accepted it.",
	"ory.services": "Check each service directly:\n\n```sh\n# Kratos\ncurl -f http://localhost:4433/health/alive\n" +
		"# Keto\ncurl -f http://localhost:4466/health/alive\n# Hydra (if using OAuth2)\ncurl -f http://localhost:4445/health/alive\n```\n\n" +
		"Variables: `KRATOS_PUBLIC_URL=http://localhost:4433` and `KRATOS_ADMIN_URL=http://localhost:4434` (auth), " +
		"`KETO_READ_URL=http://localhost:4466` and `KETO_WRITE_URL=http://localhost:4467` (authorization), " +
		"`HYDRA_ADMIN_URL=http://localhost:4445` (OAuth2; set it empty to disable OAuth2).\n\nWith deploy/docker-compose.yml:\n\n" +
		"```sh\ndocker ps --filter \"name=kratos\" --filter \"name=keto\" --filter \"name=hydra\"\ndocker logs truss-kratos-1 --tail 50\n" +
		"docker logs truss-keto-1 --tail 50\ndocker compose up -d kratos keto hydra        # restart a crashed service\n" +
		"docker compose exec kratos kratos migrate sql -e --yes   # Kratos fails with a migration error\n```\n\n" +
		"Truss answers 503 `<service>_unavailable` when a service is unreachable or times out (`ORY_TIMEOUT`) and 502 " +
		"`<service>_bad_gateway` when it answers something that is not its API; the error's `details` name the URL and the variable.",
	"ory.ports": "Ports Ory uses by default: 4433 and 4434 (Kratos), 4444 and 4445 (Hydra), 4466 and 4467 (Keto). " +
		"`truss dev` refuses to start when one is taken and names the process holding it.",
	"smtp.reachable": "Port 587 with STARTTLS is the recommended standard for authenticated mail submission and is not " +
		"blocked by most providers: `SMTP_PORT=587`, `SMTP_HOST=smtp.your-provider.com`.",
}
