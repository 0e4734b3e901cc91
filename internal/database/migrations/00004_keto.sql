-- +goose Up
-- Tenants' custom Keto permission models (Ory Permission Language), every
-- version kept. A tenant's newest version is its active model; an empty opl
-- means Truss's default model. Restoring a version appends a copy of it, so
-- history is never rewritten.
CREATE TABLE truss_internal.keto_models (
    tenant_id     uuid NOT NULL REFERENCES truss_internal.tenants(id) ON DELETE CASCADE,
    version       integer NOT NULL CHECK (version > 0),
    opl           text NOT NULL CHECK (length(opl) <= 65536),
    namespaces    text[] NOT NULL DEFAULT '{}',
    created_by    uuid,
    restored_from integer,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);

-- +goose Down
DROP TABLE truss_internal.keto_models;
