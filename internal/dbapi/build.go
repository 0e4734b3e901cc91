package dbapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/dbapi/postgrest"
)

// builder writes one SQL statement. Identifiers reach it only after the
// schema cache has them and are quoted with pgx.Identifier; every value is
// a parameter ($n), sent as text for PostgreSQL to convert to the
// column's type.
type builder struct {
	sc     *Schema
	args   []any
	nalias int
	// embedConds are filters on embedded relations by path ("author",
	// "author.books"); embed applies them and marks them used.
	embedConds map[string][]postgrest.Condition
	embedPages map[string]*embedPage
	// selects is the root's select=: a root filter may name one of its
	// embeddings (author=not.is.null).
	selects []postgrest.SelectItem
	used    map[string]bool
	path    string // the embedding being built ("" = the root table)
	// laterals are the LEFT JOIN LATERALs of spread relations (...rel())
	// of the select list being built, for its FROM.
	laterals []string
	// group is the GROUP BY of the select list built last (selectList).
	group string
}

func (b *builder) param(v any) string {
	b.args = append(b.args, v)
	return "$" + itoa(len(b.args))
}

func (b *builder) newAlias() string {
	b.nalias++
	return "_" + itoa(b.nalias)
}

func qi(name string) string { return pgx.Identifier{name}.Sanitize() }

func qt(t *Table) string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

func columnNames(t *Table) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

func unknownColumn(t *Table, name string) *apierror.Error {
	hint := "Columns of " + t.Name + ": " + strings.Join(columnNames(t), ", ") + "."
	if near := closest(name, columnNames(t)); len(near) > 0 {
		hint = "Did you mean " + strings.Join(near, " or ") + "? " + hint
	}
	what := "Table " + t.Schema + "." + t.Name
	if t.resultOf != "" {
		what = "The result of function " + t.resultOf
	}
	return apierror.New(http.StatusBadRequest, "column_not_found", what+" has no column "+quote(name)+".").
		WithHint(hint).WithDetails(map[string]any{"table": t.Name, "column": name})
}

// col returns alias."column" for a column that exists, or the call of a
// computed field with the row: "schema"."fn"(alias).
func (b *builder) col(alias string, t *Table, name string) (string, error) {
	if _, ok := t.Column(name); ok {
		return alias + "." + qi(name), nil
	}
	if f := t.computed[name]; f != nil {
		return f.Name + "(" + alias + ")", nil
	}
	return "", unknownColumn(t, name)
}

// colType is the SQL type of a column or computed field of t.
func colType(t *Table, name string) string {
	if c, ok := t.Column(name); ok {
		return c.Type
	}
	if f := t.computed[name]; f != nil {
		return f.Type
	}
	return ""
}

// ref returns alias."column" followed by its JSON path: keys and indexes
// are parameters (->$n::text, ->$n::int), never SQL text.
func (b *builder) ref(alias string, t *Table, name string, path []postgrest.JSONStep) (string, error) {
	ref, err := b.col(alias, t, name)
	if err != nil || len(path) == 0 {
		return ref, err
	}
	if typ := colType(t, name); typ != "json" && typ != "jsonb" {
		return "", badRequest("invalid_query", "Column "+quote(name)+" is "+typ+", not json or jsonb: it has no JSON path.", "")
	}
	for _, st := range path {
		op := "->"
		if st.Text {
			op = "->>"
		}
		typ := "::text"
		if st.Index {
			typ = "::int"
		}
		ref = "(" + ref + op + b.param(st.Key) + typ + ")"
	}
	return ref, nil
}

// casts are the types select=col::type may name (PostgREST's casts, limited
// to a list so the type is never user text).
var casts = map[string]string{
	"text": "text", "varchar": "varchar", "int": "int4", "int2": "int2", "int4": "int4", "int8": "int8",
	"integer": "int4", "bigint": "int8", "smallint": "int2", "numeric": "numeric", "float4": "float4",
	"float8": "float8", "real": "float4", "bool": "bool", "boolean": "bool", "json": "json", "jsonb": "jsonb",
	"date": "date", "time": "time", "timestamp": "timestamp", "timestamptz": "timestamptz", "uuid": "uuid",
}

