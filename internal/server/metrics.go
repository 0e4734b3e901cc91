package server

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trussdev/truss/internal/health"
)

// metrics is a private registry, so two servers in one test process never
// collide on global collectors.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	depUp     *prometheus.GaugeVec

	// series caches the counter and histogram of each (method, route,
	// status): looking them up in the vectors hashes the labels and takes
	// a lock on every request. At most maxSeriesCached entries; past that
	// requests use the vectors directly.
	series      sync.Map // seriesKey -> *seriesOf
	seriesCount atomic.Int64
}

type seriesKey struct {
	method, route string
	status        int
}

type seriesOf struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

const maxSeriesCached = 1000

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "truss_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "truss_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		depUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "truss_dependency_up", Help: "1 if the dependency answered its last health check, 0 if not.",
		}, []string{"dependency"}),
	}
	m.reg.MustRegister(m.requests, m.durations, m.depUp,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := seriesKey{method, route, status}
	v, ok := m.series.Load(k)
	if !ok {
		so := &seriesOf{m.requests.WithLabelValues(method, route, strconv.Itoa(status)), m.durations.WithLabelValues(route)}
		if m.seriesCount.Load() < maxSeriesCached {
			if _, loaded := m.series.LoadOrStore(k, so); !loaded {
				m.seriesCount.Add(1)
			}
		}
		v = so
	}
	so := v.(*seriesOf)
	so.requests.Inc()
	so.duration.Observe(d.Seconds())
}

func (m *metrics) observeDependency(name string, r health.Result) {
	if r.Status == health.Disabled {
		return
	}
	v := 0.0
	if r.Status == health.Up {
		v = 1
	}
	m.depUp.WithLabelValues(name).Set(v)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
