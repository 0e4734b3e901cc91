package server

import (
	"log/slog"
	"net/http"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/health"
	"github.com/trussdev/truss/internal/requestid"
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