// selectList turns select= into SQL output columns of table t (as alias);
// !inner embeds add conditions to where. With an aggregate among the items
// it sets b.group to the GROUP BY of the other columns (by position), for
// the caller to put after its WHERE; otherwise to "".
func (b *builder) selectList(alias string, t *Table, items []postgrest.SelectItem, where *[]string) (string, error) {
	var parts, groupBy []string
	aggregated := false
	for _, it := range items {
		switch {
		case it.Embed != nil:
			sql, err := b.embed(alias, t, it, where)
			if err != nil {
				return "", err
			}
			if sql != "" {
				parts = append(parts, sql)
			}
		case it.Column == "*" && it.Aggregate == "":
			parts = append(parts, alias+".*")
		default:
			ref, err := b.output(alias, t, it)
			if err != nil {
				return "", err
			}
			parts = append(parts, ref)
			if it.Aggregate != "" {
				aggregated = true
			} else {
				groupBy = append(groupBy, itoa(len(parts)))
			}
		}
	}
	b.group = ""
	if aggregated {
		if err := groupable(items); err != nil {
			return "", err
		}
		if len(groupBy) > 0 {
			b.group = " GROUP BY " + strings.Join(groupBy, ", ")
		}
	}
	return strings.Join(parts, ", "), nil
}

// output is one column of a select list: a column (or JSON path), cast
// and aliased, or an aggregate of one.
func (b *builder) output(alias string, t *Table, it postgrest.SelectItem) (string, error) {
	ref := "*" // count()
	if it.Column != "" {
		var err error
		if ref, err = b.ref(alias, t, it.Column, it.JSONPath); err != nil {
			return "", err
		}
	}
	out := it.Alias
	if out == "" && len(it.JSONPath) > 0 {
		out = postgrest.LastKey(it.JSONPath)
	}
	if it.InputCast != "" {
		typ, err := castType(it.InputCast)
		if err != nil {
			return "", err
		}
		ref = "(" + ref + ")::" + typ
	}
	if it.Aggregate != "" {
		// The name comes from postgrest.Aggregates, never from the request.
		ref = it.Aggregate + "(" + ref + ")"
		if out == "" {
			out = it.Aggregate
		}
	}
	if it.Cast != "" {
		typ, err := castType(it.Cast)
		if err != nil {
			return "", err
		}
		ref = "(" + ref + ")::" + typ
		if out == "" {
			out = it.Column
		}
	}
	if out != "" {
		ref += " AS " + qi(out)
	}
	return ref, nil
}

func castType(name string) (string, error) {
	typ, ok := casts[name]
	if !ok {
		return "", badRequest("invalid_cast", "Cannot cast to "+quote(name)+".",
			"Casts allowed in select: text, int, int8, numeric, float8, bool, json, jsonb, date, timestamptz, uuid.")
	}
	return typ, nil
}

// groupable checks a select list with aggregates: its other items are
// columns, which group the rows; * and embedded relations have no single
// column to group by.
func groupable(items []postgrest.SelectItem) error {
	for _, it := range items {
		if it.Embed != nil || it.Column == "*" && it.Aggregate == "" {
			return badRequest("invalid_aggregate", "An aggregate cannot be selected with * or an embedded relation beside it.",
				"Name the columns to group by, e.g. select=category,amount.sum(); embed the aggregate instead, e.g. select=name,orders(amount.sum()).")
		}
	}
	return nil
}

// relation is a resolved embedding: child rows joined to the parent.
type relation struct {
	fk    *ForeignKey
	toOne bool // many-to-one: the parent holds the foreign key
	child *Table
}

