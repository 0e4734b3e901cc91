package doctor

import (
	"context"
	"fmt"
	"strings"
)

// apiRoles are the database roles the /v1 database API switches to
// (internal/dbapi); none may reach Truss's own schema.
var apiRoles = []string{"anon", "authenticated", "service_role", "truss_authenticator"}

var rolesCheck = Check{
	ID:    "database.roles",
	Title: "Database roles of the /v1 API exist and cannot reach Truss's schema",
	Symptom: "/v1 answers 503 `database_api_unavailable`, or a role that apps use can read Truss's internal tables " +
		"after someone granted too much.",
	Fix: "Run `truss migrate up` as a user with CREATEROLE; revoke any privilege on schema truss_internal from anon, " +
		"authenticated, service_role and truss_authenticator.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		if env.Pool == nil {
			return []Result{c.result(Warn, "no database connection: roles not checked")}
		}
		var missing, leaking []string
		for _, role := range apiRoles {
			var exists, usage bool
			err := env.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
				COALESCE((SELECT has_schema_privilege(oid, 'truss_internal', 'USAGE') FROM pg_roles WHERE rolname = $1), false)`,
				role).Scan(&exists, &usage)
			if err != nil {
				return []Result{c.result(Warn, "reading roles: "+err.Error())}
			}
			if !exists {
				missing = append(missing, role)
			} else if usage {
				leaking = append(leaking, role)
			}
		}
		switch {
		case len(leaking) > 0:
			return []Result{c.result(Fail, fmt.Sprintf("these roles can use schema truss_internal: %s", strings.Join(leaking, ", ")))}
		case len(missing) > 0:
			return []Result{c.result(Warn, fmt.Sprintf("missing roles: %s (the /v1 database API is unavailable)", strings.Join(missing, ", ")))}
		}
		return []Result{c.result(OK, "roles "+strings.Join(apiRoles, ", ")+" exist; none can use schema truss_internal")}
	},
}

var schemaEventsCheck = Check{
	ID:    "database.schema_events",
	Title: "Schema changes reach the /v1 schema cache",
	Symptom: "After `ALTER TABLE` or `CREATE TABLE`, the database API is slow to see the change the first time it is " +
		"named (up to a second), and other Truss instances keep the old schema until something asks for a new name.",
	Fix: "Run `truss migrate up` once as a superuser: it creates the event trigger `truss_schema_change`, which makes " +
		"every DDL statement reload the schema cache of every instance (`NOTIFY truss_schema`). Without one (managed " +
		"databases without superuser), run `NOTIFY truss_schema;` after schema changes.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		if env.Pool == nil {
			return []Result{c.result(Warn, "no database connection: the event trigger was not checked")}
		}
		var enabled bool
		err := env.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_event_trigger
			WHERE evtname = 'truss_schema_change' AND evtenabled <> 'D')`).Scan(&enabled)
		if err != nil {
			return []Result{c.result(Warn, "reading pg_event_trigger: "+err.Error())}
		}
		if !enabled {
			return []Result{c.result(Warn, "no enabled event trigger truss_schema_change: schema changes are noticed only "+
				"when a request names something unknown, or on NOTIFY truss_schema")}
		}
		return []Result{c.result(OK, "event trigger truss_schema_change reloads the schema cache on DDL")}
	},
}
