// Package doctor diagnoses a Truss installation: every failure of our
// troubleshooting guide (docs/troubleshooting.md, generated from Checks) is
// a check that reports ok, warn or fail, the evidence it saw, and the fix.
// `truss doctor` prints the results; GET /api/doctor serves them to admins.
package doctor

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/ory"
)

// Status is a check's verdict.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Result is one check's outcome.
type Result struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Evidence string `json:"evidence"`
	Fix      string `json:"fix,omitempty"`
}

// Env is what checks look at. Fields may be nil when unavailable (no
// database reachable, invalid configuration): checks then say so.
type Env struct {
	Cfg       config.Config
	Raw       config.Lookup // raw environment, for checks on how values were written
	Ory       *ory.Clients
	Pool      *pgxpool.Pool
	HTTP      *http.Client
	Dashboard *url.URL
	// Now is the clock the time checks use; tests inject a skewed one.
	Now func() time.Time
}

// Check is one diagnosis. Symptom and Fix document it in the troubleshooting
// guide; Run produces the verdict for this installation.
type Check struct {
	ID      string
	Title   string
	Symptom string
	Fix     string
	Run     func(ctx context.Context, env *Env, c Check) []Result
}

// Run executes every check concurrently, each bounded by timeout, and
// returns results in the order of Checks.
func Run(ctx context.Context, env *Env, timeout time.Duration) []Result {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: timeout}
	}
	out := make([][]Result, len(Checks))
	var wg sync.WaitGroup
	for i, c := range Checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			out[i] = c.Run(cctx, env, c)
		})
	}
	wg.Wait()
	var flat []Result
	for _, rs := range out {
		flat = append(flat, rs...)
	}
	return flat
}

// Worst is the most severe status among results.
func Worst(rs []Result) Status {
	w := OK
	for _, r := range rs {
		if r.Status == Fail {
			return Fail
		}
		if r.Status == Warn {
			w = Warn
		}
	}
	return w
}

// ExitCode maps the worst status to truss doctor's exit code.
func ExitCode(rs []Result) int {
	switch Worst(rs) {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

func (c Check) result(status Status, evidence string) Result {
	r := Result{ID: c.ID, Title: c.Title, Status: status, Evidence: evidence}
	if status != OK {
		r.Fix = c.Fix
	}
	return r
}

func (c Check) resultFix(status Status, evidence, fix string) Result {
	r := c.result(status, evidence)
	if status != OK {
		r.Fix = fix
	}
	return r
}
