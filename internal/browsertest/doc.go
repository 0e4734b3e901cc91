// Package browsertest drives a real Chromium (headless, through the DevTools
// protocol with chromedp) against real Truss servers on the real stack: the
// cross-subdomain dashboard (app.example.test calling api.example.test over
// HTTPS with credentialed CORS, the double-submit CSRF cookie and a
// SameSite=None session cookie), a refused origin, and the same-origin
// http://localhost default. Cookie handling, CORS and SameSite are decided by
// the browser, so only a browser can show they work together; the unit tests
// of internal/csrf and internal/cors check each piece alone.
//
// The package has tests only. They need Chromium (`apt-get install
// chromium`; TRUSS_CHROMIUM may name another Chromium or Chrome binary);
// they fail, never skip, when it is missing.
package browsertest
