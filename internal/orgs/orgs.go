// Package orgs serves /api/orgs and /api/projects: Truss's own
// organizations and projects, whose roles are Keto tuples and nothing else.
//
// PostgreSQL (truss_internal.orgs, truss_internal.projects) keeps ids and
// names. Membership and roles are tuples of Keto's default Organization and
// Project namespaces (Truss's OPL, default.keto.ts) on objects
// "truss:<tenant-id>:<id>" (keto.OwnObject), which /api/keto cannot reach,
// and every gate is a Keto check of the caller's identity id: no role logic
// lives in Go or SQL.
//
// An organization belongs to the tenant (account) that created it, and its
// projects to the same tenant. Members are identity ids from any account:
// an identity sees the organizations it holds a role in through a reverse
// lookup of the Organization tuples with its id as subject, then a `view`
// check on each.
//
// Someone who may not `view` an organization or project gets 404, as if it
// did not exist; someone who may view it but lacks the permission an action
// needs gets 403 forbidden naming that permission.
package orgs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/keto"
)

// Routes (internal/server/routes.go):
//
//	POST   /api/orgs                          CreateOrg
//	GET    /api/orgs                          ListOrgs
//	GET    /api/orgs/{id}                     GetOrg             view
//	GET    /api/orgs/{id}/members             ListOrgMembers     view
//	PUT    /api/orgs/{id}/members             PutOrgMember       manage (delete for the owner role)
//	DELETE /api/orgs/{id}/members/{subject}   DeleteOrgMember    manage (delete for an owner)
//	POST   /api/orgs/{id}/projects            CreateProject      edit
//	GET    /api/orgs/{id}/projects            ListProjects       view
//	GET    /api/projects/{id}                 GetProject         view
//	GET    /api/projects/{id}/members         ListProjectMembers view
//	PUT    /api/projects/{id}/members         PutProjectMember   manage (delete for the owner role)
//	DELETE /api/projects/{id}/members/{subject} DeleteProjectMember manage (delete for an owner)

const (
	nsOrg     = "Organization"
	nsProject = "Project"
	maxName   = 200
	// checkConcurrency bounds the Keto checks of one request in flight.
	checkConcurrency = 8
)

// Roles and the Keto relations that hold them.
var (
	orgRoles     = map[string]string{"owner": "owners", "admin": "admins", "member": "members", "viewer": "viewers"}
	projectRoles = map[string]string{"owner": "owners", "editor": "editors", "viewer": "viewers"}
	// permissions are the OPL permissions reported to the caller.
	permissions = []string{"view", "edit", "manage", "delete"}
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Service holds the handlers' dependencies.
type Service struct {
	pool *pgxpool.Pool
	keto *keto.Service
	log  *slog.Logger
}

// New builds the service on Truss's Keto layer.
func New(pool *pgxpool.Pool, k *keto.Service, log *slog.Logger) *Service {
	return &Service{pool: pool, keto: k, log: log}
}

// Org is an organization as the API shows it.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TenantID  string    `json:"tenant_id"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Role is the caller's own role (a direct tuple), if any.
	Role string `json:"role,omitempty"`
	// Permissions are Keto's answers for the caller (GET /api/orgs/{id}).
	Permissions map[string]bool `json:"permissions,omitempty"`
}

// Member is one role holder.
type Member struct {
	Subject    string           `json:"subject,omitempty"`
	SubjectSet *keto.SubjectSet `json:"subject_set,omitempty"`
	Role       string           `json:"role"`
}

func principal(r *http.Request) (*auth.Principal, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok || p.IdentityID == "" || p.TenantID == "" {
		return nil, apierror.Unauthorized("Not signed in.")
	}
	return p, nil
}

func notFound(what string) error {
	return apierror.New(http.StatusNotFound, apierror.CodeNotFound, "No such "+what+".").
		WithHint("It does not exist, or you have no role in it.")
}

// target is an organization or project the request acts on.
type target struct {
	ns     string // Keto namespace
	object string // Keto object
	what   string // "organization" or "project"
}

// gate lets the request through when Keto says the caller has perm on t.
// A caller who may not even view t gets 404; one who may view it, 403
// naming the missing permission.
func (s *Service) gate(ctx context.Context, t target, perm, subject string) error {
	ok, err := s.keto.OwnCheck(ctx, t.ns, t.object, perm, subject)
	if err != nil || ok {
		return err
	}
	if perm != "view" {
		if ok, err = s.keto.OwnCheck(ctx, t.ns, t.object, "view", subject); err != nil {
			return err
		}
	}
	if !ok {
		return notFound(t.what)
	}
	return forbidden(t, perm)
}

