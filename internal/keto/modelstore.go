package keto

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/apierror"
)

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ModelVersion is one entry of a tenant's model history.
type ModelVersion struct {
	Version      int       `json:"version"`
	OPL          *string   `json:"opl,omitempty"`
	Namespaces   []string  `json:"namespaces"`
	Default      bool      `json:"default"`
	CreatedBy    *string   `json:"created_by,omitempty"`
	RestoredFrom *int      `json:"restored_from,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	Active       bool      `json:"active"`
}

// activeModel is a tenant's newest version (0 and "" when it has none).
func activeModel(ctx context.Context, q querier, tenant string) (int, string, error) {
	var v int
	var src string
	err := q.QueryRow(ctx, `SELECT version, opl FROM truss_internal.keto_models
		WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`, tenant).Scan(&v, &src)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	return v, src, err
}

// listVersions returns the history, newest first, without the sources.
func (s *Service) listVersions(ctx context.Context, tenant string) ([]ModelVersion, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, namespaces, opl = '', created_by::text, restored_from, created_at
		FROM truss_internal.keto_models WHERE tenant_id = $1 ORDER BY version DESC`, tenant)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ModelVersion, error) {
		var v ModelVersion
		err := row.Scan(&v.Version, &v.Namespaces, &v.Default, &v.CreatedBy, &v.RestoredFrom, &v.CreatedAt)
		return v, err
	})
	if len(out) > 0 {
		out[0].Active = true
	}
	return out, err
}

// getVersion returns one version with its source.
func (s *Service) getVersion(ctx context.Context, tenant string, version int) (ModelVersion, error) {
	var v ModelVersion
	var src string
	err := s.pool.QueryRow(ctx, `SELECT version, opl, namespaces, created_by::text, restored_from, created_at,
			version = (SELECT max(version) FROM truss_internal.keto_models WHERE tenant_id = $1)
		FROM truss_internal.keto_models WHERE tenant_id = $1 AND version = $2`, tenant, version).
		Scan(&v.Version, &src, &v.Namespaces, &v.CreatedBy, &v.RestoredFrom, &v.CreatedAt, &v.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, apierror.New(http.StatusNotFound, "model_version_not_found", "This tenant has no model version "+itoa(version)+".").
			WithHint("GET /api/keto/model/versions lists them.")
	}
	v.OPL, v.Default = &src, src == ""
	return v, err
}

// lockTenantModel serialises, until tx ends, everything that changes a
// tenant's model or its section of the namespaces file, across instances.
func lockTenantModel(ctx context.Context, tx pgx.Tx, tenant string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('truss.keto_models:' || $1, 0))`, tenant)
	return err
}

// insertVersion appends a version inside tx, serialised per tenant.
func insertVersion(ctx context.Context, tx pgx.Tx, tenant, src string, namespaces []string, by string, restoredFrom *int) (int, error) {
	if err := lockTenantModel(ctx, tx, tenant); err != nil {
		return 0, err
	}
	if namespaces == nil {
		namespaces = []string{}
	}
	var v int
	err := tx.QueryRow(ctx, `INSERT INTO truss_internal.keto_models (tenant_id, version, opl, namespaces, created_by, restored_from)
		SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 FROM truss_internal.keto_models WHERE tenant_id = $1
		RETURNING version`, tenant, src, namespaces, nullUUID(by), restoredFrom).Scan(&v)
	return v, err
}

func nullUUID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
