-- +goose Up
-- A tenant is one Kratos identity (its owner). The unique constraint is
-- what makes "create on first request" happen exactly once under races.
ALTER TABLE truss_internal.tenants ADD COLUMN owner_identity_id uuid UNIQUE;

-- Admins promoted at run time (the bootstrap admin); TRUSS_ADMIN_IDENTITY_IDS
-- adds more from configuration.
CREATE TABLE truss_internal.admins (
    identity_id uuid PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Security events: logins (successful and failed), password and MFA
-- changes, admin actions on identities.
CREATE TABLE truss_internal.audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    success     boolean NOT NULL,
    actor_id    uuid,
    tenant_id   uuid,
    subject     text,
    ip          inet,
    user_agent  text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_actor_idx ON truss_internal.audit_events (actor_id, at DESC);
CREATE INDEX audit_events_subject_idx ON truss_internal.audit_events (subject, at DESC);

-- +goose Down
DROP TABLE truss_internal.audit_events;
DROP TABLE truss_internal.admins;
ALTER TABLE truss_internal.tenants DROP COLUMN owner_identity_id;
