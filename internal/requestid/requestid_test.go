package requestid

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNewIDIsUniqueAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newID()
		if len(id) != 24 || !valid(id) {
			t.Fatalf("malformed id %q", id)
		}
		if seen[id] {
			t.Fatalf("id %q twice", id)
		}
		seen[id] = true
	}
}

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"none sent", "", false},
		{"well-formed from a proxy", "abc-123_x.y", true},
		{"log injection", "abc\nlevel=ERROR", false},
		{"too long", string(make([]byte, 65)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inCtx string
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inCtx = From(r.Context()) }))
			r := httptest.NewRequest("GET", "/", nil)
			if tt.sent != "" {
				r.Header.Set(Header, tt.sent)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get(Header)
			if got != inCtx || !valid(got) {
				t.Fatalf("header %q, context %q", got, inCtx)
			}
			if (got == tt.sent) != tt.kept {
				t.Fatalf("sent %q, answered %q, want kept=%v", tt.sent, got, tt.kept)
			}
		})
	}
}
