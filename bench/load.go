//go:build bench

package bench

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// result summarises one load run.
type result struct {
	name     string
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
	statuses map[int]int
	cpu      cpuSample // used during the run: this process, PostgreSQL
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// perRequest is CPU time per request.
func (r result) perRequest(d time.Duration) time.Duration { return d / time.Duration(r.requests) }

func (r result) String() string {
	return fmt.Sprintf("%-34s %7.0f req/s   p50 %-9s p99 %-9s CPU/request: Go process %-7s PostgreSQL %-7s statuses %v",
		r.name, r.rps(), r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
		r.perRequest(r.cpu.self).Round(time.Microsecond), r.perRequest(r.cpu.postgres).Round(time.Microsecond), r.statuses)
}

// load sends n requests built by mk from `workers` goroutines. Bounded in
// count and time, loopback only.
func load(name string, n, workers int, client *http.Client, mk func() *http.Request) result {
	lat := make([]time.Duration, n)
	statuses := make([]int, n)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	cpu0 := sampleCPU()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := client.Do(mk())
				lat[i] = time.Since(t0)
				if err == nil {
					statuses[i] = resp.StatusCode
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := sampleCPU().sub(cpu0)
	slices.Sort(lat)
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	return result{name: name, requests: n, elapsed: elapsed, p50: lat[n/2], p99: lat[n*99/100], statuses: counts, cpu: cpu}
}
