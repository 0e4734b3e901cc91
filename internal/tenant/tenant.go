// Package tenant owns Truss's tenants: every account is one, created on its
// first authenticated request.
package tenant

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tenant is the unit of isolation: every row a user can reach belongs to one.
type Tenant struct {
	ID     string
	Name   string
	IsDemo bool
}

// Ensure returns the tenant owned by identityID, creating it on first use.
// Concurrent first requests all get the same tenant: the insert is
// ON CONFLICT DO NOTHING on the unique owner, followed by a read.
func Ensure(ctx context.Context, pool *pgxpool.Pool, identityID, name string) (Tenant, error) {
	var t Tenant
	err := pool.QueryRow(ctx, `SELECT id, name, is_demo FROM truss_internal.tenants WHERE owner_identity_id = $1`,
		identityID).Scan(&t.ID, &t.Name, &t.IsDemo)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return t, err
	}
	if name == "" {
		name = "Personal"
	}
	_, err = pool.Exec(ctx, `
		WITH t AS (
			INSERT INTO truss_internal.tenants (name, owner_identity_id) VALUES ($1, $2)
			ON CONFLICT (owner_identity_id) DO NOTHING RETURNING id
		)
		INSERT INTO truss_internal.tenant_members (tenant_id, identity_id, role)
		SELECT id, $2, 'owner' FROM t`, name, identityID)
	if err != nil {
		return t, err
	}
	err = pool.QueryRow(ctx, `SELECT id, name, is_demo FROM truss_internal.tenants WHERE owner_identity_id = $1`,
		identityID).Scan(&t.ID, &t.Name, &t.IsDemo)
	return t, err
}
