package auth

import (
	"sync"
	"time"
)

// sessionCache remembers verified sessions for a short, bounded time so an
// authenticated request does not cost a Kratos round trip. Entries never
// outlive the Kratos session; logout and revocation delete them at once on
// this instance (other instances: within the TTL).
type sessionCache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	p       *Principal
	expires time.Time
}

const maxCachedSessions = 100_000

func newSessionCache(ttl time.Duration) *sessionCache {
	return &sessionCache{ttl: ttl, now: time.Now, entries: map[string]cacheEntry{}}
}

func (c *sessionCache) get(key string) (*Principal, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.now().Before(e.expires) {
		delete(c.entries, key)
		return nil, false
	}
	return e.p, true
}

func (c *sessionCache) put(key string, p *Principal) {
	if c.ttl <= 0 {
		return
	}
	exp := c.now().Add(c.ttl)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(exp) {
		exp = p.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedSessions {
		c.evictExpired()
	}
	if len(c.entries) >= maxCachedSessions {
		for k := range c.entries { // still full: drop an arbitrary entry
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = cacheEntry{p: p, expires: exp}
}

func (c *sessionCache) evictExpired() {
	now := c.now()
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
}

func (c *sessionCache) delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// deleteIdentity drops every cached session of an identity (admin revocation).
func (c *sessionCache) deleteIdentity(identityID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.p.IdentityID == identityID {
			delete(c.entries, k)
		}
	}
}