func (b *builder) resolve(t *Table, e *postgrest.Embed) (relation, error) {
	var found []relation
	var names []string
	for _, fk := range t.Out {
		names = append(names, fk.To.Name)
		byCol := len(fk.FromColumns) == 1 && fk.FromColumns[0] == e.Relation
		if fk.To.Name != e.Relation && !byCol {
			continue
		}
		if e.Hint != "" && e.Hint != fk.Name && !(len(fk.FromColumns) == 1 && fk.FromColumns[0] == e.Hint) {
			continue
		}
		found = append(found, relation{fk: fk, toOne: true, child: fk.To})
	}
	for _, fk := range t.In {
		names = append(names, fk.From.Name)
		if fk.From.Name != e.Relation {
			continue
		}
		if e.Hint != "" && e.Hint != fk.Name && !(len(fk.FromColumns) == 1 && fk.FromColumns[0] == e.Hint) {
			continue
		}
		found = append(found, relation{fk: fk, child: fk.From})
	}
	if len(found) > 1 {
		// A table's own key wins over the same key inferred for a view
		// (author_id(name) names the column both share).
		var own []relation
		for _, r := range found {
			if !r.fk.viaView {
				own = append(own, r)
			}
		}
		if len(own) == 1 {
			found = own
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		hint := "Embedding needs a foreign key between the tables."
		if len(names) > 0 {
			slices.Sort(names)
			hint += " Relations of " + t.Name + ": " + strings.Join(slices.Compact(names), ", ") + "."
		}
		return relation{}, apierror.New(http.StatusBadRequest, "relation_not_found",
			"No relation "+quote(e.Relation)+" found for table "+t.Name+".").WithHint(hint)
	}
	var fks []string
	for _, r := range found {
		fks = append(fks, r.fk.Name)
	}
	return relation{}, apierror.New(http.StatusBadRequest, "ambiguous_relation",
		"More than one relation "+quote(e.Relation)+" links to "+t.Name+".").
		WithHint("Pick one with a hint: " + e.Relation + "!<constraint>(...), one of " + strings.Join(fks, ", ") + ".")
}

// innerOnly keeps the !inner embeds of items (recursively) and drops
// everything else: what a count needs to filter parent rows like the read.
func innerOnly(items []postgrest.SelectItem) []postgrest.SelectItem {
	var out []postgrest.SelectItem
	for _, it := range items {
		if it.Embed != nil && it.Embed.Inner {
			e := *it.Embed
			e.Items = innerOnly(e.Items)
			out = append(out, postgrest.SelectItem{Alias: it.Alias, Embed: &e})
		}
	}
	return out
}

// join is the condition linking child (as ca) to parent (as pa).
func (r relation) join(pa, ca string) string {
	var conds []string
	for i := range r.fk.FromColumns {
		from, to := qi(r.fk.FromColumns[i]), qi(r.fk.ToColumns[i])
		if r.toOne { // parent.from -> child.to
			conds = append(conds, ca+"."+to+" = "+pa+"."+from)
		} else { // child.from -> parent.to
			conds = append(conds, ca+"."+from+" = "+pa+"."+to)
		}
	}
	return strings.Join(conds, " AND ")
}

func (b *builder) embed(alias string, t *Table, it postgrest.SelectItem, where *[]string) (string, error) {
	rel, err := b.resolve(t, it.Embed)
	if err != nil {
		return "", err
	}
	out := it.Alias
	if out == "" {
		out = it.Embed.Relation
	}
	// Filters on this embedding (author.name=eq.x) restrict its rows and,
	// with !inner, the parent rows through the EXISTS.
	path := out
	if b.path != "" {
		path = b.path + "." + out
	}
	filters := b.embedConds[path]
	if b.used != nil {
		b.used[path] = true
	}
	var spreadNames []string // a one-to-many spread's output columns
	if it.Embed.Spread && !rel.toOne {
		if spreadNames, err = flatNames(rel.child, it.Embed.Items); err != nil {
			return "", err
		}
	}
	ca := b.newAlias()
	var childWhere []string
	var list, laterals, group string
	if len(it.Embed.Items) > 0 {
		parent, outer := b.path, b.laterals
		b.path, b.laterals = path, nil
		list, err = b.selectList(ca, rel.child, it.Embed.Items, &childWhere)
		laterals, group = strings.Join(b.laterals, ""), b.group
		b.path, b.laterals = parent, outer
		if err != nil {
			return "", err
		}
	}
	conds := append([]string{rel.join(alias, ca)}, childWhere...)
	if len(filters) > 0 && list == "" && !it.Embed.Inner {
		// rel() without !inner outputs nothing and filters nothing: check
		// its filters, but leave no parameter the statement would not use.
		scratch := *b
		if _, err := scratch.conditions(ca, rel.child, filters); err != nil {
			return "", err
		}
	} else if len(filters) > 0 {
		f, err := b.conditions(ca, rel.child, filters)
		if err != nil {
			return "", err
		}
		conds = append(conds, f)
	}
	if it.Embed.Inner {
		// The same conditions (nested !inner embeds included) decide
		// whether the parent row stays.
		*where = append(*where, "EXISTS (SELECT 1 FROM "+qt(rel.child)+" "+ca+" WHERE "+strings.Join(conds, " AND ")+")")
	}
	if list == "" { // rel!inner() and embeds of only such: filter, output nothing
		return "", nil
	}
	inner := "SELECT " + list + " FROM " + qt(rel.child) + " " + ca + laterals + " WHERE " + strings.Join(conds, " AND ") + group
	page, err := b.page(ca, rel, path)
	if err != nil {
		return "", err
	}
	inner += page
	ea := b.newAlias()
	if it.Embed.Spread && rel.toOne {
		// The relation's columns join the parent's: a lateral join of
		// its one row (or none: NULLs), selected as ea.*.
		b.laterals = append(b.laterals, " LEFT JOIN LATERAL ("+inner+" LIMIT 1) "+ea+" ON true")
		return ea + ".*", nil
	}
	if it.Embed.Spread {
		// One-to-many (PostgREST 13): each column becomes the array of
		// its values over the related rows, in their order ([] without any).
		arrays := make([]string, len(spreadNames))
		for i, n := range spreadNames {
			arrays[i] = "coalesce(json_agg(" + ea + "_r." + qi(n) + "), '[]') AS " + qi(n)
		}
		b.laterals = append(b.laterals, " LEFT JOIN LATERAL (SELECT "+strings.Join(arrays, ", ")+" FROM ("+inner+") "+ea+"_r) "+ea+" ON true")
		return ea + ".*", nil
	}
	if rel.toOne {
		return "(SELECT row_to_json(" + ea + ") FROM (" + inner + " LIMIT 1) " + ea + ") AS " + qi(out), nil
	}
	return "(SELECT coalesce(json_agg(" + ea + "), '[]') FROM (" + inner + ") " + ea + ") AS " + qi(out), nil
}

// flatNames are the output names of a one-to-many spread's select list,
// whose columns become arrays: plain columns only (an embedding or an
// aggregate inside it has no flat array to make), named once each.
func flatNames(t *Table, items []postgrest.SelectItem) ([]string, error) {
	var names []string
	for _, it := range items {
		if it.Embed != nil || it.Aggregate != "" {
			return nil, badRequest("invalid_query", "A spread one-to-many relation takes columns only, not embeddings or aggregates.",
				"Embed it without ... to nest them.")
		}
		switch {
		case it.Column == "*":
			names = append(names, columnNames(t)...)
		case it.Alias != "":
			names = append(names, it.Alias)
		case len(it.JSONPath) > 0:
			names = append(names, postgrest.LastKey(it.JSONPath))
		default:
			names = append(names, it.Column)
		}
	}
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return nil, badRequest("invalid_query", "The spread relation outputs "+quote(n)+" twice.", "Alias one of them, e.g. ...rel(other:"+n+").")
		}
	}
	return names, nil
}

