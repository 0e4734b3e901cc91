package auth

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/trussdev/truss/internal/ratelimit"
)

// Rate limits of the endpoints that guess passwords or send email. Each is
// enforced per client IP (behind TRUSS_TRUSTED_PROXIES, the forwarded one)
// and per identifier (the email typed), so neither one address nor a botnet
// against one account gets far. A successful login resets its identifier.
var limits = map[string]struct {
	perIP, perIdentifier int
	window               time.Duration
}{
	"login":    {perIP: 30, perIdentifier: 10, window: time.Minute},
	"register": {perIP: 10, perIdentifier: 5, window: time.Minute},
	"recovery": {perIP: 10, perIdentifier: 3, window: time.Minute},
	"verify":   {perIP: 10, perIdentifier: 3, window: time.Minute},
}

type limiters map[string]*ratelimit.Limiter

func newLimiters(now func() time.Time) limiters {
	l := limiters{}
	for action, lim := range limits {
		l[action+":ip"] = ratelimit.New(lim.perIP, lim.window, now)
		l[action+":id"] = ratelimit.New(lim.perIdentifier, lim.window, now)
	}
	return l
}

// rateLimit returns a 429 (with Retry-After) when the client or the
// identifier has used up its attempts for action.
func (s *Service) rateLimit(w http.ResponseWriter, r *http.Request, action, identifier string) error {
	if ok, wait := s.limiters[action+":ip"].Allow(s.clientIP(r)); !ok {
		ratelimit.WriteRetryAfter(w, wait)
		return ratelimit.TooMany(wait)
	}
	if identifier = strings.ToLower(strings.TrimSpace(identifier)); identifier != "" {
		if ok, wait := s.limiters[action+":id"].Allow(identifier); !ok {
			ratelimit.WriteRetryAfter(w, wait)
			return ratelimit.TooMany(wait)
		}
	}
	return nil
}

func (s *Service) resetLimit(action, identifier string) {
	s.limiters[action+":id"].Reset(strings.ToLower(strings.TrimSpace(identifier)))
}

func (s *Service) clientIP(r *http.Request) string {
	return s.cfg.TrustedProxies.ClientIP(r).String()
}

// pendingMFA remembers which account an aal1 session (password accepted,
// second factor pending) belongs to, so second-factor attempts are limited
// per account. Entries live as long as the pending cookie (10 minutes).
type pendingMFA struct {
	mu      sync.Mutex
	entries map[string]pendingEntry
}

type pendingEntry struct {
	who     string
	expires time.Time
}

func (p *pendingMFA) put(key, who string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil || len(p.entries) > 100_000 {
		p.entries = map[string]pendingEntry{}
	}
	p.entries[key] = pendingEntry{who: who, expires: time.Now().Add(10 * time.Minute)}
}

// get returns the account of a pending session, or the key itself when
// unknown (e.g. after a restart), which still limits that session.
func (p *pendingMFA) get(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.entries[key]; ok && time.Now().Before(e.expires) && e.who != "" {
		return e.who
	}
	return key
}
