package auth

import (
	"net/http"

	"github.com/trussdev/truss/internal/apierror"
)

// The read-only demo (internal/demo) lives under /demo/ with its own cookie,
// truss_demo, which this package never reads: the demo handler answers every
// /demo/ request itself and never calls Authenticate. The one hook here is
// the other direction: a real session (cookie or token) whose tenant is a
// demo tenant (truss_internal.tenants.is_demo) is refused everywhere, so a
// request outside /demo/ can never act as the demo tenant, whatever is in
// the database.

// CodeDemoSessionRefused answers a real session that resolves to a demo tenant.
const CodeDemoSessionRefused = "demo_session_refused"

// refuseDemoTenant is checked by Authenticate on every freshly verified
// session (before it is cached).
func refuseDemoTenant(p *Principal) error {
	if p == nil || !p.IsDemo {
		return nil
	}
	return apierror.New(http.StatusForbidden, CodeDemoSessionRefused,
		"This session belongs to the demo tenant, which is only served under /demo/.").
		WithHint("Sign in with your own account; the demo needs no sign-in at /demo/.")
}
