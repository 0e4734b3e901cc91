package keto

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5"
	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
)

// Truss's own use of Keto: the roles of a tenant's members
// (truss_internal.tenant_members: owner, admin, member) are mirrored as
// tuples of the TrussTenant namespace (default.keto.ts), and Keto decides
// who may change the tenant's permission model (TrussTenant#manage).
// Tenants cannot reach TrussTenant through /api/keto: it is not in any
// tenant's model.
const tenantNamespace = "TrussTenant"

var roleRelations = map[string]string{"owner": "owners", "admin": "admins", "member": "members"}

// requireModelAdmin allows the caller to change its tenant's model only if
// Keto says it may manage the tenant.
func (s *Service) requireModelAdmin(ctx context.Context, sc *scope) error {
	if err := s.syncRoles(ctx, sc.tenant); err != nil {
		return err
	}
	id := sc.principal.IdentityID
	ok, err := s.check(ctx, nil, client.Relationship{Namespace: tenantNamespace, Object: sc.tenant, Relation: "manage", SubjectId: &id}, nil)
	if err != nil {
		return err
	}
	if !ok {
		return apierror.New(http.StatusForbidden, apierror.CodeForbidden,
			"Only the tenant's owners and admins may change its permission model.").
			WithHint("Ask an owner or admin of the tenant.")
	}
	return nil
}

// syncRoles writes the tenant's member roles into Keto, once per tenant
// and process (missing tuples only; PostgreSQL stays the source of truth).
func (s *Service) syncRoles(ctx context.Context, tenant string) error {
	if _, done := s.rolesSynced.Load(tenant); done {
		return nil
	}
	rows, err := s.pool.Query(ctx, `SELECT identity_id::text, role FROM truss_internal.tenant_members WHERE tenant_id = $1`, tenant)
	if err != nil {
		return err
	}
	members, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]string, error) {
		var m [2]string
		err := row.Scan(&m[0], &m[1])
		return m, err
	})
	if err != nil {
		return err
	}
	var missing []client.Relationship
	for _, m := range members {
		rel, ok := roleRelations[m[1]]
		if !ok {
			continue
		}
		id := m[0]
		t := client.Relationship{Namespace: tenantNamespace, Object: tenant, Relation: rel, SubjectId: &id}
		exists, err := s.exists(ctx, nil, t)
		if err != nil {
			return err
		}
		if !exists {
			missing = append(missing, t)
		}
	}
	if err := s.patchRaw(ctx, nil, missing, nil); err != nil {
		return err
	}
	s.rolesSynced.Store(tenant, true)
	return nil
}
