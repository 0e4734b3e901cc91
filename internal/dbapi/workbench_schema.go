package dbapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/trussdev/truss/internal/httpjson"
)

type browserColumn struct {
	Name       string  `json:"name"`
	Type       string  `json:"type"`
	Nullable   bool    `json:"nullable"`
	Default    *string `json:"default"`
	PrimaryKey bool    `json:"primary_key"`
}

type browserForeignKey struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"`
	RefSchema  string   `json:"ref_schema"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
}

type browserIndex struct {
	Name       string `json:"name"`
	Unique     bool   `json:"unique"`
	Primary    bool   `json:"primary"`
	Definition string `json:"definition"`
}

type browserTable struct {
	Schema      string              `json:"schema"`
	Name        string              `json:"name"`
	Kind        string              `json:"kind"` // table, view, materialized_view, foreign_table, partitioned_table
	Columns     []browserColumn     `json:"columns"`
	PrimaryKey  []string            `json:"primary_key"`
	ForeignKeys []browserForeignKey `json:"foreign_keys"`
	Indexes     []browserIndex      `json:"indexes"`
}

type browserArg struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type browserFunction struct {
	Schema      string       `json:"schema"`
	Name        string       `json:"name"`
	Arguments   []browserArg `json:"arguments"`
	NumDefaults int          `json:"num_defaults"`
	Returns     string       `json:"returns"`
	ReturnsSet  bool         `json:"returns_set"`
	Volatile    bool         `json:"volatile"`
}

var relKinds = map[string]string{"r": "table", "v": "view", "m": "materialized_view", "f": "foreign_table", "p": "partitioned_table"}

// Schema answers GET /api/sql/schema: the tables (columns, keys, indexes)
// and functions of DB_API_SCHEMAS. Tables, columns, types, nullability,
// keys and functions come from the /v1 schema cache; kinds, defaults,
// indexes and return types are read from the catalog for the same tables.
func (w *Workbench) Schema(rw http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sc, err := w.svc.Schema(ctx)
	if err != nil {
		return err
	}
	schemas := w.svc.opts.Schemas
	kinds := map[string]string{}
	defaults := map[string]map[string]string{}
	indexes := map[string][]browserIndex{}
	rows, err := w.svc.main.Query(ctx, `
		SELECT n.nspname, c.relname, c.relkind::text, a.attname, pg_get_expr(d.adbin, d.adrelid)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.atthasdef
		LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
		WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')`, schemas)
	if err != nil {
		return err
	}
	for rows.Next() {
		var sch, rel, kind string
		var col, def *string
		if err := rows.Scan(&sch, &rel, &kind, &col, &def); err != nil {
			rows.Close()
			return err
		}
		k := key(sch, rel)
		kinds[k] = relKinds[kind]
		if col != nil && def != nil {
			if defaults[k] == nil {
				defaults[k] = map[string]string{}
			}
			defaults[k][*col] = *def
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = w.svc.main.Query(ctx, `
		SELECT n.nspname, c.relname, ic.relname, i.indisunique, i.indisprimary, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ANY($1)
		ORDER BY ic.relname`, schemas)
	if err != nil {
		return err
	}
	for rows.Next() {
		var sch, rel string
		var ix browserIndex
		if err := rows.Scan(&sch, &rel, &ix.Name, &ix.Unique, &ix.Primary, &ix.Definition); err != nil {
			rows.Close()
			return err
		}
		indexes[key(sch, rel)] = append(indexes[key(sch, rel)], ix)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Return types, keyed like the cache's overloads: schema.name(argtypes).
	returns := map[string]string{}
	rows, err = w.svc.main.Query(ctx, `
		SELECT n.nspname, p.proname, pg_get_function_result(p.oid),
		       coalesce(array_agg(format_type(a.typ, NULL) ORDER BY a.ord) FILTER (WHERE a.mode IN ('i', 'b', 'v')), '{}')
		FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace
		LEFT JOIN LATERAL unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
		                         coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs::int])))
		                         WITH ORDINALITY AS a(typ, mode, ord) ON true
		WHERE n.nspname = ANY($1) AND p.prokind = 'f'
		GROUP BY p.oid, n.nspname, p.proname`, schemas)
	if err != nil {
		return err
	}
	for rows.Next() {
		var sch, name string
		var res *string
		var args []string
		if err := rows.Scan(&sch, &name, &res, &args); err != nil {
			rows.Close()
			return err
		}
		if res != nil {
			returns[key(sch, name)+"("+strings.Join(args, ",")+")"] = *res
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}

	tables := make([]browserTable, 0, len(sc.Tables))
	for k, t := range sc.Tables {
		bt := browserTable{Schema: t.Schema, Name: t.Name, Kind: kinds[k], PrimaryKey: t.PrimaryKey,
			Columns: []browserColumn{}, ForeignKeys: []browserForeignKey{}, Indexes: indexes[k]}
		if bt.PrimaryKey == nil {
			bt.PrimaryKey = []string{}
		}
		if bt.Indexes == nil {
			bt.Indexes = []browserIndex{}
		}
		for _, c := range t.Columns {
			bc := browserColumn{Name: c.Name, Type: c.Type, Nullable: !c.NotNull, PrimaryKey: slices.Contains(t.PrimaryKey, c.Name)}
			if d, ok := defaults[k][c.Name]; ok {
				bc.Default = &d
			}
			bt.Columns = append(bt.Columns, bc)
		}
		for _, fk := range t.Out {
			bt.ForeignKeys = append(bt.ForeignKeys, browserForeignKey{Name: fk.Name, Columns: fk.FromColumns,
				RefSchema: fk.To.Schema, RefTable: fk.To.Name, RefColumns: fk.ToColumns})
		}
		tables = append(tables, bt)
	}
	slices.SortFunc(tables, func(a, b browserTable) int {
		return strings.Compare(a.Schema+"\x00"+a.Name, b.Schema+"\x00"+b.Name)
	})
	functions := []browserFunction{}
	for k, overloads := range sc.Functions {
		for _, f := range overloads {
			bf := browserFunction{Schema: f.Schema, Name: f.Name, Arguments: []browserArg{}, NumDefaults: f.NumDefaults,
				Returns: returns[k+"("+strings.Join(f.ArgTypes, ",")+")"], ReturnsSet: f.ReturnsSet, Volatile: f.Volatile}
			for i, typ := range f.ArgTypes {
				name := ""
				if i < len(f.ArgNames) {
					name = f.ArgNames[i]
				}
				bf.Arguments = append(bf.Arguments, browserArg{Name: name, Type: typ})
			}
			functions = append(functions, bf)
		}
	}
	slices.SortFunc(functions, func(a, b browserFunction) int {
		return strings.Compare(a.Schema+"\x00"+a.Name+"\x00"+a.Returns, b.Schema+"\x00"+b.Name+"\x00"+b.Returns)
	})
	return httpjson.Write(rw, http.StatusOK, map[string]any{"schemas": schemas, "tables": tables, "functions": functions})
}
