package ratelimit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/apierror"
)

// clock is a fake time source; it is safe for concurrent reads.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// step is one call in a scripted scenario: advance the clock by after, then
// call Allow(key) and expect ok (and retryAfter when refused).
type step struct {
	after     time.Duration
	key       string
	wantOK    bool
	wantRetry time.Duration
}

func TestAllowScenarios(t *testing.T) {
	t.Parallel()
	allowed := func(after time.Duration, key string) step { return step{after, key, true, 0} }
	refused := func(after time.Duration, key string, retry time.Duration) step {
		return step{after, key, false, retry}
	}
	tests := []struct {
		name   string
		limit  int
		window time.Duration
		steps  []step
	}{
		{"burst of limit then refused with one refill interval", 5, 15 * time.Minute, []step{
			allowed(0, "ip:1"), allowed(0, "ip:1"), allowed(0, "ip:1"), allowed(0, "ip:1"), allowed(0, "ip:1"),
			refused(0, "ip:1", 3*time.Minute),
			refused(time.Minute, "ip:1", 2*time.Minute),
			refused(2*time.Minute-time.Nanosecond, "ip:1", time.Nanosecond),
			allowed(time.Nanosecond, "ip:1"),
			refused(0, "ip:1", 3*time.Minute),
		}},
		{"keys are independent", 2, time.Minute, []step{
			allowed(0, "a"), allowed(0, "a"), refused(0, "a", 30*time.Second),
			allowed(0, "b"), allowed(0, "b"), refused(0, "b", 30*time.Second),
		}},
		{"refused attempts are not counted", 1, 10 * time.Second, []step{
			allowed(0, "k"),
			refused(time.Second, "k", 9*time.Second), refused(time.Second, "k", 8*time.Second),
			refused(time.Second, "k", 7*time.Second),
			allowed(7*time.Second, "k"),
		}},
		{"idle for a window gives a full burst back", 3, time.Minute, []step{
			allowed(0, "k"), allowed(0, "k"), allowed(0, "k"), refused(0, "k", 20*time.Second),
			allowed(time.Minute, "k"), allowed(0, "k"), allowed(0, "k"), refused(0, "k", 20*time.Second),
		}},
		{"idle for much longer than a window still gives only one burst", 2, time.Minute, []step{
			allowed(24*time.Hour, "k"), allowed(0, "k"), refused(0, "k", 30*time.Second),
		}},
		{"steady rate of one per interval is always allowed", 4, time.Minute, []step{
			allowed(0, "k"), allowed(15*time.Second, "k"), allowed(15*time.Second, "k"), allowed(15*time.Second, "k"),
			allowed(15*time.Second, "k"), allowed(15*time.Second, "k"), allowed(15*time.Second, "k"),
		}},
		{"limit 1", 1, time.Hour, []step{
			allowed(0, "k"), refused(0, "k", time.Hour), refused(59*time.Minute, "k", time.Minute), allowed(time.Minute, "k"),
		}},
		{"empty key is a key like any other", 1, time.Second, []step{
			allowed(0, ""), refused(0, "", time.Second), allowed(0, "x"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := New(tc.limit, tc.window, c.now)
			for i, s := range tc.steps {
				c.advance(s.after)
				ok, retry := l.Allow(s.key)
				if ok != s.wantOK || retry != s.wantRetry {
					t.Fatalf("step %d (+%s, key %q): Allow = %v, %s; want %v, %s", i, s.after, s.key, ok, retry, s.wantOK, s.wantRetry)
				}
			}
		})
	}
}

// TestNeverMoreThanLimitPlusRefillInAnyWindow checks the documented bound
// with a client hammering every second for an hour.
func TestNeverMoreThanLimitPlusRefillInAnyWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	const limit, window = 10, 15 * time.Minute
	l := New(limit, window, c.now)
	var allowedAt []time.Time
	for range 3600 {
		if ok, _ := l.Allow("attacker"); ok {
			allowedAt = append(allowedAt, c.now())
		}
		c.advance(time.Second)
	}
	for i := range allowedAt {
		n := 0
		for j := i; j < len(allowedAt) && allowedAt[j].Sub(allowedAt[i]) < window; j++ {
			n++
		}
		if n > 2*limit {
			t.Fatalf("%d attempts allowed in one window from %s, want at most %d", n, allowedAt[i], 2*limit)
		}
	}
	// 10 at once, then one per 90 s for the remaining hour.
	if got, want := len(allowedAt), limit+int((time.Hour-time.Second)/(window/limit)); got != want {
		t.Errorf("allowed %d attempts in an hour, want %d", got, want)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(2, time.Minute, c.now)
	l.Allow("user@example.com")
	l.Allow("user@example.com")
	if ok, _ := l.Allow("user@example.com"); ok {
		t.Fatal("third attempt allowed before Reset")
	}
	l.Reset("user@example.com")
	l.Reset("never-seen") // no-op
	for i := range 2 {
		if ok, _ := l.Allow("user@example.com"); !ok {
			t.Fatalf("attempt %d after Reset refused", i+1)
		}
	}
}

func TestExpiredKeysAreEvicted(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(3, time.Minute, c.now)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("ip:%d", i))
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("Len = %d, want 1000", n)
	}
	c.advance(20*time.Second - time.Nanosecond) // one attempt each: bucket full again after 20 s
	l.Allow("fresh")
	if n := l.Len(); n != 1001 {
		t.Fatalf("Len before expiry = %d, want 1001", n)
	}
	c.advance(time.Nanosecond)
	l.Allow("fresh")
	if n := l.Len(); n != 1 {
		t.Fatalf("Len after the old keys expired = %d, want 1 (only the fresh key)", n)
	}
}

func TestKeyCapEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(1, time.Hour, c.now)
	l.maxKeys = 3
	for _, k := range []string{"a", "b", "c"} {
		if ok, _ := l.Allow(k); !ok {
			t.Fatalf("first attempt of %s refused", k)
		}
	}
	// Touch "a" so that "b" is the least recently used, then add "d".
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("second attempt of a allowed")
	}
	l.Allow("d")
	if n := l.Len(); n != 3 {
		t.Fatalf("Len = %d, want the cap 3", n)
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("a was evicted although it was used recently")
	}
	if ok, _ := l.Allow("c"); ok {
		t.Error("c was evicted although b was older")
	}
	// b was evicted, so it starts afresh (evicting the now-oldest key).
	if ok, _ := l.Allow("b"); !ok {
		t.Error("b was not evicted: it should have been the least recently used key")
	}
	if n := l.Len(); n != 3 {
		t.Fatalf("Len = %d, want the cap 3", n)
	}
}

func TestMemoryStaysBoundedUnderAFloodOfKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(5, time.Hour, c.now)
	l.maxKeys = 500
	for i := range 10_000 {
		l.Allow(fmt.Sprintf("2001:db8::%x", i))
	}
	if n := l.Len(); n != 500 {
		t.Fatalf("Len = %d after 10000 distinct keys, want the cap 500", n)
	}
	if len(l.keys) != l.lru.Len() {
		t.Fatalf("map has %d keys, list %d", len(l.keys), l.lru.Len())
	}
}

func TestConcurrentAllowCountsExactly(t *testing.T) {
	t.Parallel()
	c := newClock() // frozen: no refill during the test
	const limit = 100
	l := New(limit, time.Hour, c.now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				if ok, _ := l.Allow("shared"); ok {
					allowed.Add(1)
				}
				l.Allow(fmt.Sprintf("own-%d-%d", g, i))
				if i%10 == 0 {
					l.Reset(fmt.Sprintf("own-%d-%d", g, i))
					_ = l.Len()
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != limit {
		t.Fatalf("%d concurrent attempts allowed on one key, want exactly %d", got, limit)
	}
}

func TestClockGoingBackwards(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := New(1, time.Minute, c.now)
	l.Allow("k")
	c.advance(-time.Hour)
	ok, retry := l.Allow("k")
	if ok || retry <= 0 {
		t.Fatalf("after the clock stepped back: Allow = %v, %s; want refused with a positive wait", ok, retry)
	}
}

func TestNewRejectsNonsense(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit  int
		window time.Duration
	}{{0, time.Minute}, {-1, time.Minute}, {1, 0}, {1, -time.Second}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d, %s) did not panic", tc.limit, tc.window)
				}
			}()
			New(tc.limit, tc.window, nil)
		}()
	}
	// A limit above one per nanosecond still works.
	l := New(10, time.Nanosecond, nil)
	if ok, _ := l.Allow("k"); !ok {
		t.Error("first attempt refused")
	}
}

func TestSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{
		{-time.Second, 1}, {0, 1}, {time.Nanosecond, 1}, {999 * time.Millisecond, 1}, {time.Second, 1},
		{time.Second + time.Nanosecond, 2}, {1500 * time.Millisecond, 2}, {2 * time.Second, 2},
		{90 * time.Second, 90}, {15 * time.Minute, 900}, {time.Hour + time.Millisecond, 3601},
	} {
		if got := Seconds(tc.d); got != tc.want {
			t.Errorf("Seconds(%s) = %d, want %d", tc.d, got, tc.want)
		}
		rec := httptest.NewRecorder()
		WriteRetryAfter(rec, tc.d)
		if got := rec.Header().Get("Retry-After"); got != fmt.Sprint(tc.want) {
			t.Errorf("WriteRetryAfter(%s): Retry-After = %q, want %d", tc.d, got, tc.want)
		}
	}
}

func TestTooManyShape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d           time.Duration
		wantMessage string
		wantSeconds float64
	}{
		{90 * time.Second, "Too many attempts. Try again in 90 seconds.", 90},
		{100 * time.Millisecond, "Too many attempts. Try again in 1 second.", 1},
	} {
		e := TooMany(tc.d)
		if e.Status != http.StatusTooManyRequests || e.Code != "rate_limited" || e.Message != tc.wantMessage {
			t.Errorf("TooMany(%s) = %d %q %q", tc.d, e.Status, e.Code, e.Message)
		}
		for _, want := range []string{"Retry-After", "TRUSS_TRUSTED_PROXIES"} {
			if !strings.Contains(e.Hint, want) {
				t.Errorf("hint lacks %q: %s", want, e.Hint)
			}
		}
		rec := httptest.NewRecorder()
		WriteRetryAfter(rec, tc.d)
		apierror.Write(rec, e, "req-1")
		var body struct {
			Error struct {
				Code      string         `json:"code"`
				RequestID string         `json:"request_id"`
				Details   map[string]any `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != 429 || body.Error.Code != "rate_limited" || body.Error.RequestID != "req-1" ||
			body.Error.Details["retry_after_seconds"] != tc.wantSeconds {
			t.Errorf("written error = %d %+v", rec.Code, body.Error)
		}
		if got := rec.Header().Get("Retry-After"); got != fmt.Sprint(tc.wantSeconds) {
			t.Errorf("Retry-After = %q", got)
		}
	}
}
