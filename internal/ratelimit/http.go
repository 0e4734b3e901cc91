package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/trussdev/truss/internal/apierror"
)

// CodeRateLimited is the API error code of a refused attempt.
const CodeRateLimited = "rate_limited"

// TooMany is the 429 answer to a refused attempt. The wait is in the message
// and in details.retry_after_seconds as well as in the Retry-After header
// (WriteRetryAfter), because a dashboard on another origin cannot read
// Retry-After unless CORS exposes it.
func TooMany(retryAfter time.Duration) *apierror.Error {
	s := Seconds(retryAfter)
	unit := "seconds"
	if s == 1 {
		unit = "second"
	}
	return apierror.New(http.StatusTooManyRequests, CodeRateLimited,
		fmt.Sprintf("Too many attempts. Try again in %d %s.", s, unit)).
		WithHint("Wait for the Retry-After time before retrying. Attempts are limited per client IP address and per " +
			"account; if every user is limited together, Truss is behind a reverse proxy it does not trust, so it " +
			"sees the proxy's address for everyone: set TRUSS_TRUSTED_PROXIES to the proxy's IP or CIDR.").
		WithDetails(map[string]any{"retry_after_seconds": s})
}

// WriteRetryAfter sets the Retry-After header to d in whole seconds, rounded
// up and at least 1: "0" would invite an immediate retry that is refused again.
func WriteRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(Seconds(d), 10))
}

// Seconds is d in whole seconds for Retry-After: rounded up, at least 1.
func Seconds(d time.Duration) int64 {
	if d <= time.Second {
		return 1
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
