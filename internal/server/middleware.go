package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/requestid"
)

// MaxBodyBytes caps every request body (1 MiB); larger bodies get 413.
const MaxBodyBytes = 1 << 20

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request and records its metrics; it also turns panics
// into the JSON 500 so a bug never shows a stack trace to a client.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in handler", "request_id", requestid.From(r.Context()), "panic", fmt.Sprint(p))
				if sw.status == 0 {
					apierror.Write(sw, apierror.As(fmt.Errorf("panic: %v", p)), requestid.From(r.Context()))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.observe(r.Method, route, sw.status, elapsed)
			if !strings.HasPrefix(route, "GET /metrics") {
				s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
					slog.String("request_id", requestid.From(r.Context())),
					slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Int("status", sw.status), slog.Duration("duration", elapsed))
			}
		}()
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(sw, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(sw, r)
	})
}

// jsonMuxErrors answers the mux's own 404s and 405s in the JSON error shape
// (its default is plain text), keeping the Allow header it computed; routed
// requests go on to next (the mux behind the CSRF check).
//
// Finding the route costs a second mux lookup (next looks it up again), so
// it is skipped for GET and HEAD when a catch-all GET route (the dashboard's
// "GET /") makes the mux match every GET and HEAD: the mux can then never
// answer them 404 or 405 itself.
func jsonMuxErrors(mux *http.ServeMux, next http.Handler) http.Handler {
	probe, _ := http.NewRequest(http.MethodGet, "/truss-catch-all-probe/x/y", nil)
	_, catchAllGET := mux.Handler(probe)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if catchAllGET != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		if h, pattern := mux.Handler(r); pattern == "" {
			// No route matched: run the mux's own answer into a recorder to
			// learn whether it is a 404, a 405 (and its Allow) or a redirect.
			rec := &headerRecorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			switch rec.status {
			case http.StatusNotFound:
				apierror.Write(w, apierror.NotFound(), requestid.From(r.Context()))
				return
			case http.StatusMethodNotAllowed:
				w.Header().Set("Allow", rec.header.Get("Allow"))
				apierror.Write(w, apierror.New(http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed,
					fmt.Sprintf("%s is not allowed on %s.", r.Method, r.URL.Path)).
					WithHint("Allowed methods: "+rec.header.Get("Allow")), requestid.From(r.Context()))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// headerRecorder captures a status and headers and discards the body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.status = code }
