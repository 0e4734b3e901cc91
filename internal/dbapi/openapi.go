package dbapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/version"
)

// OpenAPI answers GET /v1/db/ (and /rest/v1/): an OpenAPI 2.0 description of
// the tables, views and functions of the exposed schema (Accept-Profile
// picks another) as PostgREST serves it at its root. It shows what the
// caller's role may use: a table the role cannot read has no GET, one it
// cannot write has no POST, PATCH or DELETE, a function it cannot execute
// is left out.
func (s *Service) OpenAPI(w http.ResponseWriter, r *http.Request) error {
	c, _ := apikey.FromContext(r.Context())
	schema, err := s.profile(r)
	if err != nil {
		return err
	}
	sc, err := s.Schema(r.Context())
	if err != nil {
		return err
	}
	privs, err := s.privileges(r, c, schema)
	if err != nil {
		return err
	}
	base := "/v1/db"
	if strings.HasPrefix(r.URL.Path, "/rest/v1") {
		base = "/rest/v1"
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	doc := openAPIDoc(sc, schema, privs)
	doc["host"], doc["basePath"], doc["schemes"] = r.Host, base, []string{scheme}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	w.Header()["Content-Type"] = []string{"application/openapi+json; charset=utf-8"}
	w.Header()["Cache-Control"] = []string{"no-store"}
	_, err = w.Write(body)
	return err
}

// privilege is what the request's role may do with one relation or
// function of the schema.
type privilege struct {
	Kind                           string // r: relation, f: function
	Name                           string
	Select, Insert, Update, Delete bool
}

// privileges asks PostgreSQL, as the request's role, what it may use in
// schema (column grants count: a role that may read one column may read).
func (s *Service) privileges(r *http.Request, c *apikey.Caller, schema string) (map[string]privilege, error) {
	const sql = `SELECT coalesce(json_agg(p), '[]')::text, count(*) FROM (
		SELECT 'r' AS "Kind", c.relname AS "Name", has_any_column_privilege(c.oid, 'SELECT') AS "Select",
		       has_any_column_privilege(c.oid, 'INSERT') AS "Insert", has_any_column_privilege(c.oid, 'UPDATE') AS "Update",
		       has_table_privilege(c.oid, 'DELETE') AS "Delete"
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
		UNION ALL
		SELECT 'f', p.proname, bool_or(has_function_privilege(p.oid, 'EXECUTE')), false, false, false
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 GROUP BY p.proname) p`
	res, err := s.pipelined(r.Context(), c, []stmt{{sql: sql, args: []any{schema}}}, nil)
	if err != nil {
		return nil, err
	}
	var list []privilege
	if err := json.Unmarshal(res[0].body, &list); err != nil {
		return nil, err
	}
	out := make(map[string]privilege, len(list))
	for _, p := range list {
		out[p.Kind+"."+p.Name] = p
	}
	return out, nil
}

// openAPIDoc describes the relations and functions of schema that privs
// allow, in OpenAPI 2.0 (Swagger), the version PostgREST serves.
func openAPIDoc(sc *Schema, schema string, privs map[string]privilege) map[string]any {
	paths := map[string]any{
		"/": map[string]any{"get": map[string]any{"summary": "This description (OpenAPI 2.0).", "tags": []string{"Introspection"},
			"produces": []string{"application/openapi+json"}, "responses": map[string]any{"200": map[string]any{"description": "OK"}}}},
	}
	definitions := map[string]any{}
	for _, t := range sc.Tables {
		p := privs["r."+t.Name]
		if t.Schema != schema || !(p.Select || p.Insert || p.Update || p.Delete) {
			continue
		}
		definitions[t.Name] = tableSchema(sc, t)
		paths["/"+t.Name] = tableOperations(t, p)
	}
	for _, fns := range sc.Functions {
		f := fns[0]                                           // overloads share the path; the first describes it
		if f.Schema != schema || !privs["f."+f.Name].Select { // Select: EXECUTE, for a function
			continue
		}
		paths["/rpc/"+f.Name] = functionOperations(sc, f)
	}
	return map[string]any{
		"swagger": "2.0",
		"info": map[string]any{"title": "Truss database API", "version": version.Version,
			"description": "Tables, views and functions of the schema " + schema + " that this API key's role may use."},
		"consumes":            []string{"application/json", "text/csv"},
		"produces":            []string{"application/json", "application/vnd.pgrst.object+json", "text/csv"},
		"securityDefinitions": map[string]any{"apikey": map[string]any{"type": "apiKey", "name": "apikey", "in": "header"}},
		"security":            []map[string][]string{{"apikey": {}}},
		"paths":               paths,
		"definitions":         definitions,
	}
}

// tableSchema is a relation's row: its columns with their types, the
// required ones (NOT NULL without a default, which an insert must give),
// and its keys noted the way PostgREST notes them.
func tableSchema(sc *Schema, t *Table) map[string]any {
	props := map[string]any{}
	var required []string
	for _, c := range t.Columns {
		prop := openAPIType(sc, c.Type)
		var notes []string
		if slices.Contains(t.PrimaryKey, c.Name) {
			notes = append(notes, "This is a Primary Key.<pk/>")
		}
		for _, fk := range t.Out {
			if i := slices.Index(fk.FromColumns, c.Name); i >= 0 {
				notes = append(notes, "This is a Foreign Key to `"+fk.To.Name+"."+fk.ToColumns[i]+"`.<fk table='"+fk.To.Name+"' column='"+fk.ToColumns[i]+"'/>")
			}
		}
		if len(notes) > 0 {
			prop["description"] = "Note:\n" + strings.Join(notes, "\n")
		}
		props[c.Name] = prop
		if c.NotNull && !c.HasDefault {
			required = append(required, c.Name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		slices.Sort(required)
		out["required"] = required
	}
	return out
}

// tableOperations are the methods the role may call on a relation.
func tableOperations(t *Table, p privilege) map[string]any {
	filters := make([]any, 0, len(t.Columns))
	for _, c := range t.Columns {
		filters = append(filters, queryParam(c.Name, "Filter on "+c.Name+", e.g. "+c.Name+"=eq.x (PostgREST's operators)."))
	}
	read := []any{queryParam("select", "Columns and embedded relations, e.g. id,name,rel(col)."),
		queryParam("order", "e.g. col.desc.nullslast"), queryParam("limit", "Rows at most."), queryParam("offset", "Rows skipped."),
		headerParam("Range", "e.g. 0-19"), headerParam("Prefer", "count=exact|planned|estimated")}
	ref := map[string]any{"$ref": "#/definitions/" + jsonPointer(t.Name)}
	body := map[string]any{"name": "body", "in": "body", "required": true, "schema": ref}
	writePrefer := headerParam("Prefer", "return=representation, tx=rollback, max-affected=n, resolution=merge-duplicates…")
	ops := map[string]any{}
	tags := []string{t.Name}
	if p.Select {
		ops["get"] = map[string]any{"tags": tags, "parameters": append(filters, read...), "responses": map[string]any{
			"200": map[string]any{"description": "OK", "schema": map[string]any{"type": "array", "items": ref}},
			"206": map[string]any{"description": "Partial Content"}}}
	}
	if t.View {
		return ops // views are read here; write through their tables
	}
	if p.Insert {
		ops["post"] = map[string]any{"tags": tags, "parameters": []any{body, queryParam("select", "Columns of the returned rows."),
			queryParam("columns", "Keys of the body to insert."), queryParam("on_conflict", "Columns of the upsert's unique key."), writePrefer},
			"responses": map[string]any{"201": map[string]any{"description": "Created"}}}
	}
	if p.Update {
		ops["patch"] = map[string]any{"tags": tags, "parameters": append(append([]any{body}, filters...), writePrefer),
			"responses": map[string]any{"204": map[string]any{"description": "No Content"}, "200": map[string]any{"description": "OK"}}}
	}
	if p.Delete {
		ops["delete"] = map[string]any{"tags": tags, "parameters": append(filters, writePrefer),
			"responses": map[string]any{"204": map[string]any{"description": "No Content"}, "200": map[string]any{"description": "OK"}}}
	}
	return ops
}

// functionOperations call a function with named arguments: POST with them
// in the body, GET (not for VOLATILE functions) with them in the query.
func functionOperations(sc *Schema, f *Function) map[string]any {
	props := map[string]any{}
	var required []string
	var query []any
	for i, name := range f.ArgNames {
		props[name] = openAPIType(sc, f.ArgTypes[i])
		if i < len(f.ArgNames)-f.NumDefaults {
			required = append(required, name)
		}
		query = append(query, map[string]any{"name": name, "in": "query", "required": i < len(f.ArgNames)-f.NumDefaults,
			"type": "string", "format": f.ArgTypes[i]})
	}
	args := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		args["required"] = required
	}
	tags := []string{"(rpc) " + f.Name}
	ok := map[string]any{"200": map[string]any{"description": "OK (returns " + f.ReturnType + ")"}}
	ops := map[string]any{"post": map[string]any{"tags": tags, "parameters": []any{
		map[string]any{"name": "args", "in": "body", "required": true, "schema": args},
		headerParam("Prefer", "tx=rollback, count=exact")}, "responses": ok}}
	if !f.Volatile {
		ops["get"] = map[string]any{"tags": tags, "parameters": query, "responses": ok}
	}
	return ops
}

func queryParam(name, about string) map[string]any {
	return map[string]any{"name": name, "in": "query", "required": false, "type": "string", "description": about}
}

func headerParam(name, about string) map[string]any {
	return map[string]any{"name": name, "in": "header", "required": false, "type": "string", "description": about}
}

// jsonPointer escapes a name for a $ref (RFC 6901: ~ and /).
func jsonPointer(name string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}

// openAPIType maps a type as format_type prints it to an OpenAPI schema,
// keeping PostgreSQL's name as the format (as PostgREST does).
func openAPIType(sc *Schema, pg string) map[string]any {
	if elem, ok := strings.CutSuffix(pg, "[]"); ok {
		return map[string]any{"type": "array", "format": pg, "items": openAPIType(sc, elem)}
	}
	if e := sc.Enums[pg]; e != nil {
		return map[string]any{"type": "string", "format": pg, "enum": e.Labels}
	}
	switch typmod.ReplaceAllString(pg, "") {
	case "smallint", "integer", "bigint", "oid":
		return map[string]any{"type": "integer", "format": pg}
	case "real", "double precision", "numeric", "money":
		return map[string]any{"type": "number", "format": pg}
	case "boolean":
		return map[string]any{"type": "boolean", "format": pg}
	case "json", "jsonb":
		return map[string]any{"format": pg} // any JSON value
	}
	return map[string]any{"type": "string", "format": pg}
}
