package apikey

import (
	"sync"
	"time"
)

// limiter counts requests per key in fixed windows: a key may make limit
// requests per window, and the X-RateLimit-* headers say how many remain and
// when the window resets (the shape clients know from GitHub's API). Keys
// are API key ids, so their number is bounded by the keys table; expired
// windows are dropped when the map grows.
type limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*window
}

type window struct {
	start time.Time
	count int
}

func newLimiter(limit int, w time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: w, now: now, m: map[string]*window{}}
}

// take counts one request. It reports whether it is allowed, how many
// remain in the window and how long until the window resets.
func (l *limiter) take(key string) (ok bool, remaining int, reset time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.m[key]
	if w == nil || now.Sub(w.start) >= l.window {
		if w == nil && len(l.m) >= 10_000 {
			for k, o := range l.m {
				if now.Sub(o.start) >= l.window {
					delete(l.m, k)
				}
			}
		}
		w = &window{start: now}
		l.m[key] = w
	}
	reset = l.window - now.Sub(w.start)
	if w.count >= l.limit {
		return false, 0, reset
	}
	w.count++
	return true, l.limit - w.count, reset
}
