package server

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/health"
	"github.com/trussdev/truss/internal/requestid"
	"github.com/trussdev/truss/web"
)

// HandlerFunc is the shape of every Truss handler: it writes its success
// response itself and returns an error for anything else.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a HandlerFunc: errors become the one JSON error shape;
// unexpected ones are logged with their cause and answered as a bare 500.
func (s *Server) handle(fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		e := apierror.As(err)
		id := requestid.From(r.Context())
		level := slog.LevelInfo
		if e.Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request failed", "request_id", id, "code", e.Code,
			"status", e.Status, "error", err.Error())
		apierror.Write(w, e, id)
	})
}

func healthLive(w http.ResponseWriter, r *http.Request) error { return health.Live(w, r) }

// dashboard serves the embedded web app, except under /api/, where an
// unknown path must be a JSON 404 and not the app's HTML.
func (s *Server) dashboard() http.Handler {
	app := web.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/api" {
			apierror.Write(w, apierror.NotFound(), requestid.From(r.Context()))
			return
		}
		app.ServeHTTP(w, r)
	})
}
