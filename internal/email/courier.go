package email

import (
	"fmt"
	"net/url"
)

// KratosCourierURI is the connection URI that gives Ory Kratos's courier
// (verification and recovery codes) the same SMTP server as Truss, in
// Kratos's syntax: smtp:// requires STARTTLS, smtps:// is implicit TLS,
// ?disable_starttls=true sends without TLS (Kratos has no "STARTTLS if
// offered" mode, so opportunistic ports map to it). The password is the
// placeholder PASSWORD: Kratos reads the real one from its own
// configuration (COURIER_SMTP_CONNECTION_URI), percent-encoded.
func KratosCourierURI(st Settings) string {
	if !st.Enabled() {
		return ""
	}
	scheme, query := "smtp", ""
	switch st.policy() {
	case policyImplicit:
		scheme = "smtps"
	case policyStartTLSOpportunistic, policyNone:
		query = "?disable_starttls=true"
	}
	user := ""
	if st.User != "" {
		user = url.User(st.User).String()
		if st.PasswordSet() {
			user += ":PASSWORD"
		}
		user += "@"
	}
	return fmt.Sprintf("%s://%s%s/%s", scheme, user, st.Addr(), query)
}
