package health

import (
	"encoding/json"
	"net/http"
)

// Live answers GET /api/health/live: 200 as long as the process serves HTTP.
// It checks nothing else, so orchestrators do not restart Truss when Kratos is down.
func Live(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Handler answers GET /api/health: 200 when every required dependency is up,
// 503 naming the failing ones otherwise.
func (c *Checker) Handler(w http.ResponseWriter, r *http.Request) error {
	rep := c.Run(r.Context())
	status := http.StatusOK
	if rep.Status == "down" {
		status = http.StatusServiceUnavailable
	}
	return writeJSON(w, status, rep)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
