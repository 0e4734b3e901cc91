// Package dashboardtest drives the embedded dashboard (web/, built into the
// binary) in a real headless Chromium through chromedp, against real Truss
// servers on the real stack: sign-in with the return to where the user was,
// registration with the email code from Mailpit, TOTP enrollment and sign-in
// with it, user admin, system health, API keys (used against the real
// /v1/db), and the read-only demo under /demo/ with its separation from real
// sessions.
//
// Screenshots of every screen are saved to $TRUSS_ARTIFACTS_DIR (or a
// temporary directory) and their paths logged. The tests need Chromium and a
// built dashboard (make build, or npm --prefix web ci && npm --prefix web run
// build before go test); they fail, never skip, without them.
package dashboardtest