// page is the ORDER BY / LIMIT / OFFSET of the embedding at path
// (comments.order=..., comments.limit=...). A many-to-one embedding is one
// row at most: it takes an order but no limit or offset.
func (b *builder) page(ca string, rel relation, path string) (string, error) {
	p := b.embedPages[path]
	if p == nil {
		return "", nil
	}
	var sql string
	if len(p.order) > 0 {
		ord, err := b.order(ca, rel.child, p.order)
		if err != nil {
			return "", err
		}
		sql = " ORDER BY " + ord
	}
	if rel.toOne && (p.limit >= 0 || p.offset >= 0) {
		return "", badRequest("invalid_query", path+" is a many-to-one embedding (one row at most): it takes no limit or offset.", "")
	}
	if p.limit >= 0 {
		sql += " LIMIT " + itoa(p.limit)
	}
	if p.offset >= 0 {
		sql += " OFFSET " + itoa(p.offset)
	}
	return sql, nil
}

// conditions turns filters and logic trees into SQL joined by AND.
func (b *builder) conditions(alias string, t *Table, conds []postgrest.Condition) (string, error) {
	return b.join(alias, t, conds, " AND ")
}

func (b *builder) join(alias string, t *Table, conds []postgrest.Condition, sep string) (string, error) {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		var sql string
		var err error
		if c.Filter != nil {
			sql, err = b.filter(alias, t, c.Filter)
		} else {
			op := " AND "
			if c.Logic.Or {
				op = " OR "
			}
			sql, err = b.join(alias, t, c.Logic.Children, op)
			if err == nil && c.Logic.Negate {
				sql = "NOT (" + sql + ")"
			}
		}
		if err != nil {
			return "", err
		}
		parts = append(parts, "("+sql+")")
	}
	if len(parts) == 0 {
		return "TRUE", nil
	}
	return strings.Join(parts, sep), nil
}

