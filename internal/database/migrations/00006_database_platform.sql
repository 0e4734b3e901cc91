-- +goose Up
-- The database platform (internal/apikey, internal/dbapi). /v1 requests run
-- in DATABASE_URL's database, on the schemas in DB_API_SCHEMAS (public), as
-- one of three NOLOGIN roles (Supabase's conventions): anon, authenticated,
-- service_role. Truss connects for them as truss_authenticator, a LOGIN role
-- with no privileges of its own (NOINHERIT) that can only SET ROLE to those
-- three: a RESET ROLE in user SQL falls back to nothing, never to the owner
-- of truss_internal. Roles are cluster-wide, and several databases of one
-- cluster (tests, or several Truss installs) migrate concurrently, so every
-- role statement tolerates the role existing or being created meanwhile.

-- +goose StatementBegin
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'truss_authenticator'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                IF r = 'truss_authenticator' THEN
                    EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT', r);
                ELSE
                    EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created concurrently by another database's migration
            END;
        END IF;
    END LOOP;
    -- service_role bypasses row-level security (needs a superuser).
    IF NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'service_role') THEN
        BEGIN
            ALTER ROLE service_role BYPASSRLS;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'truss: cannot give service_role BYPASSRLS (not a superuser); service_role is then subject to RLS policies';
        WHEN OTHERS THEN
            NULL; -- concurrent update of the same role: the other migration did it
        END;
    END IF;
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT pg_has_role('truss_authenticator', r, 'MEMBER') THEN
            BEGIN
                EXECUTE format('GRANT %I TO truss_authenticator', r);
            EXCEPTION WHEN unique_violation OR duplicate_object THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- Truss's own schema is unreachable from the API roles.
REVOKE ALL ON SCHEMA truss_internal FROM PUBLIC, anon, authenticated, service_role, truss_authenticator;
REVOKE ALL ON ALL TABLES IN SCHEMA truss_internal FROM PUBLIC, anon, authenticated, service_role, truss_authenticator;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA truss_internal FROM PUBLIC, anon, authenticated, service_role, truss_authenticator;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA truss_internal FROM PUBLIC, anon, authenticated, service_role, truss_authenticator;

-- public: every role may use it; service_role may create in it and has every
-- privilege on what Truss's own user creates there. anon and authenticated
-- get nothing by default: a table is reachable by them only after an
-- explicit GRANT (combine it with row-level security policies).
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT CREATE ON SCHEMA public TO service_role;
GRANT ALL ON ALL TABLES IN SCHEMA public TO service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO service_role;

-- Helpers for policies: the claims of the current /v1 request.
CREATE SCHEMA IF NOT EXISTS truss_api;
GRANT USAGE ON SCHEMA truss_api TO anon, authenticated, service_role;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION truss_api.claims() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION truss_api.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(truss_api.claims() ->> 'sub', '')::uuid
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION truss_api.tenant_id() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(truss_api.claims() ->> 'tenant_id', '')::uuid
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION truss_api.role() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(truss_api.claims() ->> 'role', current_user)
$$;
-- +goose StatementEnd

-- API keys: only the SHA-256 of a key is stored; prefix identifies it in lists.
CREATE TABLE truss_internal.api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES truss_internal.tenants(id) ON DELETE CASCADE,
    key_type      text NOT NULL CHECK (key_type IN ('anon', 'service_role')),
    label         text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    prefix        text NOT NULL,
    key_hash      bytea NOT NULL UNIQUE,
    created_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    rotated_from  uuid REFERENCES truss_internal.api_keys(id) ON DELETE SET NULL
);
CREATE INDEX api_keys_tenant_idx ON truss_internal.api_keys (tenant_id, created_at DESC);

-- Schema changes reload the /v1 schema cache of every Truss instance
-- (NOTIFY truss_schema). Event triggers need a superuser; without one, the
-- cache reloads when a request names a table it does not know.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION truss_internal.notify_schema_change() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('truss_schema', '');
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EVENT TRIGGER truss_schema_change ON ddl_command_end EXECUTE FUNCTION truss_internal.notify_schema_change();
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'truss: no event trigger for schema changes (not a superuser); the schema cache reloads on unknown names';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP EVENT TRIGGER IF EXISTS truss_schema_change;
DROP FUNCTION IF EXISTS truss_internal.notify_schema_change();
DROP TABLE truss_internal.api_keys;
DROP SCHEMA truss_api CASCADE;
