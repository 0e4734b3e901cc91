// Package ratelimit slows down password guessing and account enumeration on
// the login, registration and recovery endpoints. It counts attempts per key
// (a client IP, or an account identifier such as an email address) in memory:
// a Truss instance needs no Redis for this, and a limit that is per instance
// still divides an attacker's throughput by the limit.
//
// The algorithm is a token bucket in its GCRA form ("generic cell rate
// algorithm"): each key stores one time, so memory per key is constant. A key
// may make limit attempts at once (the burst), after which one attempt is
// refilled every window/limit. Over any span t the number of allowed attempts
// is at most limit + limit*t/window, so the long-run rate is limit per window
// and an idle key is back to a full burst after one window.
package ratelimit

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the number of keys a Limiter remembers (about 100 bytes
// each, so ~10 MB). A flood of distinct keys, such as an attacker rotating
// IPv6 addresses, evicts the least recently used keys instead of growing
// memory without limit.
const DefaultMaxKeys = 100_000

// Limiter is a per-key rate limiter, safe for concurrent use.
type Limiter struct {
	limit    int
	interval time.Duration // window / limit: the refill time of one attempt
	burst    time.Duration // window - interval: how far ahead of now a key may run
	now      func() time.Time

	mu      sync.Mutex
	keys    map[string]*list.Element // of *entry
	lru     *list.List               // front: most recently used
	maxKeys int
}

type entry struct {
	key string
	// tat is the "theoretical arrival time": when the key's bucket is full
	// again. A key whose tat is not after now holds no state worth keeping.
	tat time.Time
}

// New returns a limiter allowing limit attempts per window and key. now is
// the clock (nil: time.Now); tests inject a fake one so they never sleep.
// New panics when limit or window is not positive: that is a programming
// error, not a runtime condition.
func New(limit int, window time.Duration, now func() time.Time) *Limiter {
	if limit <= 0 || window <= 0 {
		panic(fmt.Sprintf("ratelimit.New(%d, %s): limit and window must be positive", limit, window))
	}
	if now == nil {
		now = time.Now
	}
	interval := window / time.Duration(limit)
	if interval <= 0 {
		interval = 1 // more than one attempt per nanosecond: effectively unlimited
	}
	return &Limiter{
		limit: limit, interval: interval, burst: interval * time.Duration(limit-1), now: now,
		keys: make(map[string]*list.Element), lru: list.New(), maxKeys: DefaultMaxKeys,
	}
}

// Allow records an attempt for key and reports whether it is allowed. When it
// is not, retryAfter is how long until the next attempt will be (send it in
// Retry-After with WriteRetryAfter); a refused attempt is not counted, so a
// client that keeps retrying too early is not locked out for longer.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictExpired(now)

	var e *entry
	if el, found := l.keys[key]; found {
		e = el.Value.(*entry)
		l.lru.MoveToFront(el)
	} else {
		if len(l.keys) >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		e = &entry{key: key}
		l.keys[key] = l.lru.PushFront(e)
	}

	tat := e.tat
	if tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - l.burst; wait > 0 {
		return false, wait
	}
	e.tat = tat.Add(l.interval)
	return true, 0
}

// Reset forgets key, giving it a full burst again. Call it after a successful
// login for the identifier's key, so that a user who mistyped their password
// a few times is not slowed down afterwards.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.keys[key]; ok {
		l.remove(el)
	}
}

// Len is the number of keys currently remembered (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// evictExpired drops keys from the least recently used end while their
// bucket is full again. It stops at the first key still holding state, so it
// costs O(1) amortised per call; an expired key behind a live one is dropped
// at the latest one window later, and the key cap bounds memory meanwhile.
func (l *Limiter) evictExpired(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if el.Value.(*entry).tat.After(now) {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*entry).key)
	l.lru.Remove(el)
}
