// Package requestid gives every HTTP request an ID that appears in its log
// lines, its X-Request-Id response header and any error body, so a user's
// bug report can be matched to the server log.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync/atomic"
)

type ctxKey struct{}

// Header carries the ID in both directions.
const Header = "X-Request-Id"

// From returns the request's ID ("" outside a request).
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Middleware assigns an ID, reusing a well-formed one from a proxy in front.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !valid(id) {
			id = newID()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
	})
}

// IDs are a random prefix drawn once per process and a counter: unique
// across instances and restarts without reading the system's random source
// (a system call) on every request. They need not be unguessable: they
// name a request in logs, they grant nothing.
var (
	prefix = newPrefix()
	seq    atomic.Uint64
)

func newPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newID is 24 hex characters: the prefix and the counter's low 48 bits.
func newID() string {
	var b [24]byte
	copy(b[:], prefix)
	n := seq.Add(1)
	const digits = "0123456789abcdef"
	for i := 23; i >= 12; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// valid accepts up to 64 characters of [A-Za-z0-9._-]: anything else could
// smuggle text into logs.
func valid(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}