func forbidden(t target, perm string) error {
	return apierror.New(http.StatusForbidden, apierror.CodeForbidden,
		fmt.Sprintf("You lack the %q permission on this %s.", perm, t.what)).
		WithHint("Roles are granted by the " + t.what + "'s owners and admins.").
		WithDetails(map[string]any{"permission": perm, "namespace": t.ns})
}

// checkAll asks Keto for several permissions at once.
func (s *Service) checkAll(ctx context.Context, t target, perms []string, subject string) (map[string]bool, error) {
	out := make(map[string]bool, len(perms))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, perm := range perms {
		wg.Go(func() {
			ok, err := s.keto.OwnCheck(ctx, t.ns, t.object, perm, subject)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out[perm] = ok
		})
	}
	wg.Wait()
	return out, firstErr
}

type nameBody struct {
	Name string `json:"name"`
}

func (b *nameBody) validate() error {
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" || len(b.Name) > maxName || strings.ContainsFunc(b.Name, isControl) {
		return httpjson.Invalid("Invalid field name.", map[string][]string{"name": {fmt.Sprintf("must be 1 to %d characters, no control characters", maxName)}})
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// subjectID validates an identity id (members are Kratos identities).
func subjectID(v, field string) (string, error) {
	if !uuidPattern.MatchString(v) {
		return "", httpjson.Invalid("Invalid field "+field+".", map[string][]string{field: {"must be an identity id (a UUID)"}})
	}
	return strings.ToLower(v), nil
}

func orgTarget(o *Org) target {
	return target{ns: nsOrg, object: keto.OwnObject(o.TenantID, o.ID), what: "organization"}
}

// loadOrg reads the organization of the path's {id}; unknown → 404.
func (s *Service) loadOrg(ctx context.Context, q pgxQuerier, id string, forUpdate bool) (*Org, error) {
	if !uuidPattern.MatchString(id) {
		return nil, notFound("organization")
	}
	sql := `SELECT id::text, tenant_id::text, name, created_by::text, created_at FROM truss_internal.orgs WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	var o Org
	err := q.QueryRow(ctx, sql, id).Scan(&o.ID, &o.TenantID, &o.Name, &o.CreatedBy, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("organization")
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}

type pgxQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CreateOrg answers POST /api/orgs {"name"}: 201 with the organization,
// in the caller's tenant, with the caller as its owner.
func (s *Service) CreateOrg(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	o := Org{Name: body.Name, TenantID: p.TenantID, CreatedBy: p.IdentityID, Role: "owner"}
	if err := tx.QueryRow(ctx, `INSERT INTO truss_internal.orgs (tenant_id, name, created_by) VALUES ($1, $2, $3)
		RETURNING id::text, created_at`, p.TenantID, o.Name, p.IdentityID).Scan(&o.ID, &o.CreatedAt); err != nil {
		return err
	}
	// The row commits only once Keto holds the owner: an organization never
	// exists without one.
	owner := keto.OwnTuple{Namespace: nsOrg, Object: orgTarget(&o).object, Relation: orgRoles["owner"], SubjectID: p.IdentityID}
	if err := s.keto.OwnPatch(ctx, []keto.OwnTuple{owner}, nil); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		_ = s.keto.OwnPatch(context.WithoutCancel(ctx), nil, []keto.OwnTuple{owner})
		return err
	}
	return httpjson.Write(w, http.StatusCreated, o)
}

// ListOrgs answers GET /api/orgs with the organizations the caller may
// view, from any tenant: a reverse lookup of the caller's Organization
// tuples, each confirmed by a `view` check.
func (s *Service) ListOrgs(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	tuples, err := s.keto.OwnList(ctx, keto.OwnFilter{Namespace: nsOrg, SubjectID: p.IdentityID})
	if err != nil {
		return err
	}
	type ref struct{ tenant, object string }
	roles := map[string]string{} // org id → strongest direct role
	refs := map[string]ref{}
	for _, t := range tuples {
		tenant, id, _ := keto.ParseOwnObject(t.Object)
		role := roleOf(orgRoles, t.Relation)
		if role == "" {
			continue
		}
		if cur, ok := roles[id]; !ok || rank(role) < rank(cur) {
			roles[id] = role
		}
		refs[id] = ref{tenant, t.Object}
	}
	// Confirm each with Keto's own answer (bounded concurrency).
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		visible  []string
		firstErr error
	)
	sem := make(chan struct{}, checkConcurrency)
	for id, rf := range refs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ok, err := s.keto.OwnCheck(ctx, nsOrg, rf.object, "view", p.IdentityID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if ok && uuidPattern.MatchString(id) {
				visible = append(visible, id)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	out := []Org{}
	if len(visible) > 0 {
		rows, err := s.pool.Query(ctx, `SELECT id::text, tenant_id::text, name, created_by::text, created_at
			FROM truss_internal.orgs WHERE id = ANY($1::uuid[]) ORDER BY created_at, id`, visible)
		if err != nil {
			return err
		}
		orgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Org, error) {
			var o Org
			err := row.Scan(&o.ID, &o.TenantID, &o.Name, &o.CreatedBy, &o.CreatedAt)
			return o, err
		})
		if err != nil {
			return err
		}
		for _, o := range orgs {
			// The tuple's tenant must be the row's: a tuple never names
			// another tenant's organization.
			if refs[o.ID].tenant != o.TenantID {
				continue
			}
			o.Role = roles[o.ID]
			out = append(out, o)
		}
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"organizations": out})
}

func roleOf(roles map[string]string, relation string) string {
	for role, rel := range roles {
		if rel == relation {
			return role
		}
	}
	return ""
}

// rank orders roles for display only (lower is stronger).
func rank(role string) int {
	return slices.Index([]string{"owner", "admin", "editor", "member", "viewer"}, role)
}

// GetOrg answers GET /api/orgs/{id} (view) with the caller's permissions.
func (s *Service) GetOrg(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	o, t, err := s.gatedOrg(r, p.IdentityID, "view")
	if err != nil {
		return err
	}
	if o.Permissions, err = s.checkAll(r.Context(), t, permissions, p.IdentityID); err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, o)
}

// gatedOrg loads the request's organization {id} and requires perm on it
// for caller (404 when the caller may not even view it).
func (s *Service) gatedOrg(r *http.Request, caller, perm string) (*Org, target, error) {
	o, err := s.loadOrg(r.Context(), s.pool, r.PathValue("id"), false)
	if err != nil {
		return nil, target{}, err
	}
	t := orgTarget(o)
	return o, t, s.gate(r.Context(), t, perm, caller)
}

// writeMember answers a role change: 201 when the role is new, 200 otherwise.
func writeMember(w http.ResponseWriter, created bool, m Member) error {
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return httpjson.Write(w, status, m)
}

// members lists the role holders of t (users and subject sets).
func (s *Service) members(ctx context.Context, t target, roles map[string]string) ([]Member, error) {
	tuples, err := s.keto.OwnList(ctx, keto.OwnFilter{Namespace: t.ns, Object: t.object})
	if err != nil {
		return nil, err
	}
	out := []Member{}
	for _, tp := range tuples {
		role := roleOf(roles, tp.Relation)
		if role == "" {
			continue
		}
		m := Member{Subject: tp.SubjectID, Role: role}
		if ss := tp.SubjectSet; ss != nil {
			_, id, _ := keto.ParseOwnObject(ss.Object)
			m.SubjectSet = &keto.SubjectSet{Namespace: ss.Namespace, Object: id, Relation: ss.Relation}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int {
		if d := rank(a.Role) - rank(b.Role); d != 0 {
			return d
		}
		return strings.Compare(a.Subject, b.Subject)
	})
	return out, nil
}

// ListOrgMembers answers GET /api/orgs/{id}/members (view).
func (s *Service) ListOrgMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	_, t, err := s.gatedOrg(r, p.IdentityID, "view")
	if err != nil {
		return err
	}
	ms, err := s.members(r.Context(), t, orgRoles)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"members": ms})
}

type memberBody struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
}

func (b *memberBody) validate(roles map[string]string) error {
	fields := map[string][]string{}
	if !uuidPattern.MatchString(b.Subject) {
		fields["subject"] = []string{"must be an identity id (a UUID)"}
	}
	if _, ok := roles[b.Role]; !ok {
		names := make([]string, 0, len(roles))
		for k := range roles {
			names = append(names, k)
		}
		slices.SortFunc(names, func(a, b string) int { return rank(a) - rank(b) })
		fields["role"] = []string{"must be one of " + strings.Join(names, ", ")}
	}
	if len(fields) > 0 {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return httpjson.Invalid("Invalid field "+strings.Join(keys, ", ")+".", fields)
	}
	b.Subject = strings.ToLower(b.Subject)
	return nil
}

// setRole makes subject hold exactly role on t (role "" removes every role
// it holds), in one Keto transaction. Granting or taking away "owner" needs
// the `delete` permission (owners only, per the OPL), so a manager cannot
// make itself an owner; when lastOwner is set, the last owner cannot go.
// It reports whether the subject held no role before.
func (s *Service) setRole(ctx context.Context, t target, roles map[string]string, subject, role, caller string, lastOwner bool) (bool, error) {
	current, err := s.keto.OwnList(ctx, keto.OwnFilter{Namespace: t.ns, Object: t.object, SubjectID: subject})
	if err != nil {
		return false, err
	}
	var del []keto.OwnTuple
	wasOwner, has, held := false, false, false
	for _, tp := range current {
		r := roleOf(roles, tp.Relation)
		if r == "" {
			continue
		}
		held = true
		if r == role {
			has = true
			continue
		}
		wasOwner = wasOwner || r == "owner"
		del = append(del, tp)
	}
	if len(del) == 0 && (has || role == "") {
		return false, nil // nothing to change
	}
	if wasOwner || (role == "owner" && !has) {
		if err := s.gate(ctx, t, "delete", caller); err != nil {
			return false, err
		}
	}
	if wasOwner && lastOwner {
		owners, err := s.keto.OwnList(ctx, keto.OwnFilter{Namespace: t.ns, Object: t.object, Relation: roles["owner"]})
		if err != nil {
			return false, err
		}
		if len(owners) <= 1 {
			return false, apierror.New(http.StatusConflict, "last_owner",
				"This is the "+t.what+"'s last owner; it cannot be removed or demoted.").
				WithHint("Make another member an owner first.")
		}
	}
	var ins []keto.OwnTuple
	if role != "" && !has {
		ins = append(ins, keto.OwnTuple{Namespace: t.ns, Object: t.object, Relation: roles[role], SubjectID: subject})
	}
	return !held, s.keto.OwnPatch(ctx, ins, del)
}

// changeOrgMember runs setRole under a row lock on the organization, so
// concurrent changes cannot remove its owners one by one past the last.
func (s *Service) changeOrgMember(ctx context.Context, id, subject, role, caller string) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	o, err := s.loadOrg(ctx, tx, id, true)
	if err != nil {
		return false, err
	}
	t := orgTarget(o)
	if err := s.gate(ctx, t, "manage", caller); err != nil {
		return false, err
	}
	created, err := s.setRole(ctx, t, orgRoles, subject, role, caller, true)
	if err != nil {
		return false, err
	}
	return created, tx.Commit(ctx)
}

// PutOrgMember answers PUT /api/orgs/{id}/members {"subject", "role"}
// (manage): the identity then holds exactly that role (201 when it had
// none, 200 otherwise).
func (s *Service) PutOrgMember(w http.ResponseWriter, r *http.Request) error {
	return putMember(w, r, orgRoles, s.orgMemberChange)
}

// DeleteOrgMember answers DELETE /api/orgs/{id}/members/{subject}
// (manage): 204, whether or not the identity held a role.
func (s *Service) DeleteOrgMember(w http.ResponseWriter, r *http.Request) error {
	return deleteMember(w, r, s.orgMemberChange)
}

func (s *Service) orgMemberChange(r *http.Request, caller, subject, role string) (bool, error) {
	return s.changeOrgMember(r.Context(), r.PathValue("id"), subject, role, caller)
}

// memberChange gives subject role ("": no role) on the organization or
// project the request names, if caller may manage it; created reports that
// the subject held no role before.
type memberChange func(r *http.Request, caller, subject, role string) (created bool, err error)

// putMember answers PUT .../members {"subject", "role"}: the body is
// checked against roles before change runs.
func putMember(w http.ResponseWriter, r *http.Request, roles map[string]string, change memberChange) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var body memberBody
	if err := httpjson.Decode(r, &body); err != nil {
		return err
	}
	if err := body.validate(roles); err != nil {
		return err
	}
	created, err := change(r, p.IdentityID, body.Subject, body.Role)
	if err != nil {
		return err
	}
	return writeMember(w, created, Member{Subject: body.Subject, Role: body.Role})
}

// deleteMember answers DELETE .../members/{subject}: 204.
func deleteMember(w http.ResponseWriter, r *http.Request, change memberChange) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	subject, err := subjectID(r.PathValue("subject"), "subject")
	if err != nil {
		return err
	}
	if _, err := change(r, p.IdentityID, subject, ""); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
