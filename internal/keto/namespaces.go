package keto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/trussdev/truss/internal/health"
	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/keto/opl"
	"github.com/trussdev/truss/internal/version"
)

// Routes (internal/server/routes.go):
//
//	GET /api/keto/namespaces  Namespaces
//	GET /api/keto/health      Health

// NamespaceInfo describes one namespace of the caller's model.
type NamespaceInfo struct {
	Name        string         `json:"name"`
	Source      string         `json:"source"` // "default" or "custom"
	Relations   []opl.Relation `json:"relations"`
	Permissions []string       `json:"permissions"`
	// Loaded says whether Keto currently knows the namespace (a custom
	// model is loaded a moment after it is saved).
	Loaded bool `json:"loaded"`
}

type namespacesResponse struct {
	ModelVersion int             `json:"model_version"`
	Namespaces   []NamespaceInfo `json:"namespaces"`
}

// Namespaces answers GET /api/keto/namespaces: the namespaces the caller's
// tenant may use, with their relations (writable) and permissions
// (computed), from Truss's default model and the tenant's own.
func (s *Service) Namespaces(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	res, resp, err := s.read.API.RelationshipAPI.ListRelationshipNamespaces(r.Context()).Execute()
	if err := sc.fromKetoCall(s.read, err, resp); err != nil {
		return err
	}
	loaded := map[string]bool{}
	for _, ns := range res.Namespaces {
		loaded[ns.GetName()] = true
	}
	out := namespacesResponse{ModelVersion: sc.model.Version, Namespaces: []NamespaceInfo{}}
	for _, name := range sc.model.names {
		ns := sc.model.byName[name]
		src := "default"
		if ns.custom {
			src = "custom"
		}
		out.Namespaces = append(out.Namespaces, NamespaceInfo{Name: name, Source: src, Relations: ns.class.Relations,
			Permissions: ns.class.Permissions, Loaded: loaded[ns.keto]})
	}
	return httpjson.Write(w, http.StatusOK, out)
}

// Health answers GET /api/keto/health: Keto's read and write APIs
// (required), its OPL API and the namespaces file (needed for custom
// models only). 200 when the required ones are up, 503 otherwise.
func (s *Service) Health(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.scopeOf(r); err != nil {
		return err
	}
	checks := []health.Check{health.OryCheck(s.read), health.OryCheck(s.write),
		{Name: "keto_opl", Disabled: !s.opl.Enabled(), Probe: s.probeOPL}, s.fileCheck()}
	if s.opl.Enabled() {
		checks[2].Target = s.opl.URL.String()
	}
	c := health.Checker{Checks: checks, Timeout: min(s.cfg.OryTimeout, 3*time.Second), Version: version.Version}
	rep := c.Run(r.Context())
	status := http.StatusOK
	if rep.Status == "down" {
		status = http.StatusServiceUnavailable
	}
	return httpjson.Write(w, status, rep)
}

func (s *Service) probeOPL(ctx context.Context) (string, error) {
	errs, err := s.checkSyntax(ctx, "class User implements Namespace {}")
	if err == nil && len(errs) > 0 {
		err = errors.New("Keto's OPL check rejects a trivial model: " + errs[0].Message)
	}
	return "", err
}

// fileCheck reports the namespaces file: present, writable, and whether
// Keto has loaded its current revision ("version" holds "revision N
// loaded" or "revision N, Keto has M").
func (s *Service) fileCheck() health.Check {
	c := health.Check{Name: "keto_namespaces_file", Disabled: s.nsFile == nil}
	if s.nsFile == nil {
		return c
	}
	c.Target = s.nsFile.path
	c.Probe = func(ctx context.Context) (string, error) {
		f, err := os.OpenFile(s.nsFile.path, os.O_WRONLY, 0)
		if err != nil {
			return "", fmt.Errorf("KETO_NAMESPACES_FILE: %w", err)
		}
		f.Close()
		cur, err := s.nsFile.read()
		if err != nil {
			return "", err
		}
		loaded, err := s.loadedRevision(ctx)
		if err != nil {
			return "", err
		}
		if loaded < cur.Revision {
			return "", fmt.Errorf("Keto has not loaded revision %d of the file (it shows %d): is keto.yml's namespaces.location this file?", cur.Revision, loaded)
		}
		return fmt.Sprintf("revision %d loaded", cur.Revision), nil
	}
	return c
}
