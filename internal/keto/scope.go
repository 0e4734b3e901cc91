package keto

import (
	"net/http"
	"slices"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/keto/opl"
)

// scope is one request's view of Keto: its tenant, the prefix of every
// object the tenant owns, and the tenant's model.
type scope struct {
	principal *auth.Principal
	tenant    string
	prefix    string
	model     *Model
}

// Model is a tenant's permission model as the API sees it.
type Model struct {
	// Version is the active version (0: never changed, Truss's default).
	Version int
	// OPL is the tenant's own source ("" for the default model).
	OPL string
	doc *opl.Doc
	// names are the namespaces the tenant may use, sorted.
	names  []string
	byName map[string]*nsInfo
	byKeto map[string]*nsInfo
}

// nsInfo is one namespace of a tenant's model.
type nsInfo struct {
	visible string // what the tenant calls it
	keto    string // what Keto calls it
	custom  bool
	class   *opl.Class
}

// buildModel combines Truss's default namespaces with a tenant's own
// classes (doc may be nil); a tenant class named like a default replaces it
// for that tenant.
func buildModel(tenant string, version int, src string, doc *opl.Doc) *Model {
	m := &Model{Version: version, OPL: src, doc: doc, byName: map[string]*nsInfo{}, byKeto: map[string]*nsInfo{}}
	for i := range opl.Default.Classes {
		c := &opl.Default.Classes[i]
		if opl.Visible(c.Name) {
			m.byName[c.Name] = &nsInfo{visible: c.Name, keto: c.Name, class: c}
		}
	}
	if doc != nil {
		for i := range doc.Classes {
			c := &doc.Classes[i]
			m.byName[c.Name] = &nsInfo{visible: c.Name, keto: opl.TenantNamespace(tenant, c.Name), custom: true, class: c}
		}
	}
	for name, ns := range m.byName {
		m.names = append(m.names, name)
		m.byKeto[ns.keto] = ns
	}
	slices.Sort(m.names)
	return m
}

// scopeOf resolves the caller's tenant and model. Handlers run behind
// auth.Require, so a principal is always there.
func (s *Service) scopeOf(r *http.Request) (*scope, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok || p.TenantID == "" {
		return nil, apierror.Unauthorized("Not signed in.")
	}
	m, err := s.model(r.Context(), p.TenantID)
	if err != nil {
		return nil, err
	}
	return &scope{principal: p, tenant: p.TenantID, prefix: p.TenantID + ":", model: m}, nil
}
