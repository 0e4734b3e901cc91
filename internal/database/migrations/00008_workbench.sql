-- +goose Up
-- The SQL workbench of the dashboard (internal/dbapi/workbench.go).
--
-- Read-only queries run on connections of truss_workbench_ro: a LOGIN role
-- that is a member of no other role, so no SET ROLE, RESET ROLE or
-- set_config('role', ...) in user SQL can reach more than its own
-- privileges: SELECT on the tables of DB_API_SCHEMAS (public here; Truss
-- grants the others at run time), nothing on truss_internal or truss_api.
-- Its transactions are READ ONLY by default as well as by Truss's BEGIN READ
-- ONLY. It bypasses row-level security (only admins use the workbench, and
-- they see what service_role sees). Truss sets its password the way it sets
-- truss_authenticator's (derived from DATABASE_URL). Write mode runs as
-- service_role through truss_authenticator (migration 00006). Roles are
-- cluster-wide and databases of one cluster migrate concurrently: every role
-- statement tolerates the role existing or changing meanwhile.

-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'truss_workbench_ro') THEN
        BEGIN
            CREATE ROLE truss_workbench_ro LOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created concurrently by another database's migration
        END;
    END IF;
    IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'truss_workbench_ro') THEN
        BEGIN
            ALTER ROLE truss_workbench_ro BYPASSRLS;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'truss: cannot give truss_workbench_ro BYPASSRLS (not a superuser); read-only workbench queries are then subject to RLS policies';
        WHEN OTHERS THEN
            NULL;
        END;
    END IF;
    BEGIN
        ALTER ROLE truss_workbench_ro SET default_transaction_read_only = on;
    EXCEPTION WHEN OTHERS THEN
        NULL; -- concurrent update of the same role: the other migration did it
    END;
    -- Tables service_role creates (POST /v1/sql, write mode) are readable
    -- too. Needs membership in service_role (a superuser has it); without
    -- it Truss grants SELECT at run time where it can.
    BEGIN
        ALTER DEFAULT PRIVILEGES FOR ROLE service_role IN SCHEMA public GRANT SELECT ON TABLES TO truss_workbench_ro;
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON SCHEMA truss_internal FROM truss_workbench_ro;
REVOKE ALL ON ALL TABLES IN SCHEMA truss_internal FROM truss_workbench_ro;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA truss_internal FROM truss_workbench_ro;
REVOKE ALL ON SCHEMA truss_api FROM truss_workbench_ro;

GRANT USAGE ON SCHEMA public TO truss_workbench_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO truss_workbench_ro;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO truss_workbench_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO truss_workbench_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON SEQUENCES TO truss_workbench_ro;

-- History: the last 100 queries of each admin (pruned on insert).
CREATE TABLE truss_internal.sql_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES truss_internal.tenants(id) ON DELETE CASCADE,
    identity_id  uuid NOT NULL,
    sql          text NOT NULL,
    write        boolean NOT NULL,
    command      text NOT NULL DEFAULT '',
    row_count    bigint NOT NULL DEFAULT 0,
    error_code   text NOT NULL DEFAULT '',
    duration_ms  double precision NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sql_history_admin_idx ON truss_internal.sql_history (tenant_id, identity_id, id DESC);

-- Saved queries, shared by the admins of a tenant.
CREATE TABLE truss_internal.sql_saved (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES truss_internal.tenants(id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sql         text NOT NULL CHECK (octet_length(sql) <= 102400),
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sql_saved_tenant_idx ON truss_internal.sql_saved (tenant_id, updated_at DESC);

-- +goose Down
DROP TABLE truss_internal.sql_saved;
DROP TABLE truss_internal.sql_history;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM truss_workbench_ro;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM truss_workbench_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM truss_workbench_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON SEQUENCES FROM truss_workbench_ro;
REVOKE ALL ON SCHEMA public FROM truss_workbench_ro;
