package dbapi

import (
	"context"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Schema is the cache of what /v1 may name: tables and views with their
// columns, foreign keys and functions, in the exposed schemas only. Every
// identifier a request uses must be found here before it is quoted into SQL.
type Schema struct {
	Tables    map[string]*Table      // "schema.name"
	Functions map[string][]*Function // "schema.name" → overloads

	// reads caches the SQL text of reads built against this schema; a
	// reload makes a new Schema and so starts a new cache.
	reads sqlCache
	// Enums are the enum types of the exposed schemas by their name as
	// format_type prints it in column types.
	Enums map[string]*Enum

	// ddlNotified: the event trigger truss_schema_change is there, so DDL
	// reloads the cache through NOTIFY (see RetryStale).
	ddlNotified bool
}

// Enum is an enum type and its labels in order.
type Enum struct {
	Schema, Name string
	Labels       []string
}

// Table is a table, view or materialized view.
type Table struct {
	Schema, Name string
	View         bool // a view or materialized view
	Columns      []*Column
	byName       map[string]*Column
	// computed are the table's computed fields: functions of one argument
	// of the table's row type, read like columns (select=title,full_name).
	computed   map[string]*Column
	PrimaryKey []string
	Out        []*ForeignKey // foreign keys of this table (many-to-one)
	In         []*ForeignKey // foreign keys referencing it (one-to-many)
	// resultOf is set on the synthetic table of a function's result
	// columns (RETURNS TABLE, OUT parameters, a composite type that is no
	// exposed table): it names the function in errors and is never a FROM.
	resultOf string
}

// Column is one column with its SQL type as format_type prints it.
type Column struct {
	Name, Type string
	NotNull    bool
	HasDefault bool // a default, an identity or a generated column: an insert may leave it out
	Generated  bool // GENERATED ALWAYS AS (...) STORED: never written
}

// ForeignKey links From.Columns to To.Columns.
type ForeignKey struct {
	Name        string
	From, To    *Table
	FromColumns []string
	ToColumns   []string
	// viaView: inferred for a view that shows a table's key columns
	// (inferViewKeys); the table's own key wins when both fit an embedding.
	viaView bool
}

// Function is a function callable through /v1/db/rpc.
type Function struct {
	Schema, Name string
	ArgNames     []string
	ArgTypes     []string // format_type output: trusted catalog text
	NumDefaults  int      // the last NumDefaults arguments have defaults
	ReturnType   string   // format_type of the return type (for errors)
	ReturnsSet   bool
	ReturnsRow   bool // composite or record: answered as objects
	ReturnsVoid  bool
	Volatile     bool
	// Result holds the result columns of a function returning rows, which
	// select=, filters and order= of /v1/db/rpc name: the exposed table
	// of a table row type (so embeddings follow its foreign keys), else a
	// synthetic table. It is nil for scalars, void and a bare record.
	Result *Table
}

// Column returns a column by name.
func (t *Table) Column(name string) (*Column, bool) {
	c, ok := t.byName[name]
	return c, ok
}

func key(schema, name string) string { return schema + "." + name }

// LoadSchema reads the catalog for the exposed schemas.
func LoadSchema(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}, schemas []string) (*Schema, error) {
	s := &Schema{Tables: map[string]*Table{}, Functions: map[string][]*Function{}}
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'truss_schema_change' AND evtenabled <> 'D')`).Scan(&s.ddlNotified); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `
		SELECT n.nspname, c.relname, c.relkind IN ('v', 'm'), a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', a.attgenerated <> ''
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
		ORDER BY n.nspname, c.relname, a.attnum`, schemas)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sch, rel string
		var view bool
		var c Column
		if err := rows.Scan(&sch, &rel, &view, &c.Name, &c.Type, &c.NotNull, &c.HasDefault, &c.Generated); err != nil {
			rows.Close()
			return nil, err
		}
		t := s.Tables[key(sch, rel)]
		if t == nil {
			t = &Table{Schema: sch, Name: rel, View: view, byName: map[string]*Column{}}
			s.Tables[key(sch, rel)] = t
		}
		t.addColumn(c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `
		SELECT n.nspname, c.relname, array_agg(a.attname ORDER BY k.ord)
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
		WHERE i.indisprimary AND n.nspname = ANY($1)
		GROUP BY n.nspname, c.relname`, schemas)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sch, rel string
		var cols []string
		if err := rows.Scan(&sch, &rel, &cols); err != nil {
			rows.Close()
			return nil, err
		}
		if t := s.Tables[key(sch, rel)]; t != nil {
			t.PrimaryKey = cols
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `
		SELECT con.conname, n1.nspname, c1.relname, n2.nspname, c2.relname,
		       array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
		       array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o)
		FROM pg_constraint con
		JOIN pg_class c1 ON c1.oid = con.conrelid JOIN pg_namespace n1 ON n1.oid = c1.relnamespace
		JOIN pg_class c2 ON c2.oid = con.confrelid JOIN pg_namespace n2 ON n2.oid = c2.relnamespace
		WHERE con.contype = 'f' AND n1.nspname = ANY($1) AND n2.nspname = ANY($1)
		ORDER BY con.conname`, schemas)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, s1, r1, s2, r2 string
		var fromCols, toCols []string
		if err := rows.Scan(&name, &s1, &r1, &s2, &r2, &fromCols, &toCols); err != nil {
			rows.Close()
			return nil, err
		}
		from, to := s.Tables[key(s1, r1)], s.Tables[key(s2, r2)]
		if from == nil || to == nil {
			continue
		}
		fk := &ForeignKey{Name: name, From: from, To: to, FromColumns: fromCols, ToColumns: toCols}
		from.Out = append(from.Out, fk)
		to.In = append(to.In, fk)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.inferViewKeys(ctx, q, schemas); err != nil {
		return nil, err
	}
	if err := s.loadEnums(ctx, q, schemas); err != nil {
		return nil, err
	}
	// Besides the arguments, each function's result columns: its OUT,
	// INOUT and TABLE parameters when it returns record, else the
	// attributes of its composite return type (rel names the relation, so
	// an exposed table's row type is resolved to that table).
	rows, err = q.Query(ctx, `
		SELECT n.nspname, p.proname, format_type(p.prorettype, NULL), p.proretset, t.typtype = 'c' OR p.prorettype = 'record'::regtype,
		       p.prorettype = 'void'::regtype, p.provolatile = 'v', p.pronargdefaults,
		       coalesce(array_agg(coalesce(a.name, '') ORDER BY a.ord) FILTER (WHERE a.mode IN ('i', 'b', 'v')), '{}'),
		       coalesce(array_agg(format_type(a.typ, NULL) ORDER BY a.ord) FILTER (WHERE a.mode IN ('i', 'b', 'v')), '{}'),
		       coalesce(array_agg(coalesce(a.name, '') ORDER BY a.ord) FILTER (WHERE a.mode IN ('o', 'b', 't') AND p.prorettype = 'record'::regtype), '{}'),
		       coalesce(array_agg(format_type(a.typ, NULL) ORDER BY a.ord) FILTER (WHERE a.mode IN ('o', 'b', 't') AND p.prorettype = 'record'::regtype), '{}'),
		       coalesce(rn.nspname || '.' || rc.relname, ''),
		       coalesce((SELECT array_agg(at.attname::text ORDER BY at.attnum) FROM pg_attribute at
		                 WHERE at.attrelid = t.typrelid AND at.attnum > 0 AND NOT at.attisdropped), '{}'),
		       coalesce((SELECT array_agg(format_type(at.atttypid, at.atttypmod) ORDER BY at.attnum) FROM pg_attribute at
		                 WHERE at.attrelid = t.typrelid AND at.attnum > 0 AND NOT at.attisdropped), '{}')
		FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace
		JOIN pg_type t ON t.oid = p.prorettype
		LEFT JOIN pg_class rc ON rc.oid = t.typrelid
		LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
		LEFT JOIN LATERAL unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
		                         coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs::int])),
		                         p.proargnames) WITH ORDINALITY AS a(typ, mode, name, ord) ON true
		WHERE n.nspname = ANY($1) AND p.prokind = 'f'
		GROUP BY p.oid, n.nspname, p.proname, t.typtype, t.typrelid, rn.nspname, rc.relname`, schemas)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		f := &Function{}
		var outNames, outTypes, attNames, attTypes []string
		var rel string
		if err := rows.Scan(&f.Schema, &f.Name, &f.ReturnType, &f.ReturnsSet, &f.ReturnsRow, &f.ReturnsVoid, &f.Volatile, &f.NumDefaults,
			&f.ArgNames, &f.ArgTypes, &outNames, &outTypes, &rel, &attNames, &attTypes); err != nil {
			rows.Close()
			return nil, err
		}
		switch {
		case !f.ReturnsRow:
		case s.Tables[rel] != nil:
			f.Result = s.Tables[rel]
		case len(attNames) > 0:
			f.Result = resultTable(f, attNames, attTypes)
		case len(outNames) > 0:
			f.Result = resultTable(f, outNames, outTypes)
		}
		k := key(f.Schema, f.Name)
		s.Functions[k] = append(s.Functions[k], f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return s, s.loadComputed(ctx, q, schemas)
}

// loadComputed finds the computed fields of the exposed tables: functions
// of the exposed schemas with one argument, a table's row type, returning
// one value. A real column of the same name wins.
func (s *Schema) loadComputed(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, schemas []string) error {
	rows, err := q.Query(ctx, `
		SELECT n.nspname, p.proname, tn.nspname, c.relname, format_type(p.prorettype, NULL)
		FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace
		JOIN pg_type t ON t.oid = p.proargtypes[0]
		JOIN pg_class c ON c.oid = t.typrelid
		JOIN pg_namespace tn ON tn.oid = c.relnamespace
		WHERE p.pronargs = 1 AND p.prokind = 'f' AND NOT p.proretset AND p.prorettype <> 'void'::regtype
		  AND n.nspname = ANY($1) AND tn.nspname = ANY($1)
		ORDER BY array_position($1, n.nspname::text) DESC, p.proname`, schemas)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var fs, fn, ts, tn, typ string
		if err := rows.Scan(&fs, &fn, &ts, &tn, &typ); err != nil {
			return err
		}
		t := s.Tables[key(ts, tn)]
		if t == nil {
			continue
		}
		if _, isColumn := t.byName[fn]; isColumn {
			continue
		}
		if t.computed == nil {
			t.computed = map[string]*Column{}
		}
		// Name carries the function, schema-qualified and quoted: catalog text.
		t.computed[fn] = &Column{Name: pgxIdent(fs, fn), Type: typ}
	}
	return rows.Err()
}

func (t *Table) addColumn(c Column) {
	if t.byName == nil {
		t.byName = map[string]*Column{}
	}
	t.Columns = append(t.Columns, &c)
	t.byName[c.Name] = &c
}

// resultTable is the synthetic table of a function's result columns. An
// unnamed OUT parameter is the column PostgreSQL calls columnN (N counts
// the output columns).
func resultTable(f *Function, names, types []string) *Table {
	t := &Table{Schema: f.Schema, Name: f.Name, resultOf: f.Schema + "." + f.Name}
	for i, n := range names {
		if n == "" {
			n = "column" + itoa(i+1)
		}
		t.addColumn(Column{Name: n, Type: types[i]})
	}
	return t
}

// closest returns up to three names at a small edit distance from name.
func closest(name string, candidates []string) []string {
	type scored struct {
		s string
		d int
	}
	var out []scored
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d <= max(2, len(name)/3) || strings.Contains(strings.ToLower(c), strings.ToLower(name)) {
			out = append(out, scored{c, d})
		}
	}
	slices.SortFunc(out, func(a, b scored) int { return a.d - b.d })
	names := []string{}
	for i := 0; i < len(out) && i < 3; i++ {
		names = append(names, out[i].s)
	}
	return names
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// inferViewKeys gives views the foreign keys of the tables they show, as
// PostgREST does, so select=*,authors(name) embeds through a view too. A
// view column stands for a table column when it has the same name and the
// view uses exactly one column of that name among its tables (pg_depend);
// a foreign key is copied to a view (on either side, or both) when the
// view shows all of its columns. Renamed or computed columns are not
// followed: no relation is better than a wrong join.
func (s *Schema) inferViewKeys(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, schemas []string) error {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT vn.nspname, v.relname, tn.nspname, t.relname, a.attname
		FROM pg_class v
		JOIN pg_namespace vn ON vn.oid = v.relnamespace
		JOIN pg_rewrite r ON r.ev_class = v.oid
		JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
		                AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
		JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid
		JOIN pg_namespace tn ON tn.oid = t.relnamespace
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
		WHERE v.relkind IN ('v', 'm') AND vn.nspname = ANY($1) AND tn.nspname = ANY($1)`, schemas)
	if err != nil {
		return err
	}
	defer rows.Close()
	// uses[view][column] are the tables whose column of that name the view uses.
	uses := map[*Table]map[string][]*Table{}
	for rows.Next() {
		var vs, vr, ts, tr, col string
		if err := rows.Scan(&vs, &vr, &ts, &tr, &col); err != nil {
			return err
		}
		v, t := s.Tables[key(vs, vr)], s.Tables[key(ts, tr)]
		if v == nil || t == nil {
			continue
		}
		if _, shown := v.byName[col]; !shown {
			continue
		}
		if uses[v] == nil {
			uses[v] = map[string][]*Table{}
		}
		uses[v][col] = append(uses[v][col], t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	views := make([]*Table, 0, len(uses))
	for v := range uses {
		views = append(views, v)
	}
	slices.SortFunc(views, func(a, b *Table) int { return strings.Compare(key(a.Schema, a.Name), key(b.Schema, b.Name)) })
	shows := func(v, t *Table, cols []string) bool {
		for _, c := range cols {
			if ts := uses[v][c]; len(ts) != 1 || ts[0] != t {
				return false
			}
		}
		return true
	}
	images := func(t *Table, cols []string) []*Table {
		out := []*Table{t}
		for _, v := range views {
			if shows(v, t, cols) {
				out = append(out, v)
			}
		}
		return out
	}
	var keys []*ForeignKey
	for _, t := range s.Tables {
		keys = append(keys, t.Out...)
	}
	slices.SortFunc(keys, func(a, b *ForeignKey) int { return strings.Compare(a.Name, b.Name) })
	for _, fk := range keys {
		for _, from := range images(fk.From, fk.FromColumns) {
			for _, to := range images(fk.To, fk.ToColumns) {
				if from == fk.From && to == fk.To {
					continue
				}
				vk := &ForeignKey{Name: fk.Name, From: from, To: to, FromColumns: fk.FromColumns, ToColumns: fk.ToColumns, viaView: true}
				from.Out = append(from.Out, vk)
				to.In = append(to.In, vk)
			}
		}
	}
	return nil
}

// loadEnums reads the enum types of the exposed schemas (for generated
// client types).
func (s *Schema) loadEnums(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, schemas []string) error {
	rows, err := q.Query(ctx, `
		SELECT n.nspname, t.typname, format_type(t.oid, NULL), array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
		FROM pg_type t
		JOIN pg_namespace n ON n.oid = t.typnamespace
		JOIN pg_enum e ON e.enumtypid = t.oid
		WHERE n.nspname = ANY($1)
		GROUP BY n.nspname, t.typname, t.oid`, schemas)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.Enums = map[string]*Enum{}
	for rows.Next() {
		var e Enum
		var typ string
		if err := rows.Scan(&e.Schema, &e.Name, &typ, &e.Labels); err != nil {
			return err
		}
		s.Enums[typ] = &e
	}
	return rows.Err()
}
