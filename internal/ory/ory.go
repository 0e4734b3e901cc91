// Package ory holds Truss's typed clients for Ory Kratos, Keto and Hydra
// (the official github.com/ory/client-go SDK) and turns their failures into
// API errors that name the service, the URL tried and the variable that sets
// it, so a self-hoster can tell "Kratos is down" from "Truss is broken".
package ory

import (
	"net/http"
	"net/url"
	"time"

	client "github.com/ory/client-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trussdev/truss/internal/config"
)

// Endpoint is one Ory API (a server has a public and an admin one).
type Endpoint struct {
	// Service is the server: "kratos", "keto" or "hydra".
	Service string
	// Role says which of its APIs: "public", "admin", "read" or "write".
	Role string
	// EnvVar is the variable that configures URL.
	EnvVar string
	// URL is nil when the endpoint is disabled (Hydra without HYDRA_ADMIN_URL).
	URL *url.URL
	// API is the SDK client bound to URL; nil when disabled.
	API *client.APIClient
	// HTTP is the client with Truss's timeout, for calls the SDK lacks.
	HTTP *http.Client
}

// Name is how logs and errors call the endpoint, e.g. "kratos public".
func (e *Endpoint) Name() string { return e.Service + " " + e.Role }

// Enabled reports whether the endpoint is configured.
func (e *Endpoint) Enabled() bool { return e.URL != nil }

// Clients is the one place Truss's Ory clients live.
type Clients struct {
	KratosPublic *Endpoint
	KratosAdmin  *Endpoint
	KetoRead     *Endpoint
	KetoWrite    *Endpoint
	HydraPublic  *Endpoint
	HydraAdmin   *Endpoint
	// Requests counts calls to Ory (register it with Prometheus).
	Requests *prometheus.CounterVec
}

// All lists every endpoint in a stable order.
func (c *Clients) All() []*Endpoint {
	return []*Endpoint{c.KratosPublic, c.KratosAdmin, c.KetoRead, c.KetoWrite, c.HydraPublic, c.HydraAdmin}
}

// New builds the clients from the configuration. Each call times out after
// cfg.OryTimeout, so a hung Ory server produces a 503, never a hung request.
func New(cfg config.Config) *Clients {
	c := &Clients{Requests: prometheus.NewCounterVec(requestsDesc, []string{"service", "api", "path", "status"})}
	hosts := map[string][2]string{} // host:port → service, api
	base := &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	httpClient := &http.Client{
		Timeout: cfg.OryTimeout,
		Transport: countingTransport{next: base, counter: c.Requests, labels: func(r *http.Request) (string, string) {
			l := hosts[r.URL.Host]
			return l[0], l[1]
		}},
	}
	ep := func(service, role, env string, u *url.URL) *Endpoint {
		if u != nil {
			hosts[u.Host] = [2]string{service, role}
		}
		e := &Endpoint{Service: service, Role: role, EnvVar: env, URL: u, HTTP: httpClient}
		if u != nil {
			sc := client.NewConfiguration()
			sc.Servers = client.ServerConfigurations{{URL: u.String()}}
			sc.HTTPClient = httpClient
			sc.UserAgent = "truss"
			e.API = client.NewAPIClient(sc)
		}
		return e
	}
	c.KratosPublic = ep("kratos", "public", "KRATOS_PUBLIC_URL", cfg.KratosPublicURL)
	c.KratosAdmin = ep("kratos", "admin", "KRATOS_ADMIN_URL", cfg.KratosAdminURL)
	c.KetoRead = ep("keto", "read", "KETO_READ_URL", cfg.KetoReadURL)
	c.KetoWrite = ep("keto", "write", "KETO_WRITE_URL", cfg.KetoWriteURL)
	c.HydraPublic = ep("hydra", "public", "HYDRA_PUBLIC_URL", cfg.HydraPublicURL)
	c.HydraAdmin = ep("hydra", "admin", "HYDRA_ADMIN_URL", cfg.HydraAdminURL)
	return c
}
