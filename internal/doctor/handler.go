package doctor

import (
	"context"
	"net/http"
	"net/netip"
	"regexp"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/clientip"
	"github.com/trussdev/truss/internal/httpjson"
)

var noncePattern = regexp.MustCompile(`^[a-z0-9]{8,64}$`)

// Echo answers GET /api/doctor/echo (public): it reports how the request
// arrived and sets a probe cookie, so truss doctor can see what a reverse
// proxy in front of Truss changes. It reveals nothing secret.
func Echo(proxies clientip.Resolver) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		nonce := r.URL.Query().Get("nonce")
		if !noncePattern.MatchString(nonce) {
			return httpjson.Invalid("nonce must be 8 to 64 lower-case letters or digits.", map[string][]string{"nonce": {"invalid"}})
		}
		http.SetCookie(w, &http.Cookie{Name: ProbeCookie, Value: nonce, Path: "/api/doctor", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		peer, _ := netip.ParseAddrPort(r.RemoteAddr)
		return httpjson.Write(w, http.StatusOK, EchoReport{Service: "truss", Host: r.Host, TLS: r.TLS != nil,
			ForwardedProto: r.Header.Get("X-Forwarded-Proto"), TrustedPeer: proxies.Trusted(peer.Addr().Unmap()), HTTPS: proxies.IsHTTPS(r)})
	}
}

// Handler answers GET /api/doctor (admins): every check's verdict.
func Handler(newEnv func() *Env) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
		defer cancel()
		rs := Run(ctx, newEnv(), 8*time.Second)
		if ctx.Err() != nil {
			return apierror.New(http.StatusGatewayTimeout, "doctor_timeout", "The checks did not finish in time.")
		}
		return httpjson.Write(w, http.StatusOK, map[string]any{"status": Worst(rs), "checks": rs})
	}
}
