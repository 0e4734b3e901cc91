-- +goose Up
-- Truss's own organizations and projects (internal/orgs). PostgreSQL keeps
-- only ids and names: who may do what is Keto's alone (tuples of the
-- Organization and Project namespaces on "truss:<tenant-id>:<id>"
-- objects). An organization belongs to the tenant (account) that created
-- it; its members may come from any account.
CREATE TABLE truss_internal.orgs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES truss_internal.tenants(id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orgs_tenant_idx ON truss_internal.orgs (tenant_id);

CREATE TABLE truss_internal.projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES truss_internal.orgs(id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_org_idx ON truss_internal.projects (org_id, created_at);

-- +goose Down
DROP TABLE truss_internal.projects;
DROP TABLE truss_internal.orgs;
