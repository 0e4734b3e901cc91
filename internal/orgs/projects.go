package orgs

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/keto"
)

// Project is a project as the API shows it.
type Project struct {
	ID          string          `json:"id"`
	OrgID       string          `json:"org_id"`
	Name        string          `json:"name"`
	TenantID    string          `json:"tenant_id"`
	CreatedBy   string          `json:"created_by"`
	CreatedAt   time.Time       `json:"created_at"`
	Permissions map[string]bool `json:"permissions,omitempty"`
}

func projectTarget(p *Project) target {
	return target{ns: nsProject, object: keto.OwnObject(p.TenantID, p.ID), what: "project"}
}

// gatedProject loads the request's project {id} and requires perm on it.
func (s *Service) gatedProject(r *http.Request, caller, perm string) (*Project, target, error) {
	p, err := s.loadProject(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, target{}, err
	}
	t := projectTarget(p)
	return p, t, s.gate(r.Context(), t, perm, caller)
}

func (s *Service) loadProject(ctx context.Context, id string) (*Project, error) {
	if !uuidPattern.MatchString(id) {
		return nil, notFound("project")
	}
	var p Project
	err := s.pool.QueryRow(ctx, `SELECT p.id::text, p.org_id::text, p.name, o.tenant_id::text, p.created_by::text, p.created_at
		FROM truss_internal.projects p JOIN truss_internal.orgs o ON o.id = p.org_id WHERE p.id = $1`, id).
		Scan(&p.ID, &p.OrgID, &p.Name, &p.TenantID, &p.CreatedBy, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("project")
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateProject answers POST /api/orgs/{id}/projects {"name"} (edit on the
// organization): 201 with the project. Keto gets the project's
// organization (its owners and admins manage it, whoever views the
// organization views it) and the organization's members as its editors.
func (s *Service) CreateProject(w http.ResponseWriter, r *http.Request) error {
	pr, err := principal(r)
	if err != nil {
		return err
	}
	var body nameBody
	if err := httpjson.Decode(r, &body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	ctx := r.Context()
	o, err := s.loadOrg(ctx, s.pool, r.PathValue("id"), false)
	if err != nil {
		return err
	}
	ot := orgTarget(o)
	if err := s.gate(ctx, ot, "edit", pr.IdentityID); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	p := Project{OrgID: o.ID, Name: body.Name, TenantID: o.TenantID, CreatedBy: pr.IdentityID}
	if err := tx.QueryRow(ctx, `INSERT INTO truss_internal.projects (org_id, name, created_by) VALUES ($1, $2, $3)
		RETURNING id::text, created_at`, o.ID, p.Name, pr.IdentityID).Scan(&p.ID, &p.CreatedAt); err != nil {
		return err
	}
	obj := projectTarget(&p).object
	tuples := []keto.OwnTuple{
		{Namespace: nsProject, Object: obj, Relation: "organization", SubjectSet: &keto.SubjectSet{Namespace: nsOrg, Object: ot.object}},
		{Namespace: nsProject, Object: obj, Relation: "editors", SubjectSet: &keto.SubjectSet{Namespace: nsOrg, Object: ot.object, Relation: "members"}},
	}
	if err := s.keto.OwnPatch(ctx, tuples, nil); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		_ = s.keto.OwnPatch(context.WithoutCancel(ctx), nil, tuples)
		return err
	}
	return httpjson.Write(w, http.StatusCreated, p)
}

// ListProjects answers GET /api/orgs/{id}/projects (view on the
// organization; by the OPL that is view on each of its projects).
func (s *Service) ListProjects(w http.ResponseWriter, r *http.Request) error {
	pr, err := principal(r)
	if err != nil {
		return err
	}
	o, _, err := s.gatedOrg(r, pr.IdentityID, "view")
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(r.Context(), `SELECT id::text, name, created_by::text, created_at FROM truss_internal.projects
		WHERE org_id = $1 ORDER BY created_at, id`, o.ID)
	if err != nil {
		return err
	}
	projects, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Project, error) {
		p := Project{OrgID: o.ID, TenantID: o.TenantID}
		err := row.Scan(&p.ID, &p.Name, &p.CreatedBy, &p.CreatedAt)
		return p, err
	})
	if err != nil {
		return err
	}
	if projects == nil {
		projects = []Project{}
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"projects": projects})
}

// GetProject answers GET /api/projects/{id} (view) with the caller's
// permissions.
func (s *Service) GetProject(w http.ResponseWriter, r *http.Request) error {
	pr, err := principal(r)
	if err != nil {
		return err
	}
	p, t, err := s.gatedProject(r, pr.IdentityID, "view")
	if err != nil {
		return err
	}
	if p.Permissions, err = s.checkAll(r.Context(), t, permissions, pr.IdentityID); err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, p)
}

// ListProjectMembers answers GET /api/projects/{id}/members (view): the
// project's own role holders (a whole organization's members appear as a
// subject_set).
func (s *Service) ListProjectMembers(w http.ResponseWriter, r *http.Request) error {
	pr, err := principal(r)
	if err != nil {
		return err
	}
	_, t, err := s.gatedProject(r, pr.IdentityID, "view")
	if err != nil {
		return err
	}
	ms, err := s.members(r.Context(), t, projectRoles)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"members": ms})
}

// PutProjectMember answers PUT /api/projects/{id}/members {"subject",
// "role": owner|editor|viewer} (manage on the project, which the
// organization's owners and admins have by inheritance).
func (s *Service) PutProjectMember(w http.ResponseWriter, r *http.Request) error {
	return putMember(w, r, projectRoles, s.projectMemberChange)
}

// DeleteProjectMember answers DELETE /api/projects/{id}/members/{subject}
// (manage): 204.
func (s *Service) DeleteProjectMember(w http.ResponseWriter, r *http.Request) error {
	return deleteMember(w, r, s.projectMemberChange)
}

func (s *Service) projectMemberChange(r *http.Request, caller, subject, role string) (bool, error) {
	_, t, err := s.gatedProject(r, caller, "manage")
	if err != nil {
		return false, err
	}
	return s.setRole(r.Context(), t, projectRoles, subject, role, caller, false)
}
