-- +goose Up
-- Every account is a tenant; organizations and projects live inside one.
-- Identities themselves belong to Ory Kratos: Truss stores only their ids.
CREATE TABLE truss_internal.tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    is_demo     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE truss_internal.tenant_members (
    tenant_id    uuid NOT NULL REFERENCES truss_internal.tenants(id) ON DELETE CASCADE,
    identity_id  uuid NOT NULL,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, identity_id)
);
CREATE INDEX tenant_members_identity_idx ON truss_internal.tenant_members (identity_id);

-- +goose Down
DROP TABLE truss_internal.tenant_members;
DROP TABLE truss_internal.tenants;
