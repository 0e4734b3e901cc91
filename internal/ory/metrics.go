package ory

import (
	"net/http"
	"regexp"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Requests counts every call Truss makes to an Ory API, by service, API,
// path (ids replaced by :id) and status, so an operator can see how much
// load Truss puts on Kratos (e.g. how many whoami calls the session cache
// saves).
var requestsDesc = prometheus.CounterOpts{
	Name: "truss_ory_requests_total",
	Help: "Requests from Truss to Ory APIs by service, api, path and status.",
}

var idPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

type countingTransport struct {
	next    http.RoundTripper
	counter *prometheus.CounterVec
	labels  func(*http.Request) (service, api string)
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	status := "error"
	if resp != nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	service, api := t.labels(r)
	t.counter.WithLabelValues(service, api, idPattern.ReplaceAllString(r.URL.Path, ":id"), status).Inc()
	return resp, err
}
