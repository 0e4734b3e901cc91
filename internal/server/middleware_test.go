package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// jsonMuxErrors answers the mux's own 404/405 in JSON with and without a
// catch-all GET route (which lets it skip the route lookup for GET/HEAD), and
// routed requests reach their handler with their path values.
func TestJSONMuxErrors(t *testing.T) {
	t.Parallel()
	for _, catchAll := range []bool{true, false} {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/db/{table}", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("table " + r.PathValue("table") + " " + r.Pattern))
		})
		mux.HandleFunc("POST /api/thing", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("posted")) })
		if catchAll {
			mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("app")) })
		}
		h := jsonMuxErrors(mux, mux)
		for _, tc := range []struct {
			method, path string
			status       int
			body, code   string
		}{
			{"GET", "/v1/db/items", 200, "table items GET /v1/db/{table}", ""},
			{"HEAD", "/v1/db/items", 200, "", ""},
			{"POST", "/api/thing", 200, "posted", ""},
			{"DELETE", "/api/thing", 405, "", "method_not_allowed"},
			{"OPTIONS", "/v1/db/items", 405, "", "method_not_allowed"},
		} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if tc.code != "" {
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &e)
				if rec.Code != tc.status || e.Error.Code != tc.code {
					t.Errorf("catch-all %v: %s %s = %d %s, want %d %s", catchAll, tc.method, tc.path, rec.Code, rec.Body, tc.status, tc.code)
				}
				if tc.status == 405 && rec.Header().Get("Allow") == "" {
					t.Errorf("catch-all %v: %s %s: no Allow header", catchAll, tc.method, tc.path)
				}
				continue
			}
			if rec.Code != tc.status || (tc.method != "HEAD" && rec.Body.String() != tc.body) {
				t.Errorf("catch-all %v: %s %s = %d %q, want %d %q", catchAll, tc.method, tc.path, rec.Code, rec.Body, tc.status, tc.body)
			}
		}
		if !catchAll {
			for _, m := range []string{"GET", "POST"} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(m, "/nope", nil))
				if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
					t.Errorf("no catch-all: %s /nope = %d %s %q", m, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
				}
			}
		}
	}
}
