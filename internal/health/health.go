// Package health answers GET /api/health/live and GET /api/health: whether
// Truss runs, and whether every service it depends on (PostgreSQL, Ory
// Kratos/Keto/Hydra, SMTP) answers, how fast, and in which version.
package health

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trussdev/truss/internal/apierror"
)

// Status of one dependency.
type Status string

const (
	Up       Status = "up"
	Down     Status = "down"
	Disabled Status = "disabled"
)

// Check probes one dependency and returns its version ("" if unknown).
type Check struct {
	Name     string
	Required bool
	// Target says what was probed (a URL or host:port), never a secret.
	Target string
	// Disabled checks are reported but never probed.
	Disabled bool
	Probe    func(ctx context.Context) (version string, err error)
}

// Result is one dependency in the report.
type Result struct {
	Status    Status  `json:"status"`
	Required  bool    `json:"required"`
	Target    string  `json:"target,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
	Version   string  `json:"version,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Report is the body of GET /api/health.
type Report struct {
	Status       string            `json:"status"` // ok, degraded (optional dependency down) or down
	Version      string            `json:"version"`
	Failing      []string          `json:"failing,omitempty"`
	Error        *apierror.Error   `json:"error,omitempty"`
	Dependencies map[string]Result `json:"dependencies"`
}

// Checker runs all checks concurrently, each under its own timeout.
type Checker struct {
	Checks  []Check
	Timeout time.Duration
	Version string
	// Observe, if set, receives each result (for Prometheus gauges).
	Observe func(name string, r Result)
}

// Run probes every dependency and builds the report.
func (c *Checker) Run(ctx context.Context) Report {
	results := make(map[string]Result, len(c.Checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, chk := range c.Checks {
		wg.Go(func() {
			r := c.runOne(ctx, chk)
			mu.Lock()
			results[chk.Name] = r
			mu.Unlock()
			if c.Observe != nil {
				c.Observe(chk.Name, r)
			}
		})
	}
	wg.Wait()
	return c.summarize(results)
}

func (c *Checker) runOne(ctx context.Context, chk Check) Result {
	r := Result{Required: chk.Required, Target: chk.Target}
	if chk.Disabled {
		r.Status = Disabled
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	start := time.Now()
	version, err := chk.Probe(ctx)
	r.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	r.Version = version
	r.Status = Up
	if err != nil {
		r.Status = Down
		r.Error = err.Error()
	}
	return r
}

func (c *Checker) summarize(results map[string]Result) Report {
	rep := Report{Status: "ok", Version: c.Version, Dependencies: results}
	var optionalDown bool
	for name, r := range results {
		if r.Status != Down {
			continue
		}
		if r.Required {
			rep.Failing = append(rep.Failing, name)
		} else {
			optionalDown = true
		}
	}
	sort.Strings(rep.Failing)
	switch {
	case len(rep.Failing) > 0:
		rep.Status = "down"
		rep.Error = apierror.New(http.StatusServiceUnavailable, "dependencies_down",
			"Required services are down: "+strings.Join(rep.Failing, ", ")+".").
			WithHint("See each dependency's error below; `truss doctor` explains the fix.")
	case optionalDown:
		rep.Status = "degraded"
	}
	return rep
}