var comparison = map[postgrest.Op]string{
	postgrest.Eq: "=", postgrest.Neq: "<>", postgrest.Gt: ">", postgrest.Gte: ">=", postgrest.Lt: "<", postgrest.Lte: "<=",
	postgrest.Like: "LIKE", postgrest.Ilike: "ILIKE", postgrest.Match: "~", postgrest.Imatch: "~*",
	postgrest.Cs: "@>", postgrest.Cd: "<@", postgrest.Ov: "&&", postgrest.IsDistinct: "IS DISTINCT FROM",
	postgrest.Sl: "<<", postgrest.Sr: ">>", postgrest.Nxr: "&<", postgrest.Nxl: "&>", postgrest.Adj: "-|-",
}

var ftsFuncs = map[postgrest.Op]string{postgrest.Fts: "to_tsquery", postgrest.Plfts: "plainto_tsquery",
	postgrest.Phfts: "phraseto_tsquery", postgrest.Wfts: "websearch_to_tsquery"}

func likeValue(op postgrest.Op, v string) string {
	if op == postgrest.Like || op == postgrest.Ilike {
		return strings.ReplaceAll(v, "*", "%")
	}
	return v
}

func (b *builder) filter(alias string, t *Table, f *postgrest.Filter) (string, error) {
	if sql, ok, err := b.embedNull(alias, t, f); ok || err != nil {
		return sql, err
	}
	ref, err := b.ref(alias, t, f.Column, f.JSONPath)
	if err != nil {
		return "", err
	}
	var sql string
	switch {
	case f.Op == postgrest.Is:
		sql = ref + map[string]string{"null": " IS NULL", "not_null": " IS NOT NULL", "true": " IS TRUE",
			"false": " IS FALSE", "unknown": " IS UNKNOWN"}[f.Value]
	case f.Op == postgrest.In:
		if len(f.List) == 0 {
			sql = "FALSE"
			break
		}
		ps := make([]string, len(f.List))
		for i, v := range f.List {
			ps[i] = b.param(v)
		}
		sql = ref + " IN (" + strings.Join(ps, ", ") + ")"
	case f.Op.IsFTS():
		var q string
		if f.FTSConfig != "" {
			q = ftsFuncs[f.Op] + "(" + b.param(f.FTSConfig) + "::regconfig, " + b.param(f.Value) + ")"
		} else {
			q = ftsFuncs[f.Op] + "(" + b.param(f.Value) + ")"
		}
		sql = ref + " @@ " + q
	case f.Quant != "":
		sep := " OR "
		if f.Quant == "all" {
			sep = " AND "
		}
		ps := make([]string, len(f.List))
		for i, v := range f.List {
			ps[i] = ref + " " + comparison[f.Op] + " " + b.param(likeValue(f.Op, v))
		}
		sql = strings.Join(ps, sep)
		if len(ps) == 0 {
			sql = map[bool]string{true: "TRUE", false: "FALSE"}[f.Quant == "all"]
		}
	default:
		sql = ref + " " + comparison[f.Op] + " " + b.param(likeValue(f.Op, f.Value))
	}
	if f.Negate {
		sql = "NOT (" + sql + ")"
	}
	return sql, nil
}

