package oauth2

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// flushTimeout bounds one janitor run.
const flushTimeout = 2 * time.Minute

// FlushRequest is the optional body of POST /api/hydra/flush.
type FlushRequest struct {
	// KeepIfYounger keeps records younger than this duration (default 0:
	// flush everything that is no longer usable).
	KeepIfYounger string `json:"keep_if_younger"`
}

// Flush answers POST /api/hydra/flush (Truss admins): deletes Hydra's
// expired and revoked tokens, finished or abandoned login/consent requests
// and expired trust grants. Hydra v2 removed its flush API; Truss runs
// `hydra janitor` (HYDRA_BIN) on Hydra's database (HYDRA_DATABASE_URL).
func (h *Handlers) Flush(w http.ResponseWriter, r *http.Request) error {
	var req FlushRequest
	if r.ContentLength != 0 && r.Body != http.NoBody {
		if err := httpjson.Decode(r, &req); err != nil {
			return err
		}
	}
	keep := time.Duration(0)
	if req.KeepIfYounger != "" {
		d, err := time.ParseDuration(req.KeepIfYounger)
		if err != nil || d < 0 {
			return fieldError("keep_if_younger", "must be a duration such as \"1h\" (0 keeps nothing)")
		}
		keep = d
	}
	if h.HydraDatabaseURL == "" {
		return apierror.New(http.StatusServiceUnavailable, "flush_not_configured",
			"Flushing Hydra is not configured on this Truss server.").
			WithHint("Ory Hydra v2 flushes with `hydra janitor` on its database: set HYDRA_DATABASE_URL (and HYDRA_BIN), " +
				"or run `hydra janitor -e --tokens --requests --grants` yourself (e.g. `docker compose run --rm hydra janitor ...`).").
			WithDetails(map[string]any{"service": "hydra", "env": "HYDRA_DATABASE_URL"})
	}
	ctx, cancel := context.WithTimeout(r.Context(), flushTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.HydraBin, "janitor", "-e", "--tokens", "--requests", "--grants",
		"--keep-if-younger", keep.String())
	// Only what the janitor needs: Truss's own variables (LOG_LEVEL, ...)
	// would be read by Hydra as its configuration.
	cmd.Env = []string{"DSN=" + h.HydraDatabaseURL, "PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "SQA_OPT_OUT=true"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	log := strings.ReplaceAll(out.String(), h.HydraDatabaseURL, "<HYDRA_DATABASE_URL>")
	var execErr *exec.Error
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &execErr) || errors.As(err, &pathErr):
		return apierror.New(http.StatusServiceUnavailable, "hydra_unavailable",
			"The Ory Hydra binary "+h.HydraBin+" cannot be run: "+err.Error()+".").
			WithHint("Set HYDRA_BIN to the path of the hydra binary (the same version as the server).").
			WithDetails(map[string]any{"service": "hydra", "env": "HYDRA_BIN"})
	case err != nil:
		h.log.Error("hydra janitor failed", "error", err, "output", tail(log, 2000))
		return apierror.New(http.StatusBadGateway, "hydra_janitor_failed", "`hydra janitor` failed: "+err.Error()+".").
			WithHint("Check that HYDRA_DATABASE_URL is Hydra's database and that HYDRA_BIN is the same Hydra version; " +
				"the server log has the janitor's output.").
			WithDetails(map[string]any{"service": "hydra", "env": "HYDRA_DATABASE_URL"})
	}
	h.audit(r, "oauth2_flush", "", map[string]any{"keep_if_younger": keep.String()})
	return writeJSON(w, http.StatusOK, map[string]any{
		"flushed":         []string{"tokens", "requests", "grants"},
		"keep_if_younger": keep.String(),
		"duration_ms":     time.Since(start).Milliseconds(),
		"output":          strings.Split(strings.TrimSpace(tail(log, 4000)), "\n"),
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