// embedNull answers author=is.null and author=not.is.null on the root
// table, where author is an embedding of select= and not a column
// (PostgREST's null filtering of embedded resources): the rows without, or
// with, a related row that passes the embedding's own filters. ok is false
// when f is not such a filter.
func (b *builder) embedNull(alias string, t *Table, f *postgrest.Filter) (sql string, ok bool, err error) {
	if alias != rootAlias || f.Op != postgrest.Is || (f.Value != "null" && f.Value != "not_null") || len(f.JSONPath) > 0 {
		return "", false, nil
	}
	if _, isColumn := t.Column(f.Column); isColumn {
		return "", false, nil
	}
	it := findEmbed(b.selects, f.Column)
	if it == nil {
		return "", false, nil
	}
	e := *it.Embed
	e.Inner, e.Items = true, innerOnly(e.Items)
	var exists []string
	if _, err := b.embed(alias, t, postgrest.SelectItem{Alias: it.Alias, Embed: &e}, &exists); err != nil {
		return "", true, err
	}
	if (f.Value == "not_null") != f.Negate {
		return exists[0], true, nil
	}
	return "NOT " + exists[0], true, nil
}

// findEmbed is the embedding of items named name (its alias, or its
// relation when it has none).
func findEmbed(items []postgrest.SelectItem, name string) *postgrest.SelectItem {
	for i, it := range items {
		if it.Embed != nil && (it.Alias == name || it.Alias == "" && it.Embed.Relation == name) {
			return &items[i]
		}
	}
	return nil
}

func (b *builder) order(alias string, t *Table, terms []postgrest.OrderTerm) (string, error) {
	parts := make([]string, 0, len(terms))
	for _, o := range terms {
		ref, err := b.ref(alias, t, o.Column, o.JSONPath)
		if err != nil {
			return "", err
		}
		if o.Desc {
			ref += " DESC"
		}
		switch o.Nulls {
		case "first":
			ref += " NULLS FIRST"
		case "last":
			ref += " NULLS LAST"
		}
		parts = append(parts, ref)
	}
	return strings.Join(parts, ", "), nil
}

// rowsJSON is the JSON array (as text) of the rows of alias a; with
// stripNulls, without the fields whose value is null (nested ones too).
func rowsJSON(a string, stripNulls bool) string {
	return stripped("coalesce(json_agg("+a+"), '[]')", stripNulls) + "::text"
}

// stripped is the JSON expression j without its null fields when strip.
func stripped(j string, strip bool) string {
	if strip {
		return "json_strip_nulls(" + j + ")"
	}
	return j
}
