package dbapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/dbapi/postgrest"
)

const rootAlias = "_0"

// Read answers GET and HEAD /v1/db/{table}.
func (s *Service) Read(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parseRest(r)
	if err != nil {
		return err
	}
	if req.explain != nil {
		return s.explainRead(w, r, req)
	}
	var stmts []stmt
	var buf [256]byte
	if shape, ok := appendShape(buf[:0], req); ok {
		cached, hit := req.sc.reads.get(shape)
		if !hit {
			built, err := buildRead(req)
			if err != nil {
				return err
			}
			for _, st := range built {
				cached = append(cached, stmt{sql: st.sql, plan: st.plan})
			}
			req.sc.reads.put(string(shape), cached)
		}
		args := condArgs(make([]any, 0, 4), req.conds)
		stmts = make([]stmt, len(cached))
		for i, st := range cached {
			stmts[i] = stmt{sql: st.sql, args: args, plan: st.plan}
		}
	} else if stmts, err = buildRead(req); err != nil {
		return err
	}
	res, err := s.pipelined(r.Context(), req.caller, stmts, nil)
	if err != nil {
		return aggregateError(req.selects, err)
	}
	return writeRead(w, r, req, res[0], countTotal(req, res))
}

// csvBody turns a read into CSV, as PostgREST writes it: a header line of
// the column names (of the first row: none without rows), then each row as
// PostgreSQL's text form of the record without its parentheses (values
// separated by commas, quoted with "" where needed, NULL empty).
func csvBody(rows string) string {
	return "WITH _r AS (" + rows + ") SELECT coalesce((SELECT string_agg(_k, ',') FROM " +
		"json_object_keys((SELECT row_to_json(_h) FROM _r _h LIMIT 1)) _k), '') || chr(10) || " +
		"coalesce(string_agg(substring(_r::text, 2, length(_r::text) - 2), chr(10)), ''), count(*) FROM _r"
}

// writeRead answers a read: 206 when a range leaves rows out of the total
// (-1: not counted), Content-Range, Preference-Applied and the rows.
func writeRead(w http.ResponseWriter, r *http.Request, req *restRequest, res pipeResult, total int64) error {
	status := http.StatusOK
	if total >= 0 && req.ranged && int64(req.offset)+res.n < total {
		status = http.StatusPartialContent
	}
	setRange(w, req.offset, res.n, total)
	if len(req.prefer.applied) > 0 {
		w.Header().Set("Preference-Applied", strings.Join(req.prefer.applied, ", "))
	}
	if req.csv && !req.object && req.fn == nil {
		w.Header()["Content-Type"] = []string{"text/csv; charset=utf-8"}
		w.Header()["Cache-Control"] = []string{"no-store"}
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return nil
		}
		_, err := w.Write(res.body)
		return err
	}
	return writeBody(w, r, status, res, req.object)
}

// buildRead builds the SQL of a read (and of its count with Prefer: count).
// The parameters of every statement are condArgs(req.conds).
func buildRead(req *restRequest) ([]stmt, error) {
	b := &builder{sc: req.sc, embedConds: req.embedConds, embedPages: req.embedPages, selects: req.selects, used: map[string]bool{}}
	from := qt(req.table) + " " + rootAlias
	sql, err := b.readQuery(req, from)
	if err != nil {
		return nil, err
	}
	body := "SELECT " + rowsJSON("_r", req.stripNulls) + ", count(*) FROM (" + sql + ") _r"
	if req.csv {
		body = csvBody(sql)
	}
	out := []stmt{{sql: body, args: b.args}}
	if cacheable(req) && !slices.Equal(b.args, condArgs(nil, req.conds)) {
		return nil, errArgsOrder
	}
	if req.prefer.count {
		cb := &builder{sc: req.sc, embedConds: req.embedConds, selects: req.selects}
		cw, err := cb.countWhere(req)
		if err != nil {
			return nil, err
		}
		counted := from + " WHERE " + cw // the rows counted: SELECT ... FROM counted
		if aggregated(req.selects) {
			// The rows of an aggregate are its groups.
			cb = &builder{sc: req.sc, embedConds: req.embedConds, embedPages: req.embedPages, selects: req.selects, used: map[string]bool{}}
			groups, err := cb.rowsQuery(req, from)
			if err != nil {
				return nil, err
			}
			counted = "(" + groups + ") _g"
		}
		rows := "SELECT 1 FROM " + counted
		switch req.prefer.countMode {
		case "planned":
			out = append(out, stmt{sql: "EXPLAIN (FORMAT JSON) " + rows, args: cb.args, plan: true})
		case "estimated":
			// Counting stops one row past the cap; past it the planner's
			// estimate answers (countTotal).
			out = append(out, stmt{sql: "SELECT '', count(*) FROM (" + rows + " LIMIT " + itoa(req.maxRows+1) + ") _c", args: cb.args},
				stmt{sql: "EXPLAIN (FORMAT JSON) " + rows, args: cb.args, plan: true})
		default:
			out = append(out, stmt{sql: "SELECT '', count(*) FROM " + counted, args: cb.args})
		}
		if cacheable(req) && !slices.Equal(cb.args, condArgs(nil, req.conds)) {
			return nil, errArgsOrder
		}
	}
	return out, nil
}

// countTotal is the total of a read with Prefer: count from its results
// (the read's first): exact, planned, or for estimated the exact count
// unless it passed DB_API_MAX_ROWS, then the plan's estimate.
func countTotal(req *restRequest, res []pipeResult) int64 {
	if !req.prefer.count {
		return -1
	}
	if req.prefer.countMode == "estimated" && res[1].n > int64(req.maxRows) {
		return max(res[2].n, res[1].n)
	}
	return res[1].n
}

// readQuery is the SELECT of a read's rows from the source from, which
// must name them rootAlias (a table, or a function call for RPC).
func (b *builder) readQuery(req *restRequest, from string) (string, error) {
	sql, err := b.rowsQuery(req, from)
	if err != nil {
		return "", err
	}
	if len(req.order) > 0 {
		ord, err := b.order(rootAlias, req.table, req.order)
		if err != nil {
			return "", err
		}
		sql += " ORDER BY " + ord
	}
	switch {
	case req.fn != nil && !req.ranged:
		// A function's rows are all returned unless a range is asked for,
		// as RPC did before it took read parameters.
	case req.fn != nil || req.offset > 0 || req.limit < 1 || !pinsPrimaryKey(req.table, req.conds):
		// (A function may return a row twice, so its primary key pins nothing.)
		sql += " LIMIT " + itoa(req.limit) + " OFFSET " + itoa(req.offset)
	}
	return sql, nil
}

// rowsQuery is a read's SELECT without its order and page.
func (b *builder) rowsQuery(req *restRequest, from string) (string, error) {
	var where []string
	list, err := b.selectList(rootAlias, req.table, req.selects, &where)
	if err != nil {
		return "", err
	}
	group := b.group
	for path := range req.embedConds {
		if !b.used[path] {
			return "", badRequest("invalid_query", "The filter on "+quote(path)+" names no embedded relation of select=.",
				"Embed it first, e.g. select=*,"+path+"(*) (use its alias if it has one).")
		}
	}
	for path := range req.embedPages {
		if !b.used[path] {
			return "", badRequest("invalid_query", quote(path)+" in "+path+".order/limit/offset names no embedded relation of select=.",
				"Embed it first, e.g. select=*,"+path+"(*) (use its alias if it has one).")
		}
	}
	filters, err := b.conditions(rootAlias, req.table, req.conds)
	if err != nil {
		return "", err
	}
	where = append([]string{filters}, where...)
	return "SELECT " + list + " FROM " + from + strings.Join(b.laterals, "") + " WHERE " + strings.Join(where, " AND ") + group, nil
}

// aggregated reports whether a select list has an aggregate at its level.
func aggregated(items []postgrest.SelectItem) bool {
	for _, it := range items {
		if it.Aggregate != "" {
			return true
		}
	}
	return false
}

// countWhere is the WHERE of a read's count: its filters and its !inner
// embeds (with their filters), which filter the counted rows like the read.
func (b *builder) countWhere(req *restRequest) (string, error) {
	cf, err := b.conditions(rootAlias, req.table, req.conds)
	if err != nil {
		return "", err
	}
	cw := []string{cf}
	for _, it := range innerOnly(req.selects) {
		if _, err := b.embed(rootAlias, req.table, it, &cw); err != nil {
			return "", err
		}
	}
	return strings.Join(cw, " AND "), nil
}

// pinsPrimaryKey reports whether the conditions (ANDed) hold an equality
// on every primary-key column, so the read returns at most one row and
// needs no LIMIT. Without one PostgreSQL can flatten the subquery, which
// saves executor nodes on every by-id read.
func pinsPrimaryKey(t *Table, conds []postgrest.Condition) bool {
	if len(t.PrimaryKey) == 0 {
		return false
	}
	for _, col := range t.PrimaryKey {
		found := false
		for _, c := range conds {
			f := c.Filter
			if f != nil && f.Column == col && f.Op == postgrest.Eq && !f.Negate && f.Quant == "" && len(f.JSONPath) == 0 && len(f.Embed) == 0 {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// errArgsOrder is a bug: condArgs disagrees with the builder.
var errArgsOrder = errors.New("dbapi: parameters of a cached read are out of order")

func setRange(w http.ResponseWriter, offset int, n, total int64) {
	t := "*"
	if total >= 0 {
		t = itoa(int(total))
	}
	// Headers are assigned directly: the names are canonical already.
	if n == 0 {
		w.Header()["Content-Range"] = []string{"*/" + t}
		return
	}
	w.Header()["Content-Range"] = []string{itoa(offset) + "-" + itoa(offset+int(n)-1) + "/" + t}
}

// writeBody sends PostgreSQL's JSON; for Accept: application/vnd.pgrst.object+json
// exactly one row must match and is sent as an object.
func writeBody(w http.ResponseWriter, r *http.Request, status int, res pipeResult, object bool) error {
	body := res.body
	if object {
		if res.n != 1 {
			return apierror.New(http.StatusNotAcceptable, "not_single_object",
				"The result has "+itoa(int(res.n))+" rows; application/vnd.pgrst.object+json needs exactly one.").
				WithHint("Filter on a unique column (e.g. id=eq.1), or drop .single() / the object Accept header.")
		}
		body = bytes.TrimSuffix(bytes.TrimPrefix(body, []byte("[")), []byte("]"))
		w.Header()["Content-Type"] = []string{"application/vnd.pgrst.object+json; charset=utf-8"}
	} else {
		w.Header()["Content-Type"] = []string{"application/json; charset=utf-8"}
	}
	w.Header()["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(body)
	return err
}

// readRows reads a JSON object or array of objects and the union of their keys.
func readRows(r *http.Request, arrayOK bool) ([]byte, []string, error) {
	raw, cols, _, err := readRowsKeys(r, arrayOK)
	return raw, cols, err
}

// readRowsKeys is readRows that also returns the parsed rows.
func readRowsKeys(r *http.Request, arrayOK bool) ([]byte, []string, []map[string]json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, nil, nil, apierror.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "The body must be JSON.").
			WithHint("Send Content-Type: application/json.")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, nil, apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge, "The body is too large.")
		}
		return nil, nil, nil, err
	}
	raw = bytes.TrimSpace(raw)
	var rows []map[string]json.RawMessage
	switch {
	case len(raw) > 0 && raw[0] == '[' && arrayOK:
		err = json.Unmarshal(raw, &rows)
	case len(raw) > 0 && raw[0] == '{':
		var one map[string]json.RawMessage
		err = json.Unmarshal(raw, &one)
		rows = []map[string]json.RawMessage{one}
		raw = append(append([]byte("["), raw...), ']')
	default:
		what := "a JSON object"
		if arrayOK {
			what = "a JSON object or an array of objects"
		}
		return nil, nil, nil, badRequest(apierror.CodeInvalidJSON, "The body must be "+what+".", "")
	}
	if err != nil {
		return nil, nil, nil, badRequest(apierror.CodeInvalidJSON, "The body is not valid JSON: "+err.Error()+".", "")
	}
	seen := map[string]bool{}
	var cols []string
	for _, row := range rows {
		for k := range row {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	slices.Sort(cols)
	return raw, cols, rows, nil
}

func (req *restRequest) checkColumns(cols []string) error {
	for _, c := range cols {
		if _, ok := req.table.Column(c); !ok {
			return unknownColumn(req.table, c)
		}
	}
	return nil
}

// returning is the RETURNING list of a write with return=representation.
func (b *builder) returning(req *restRequest) (string, error) {
	for _, it := range req.selects {
		if it.Embed != nil {
			return "", badRequest("invalid_query", "Embedded relations are not supported in the result of a write.",
				"Select plain columns, then read the relations with a GET.")
		}
	}
	if hasAggregate(req.selects) {
		return "", badRequest("invalid_aggregate", "Aggregates are not supported in the result of a write.",
			"Select plain columns, then aggregate with a GET.")
	}
	var none []string
	return b.selectList(rootAlias, req.table, req.selects, &none)
}

// write is one generated write statement and the builder holding its
// parameters.
type write struct {
	b   *builder
	sql string
}

// runWrite runs a write statement and answers it: 201/200 with the rows for
// return=representation, else 201/204 with no body.
func (s *Service) runWrite(w http.ResponseWriter, r *http.Request, req *restRequest, b *builder, sql string, created bool) error {
	return s.runWrites(w, r, req, []write{{b: b, sql: sql}}, created)
}

// runWrites runs several write statements in one transaction and answers
// them as one (their rows one after the other).
func (s *Service) runWrites(w http.ResponseWriter, r *http.Request, req *restRequest, writes []write, created bool) error {
	okStatus := http.StatusOK
	if created {
		okStatus = http.StatusCreated
	}
	if len(req.prefer.applied) > 0 {
		w.Header().Set("Preference-Applied", strings.Join(req.prefer.applied, ", "))
	}
	stmts := make([]stmt, len(writes))
	if !req.prefer.representation {
		// No RETURNING: a role allowed to write but not to read (an insert-only
		// table) must still be able to write.
		execOnly := make([]bool, len(writes))
		for i, wr := range writes {
			stmts[i], execOnly[i] = stmt{sql: wr.sql, args: wr.b.args}, true
		}
		res, err := s.execWrites(r, req, stmts, execOnly)
		if err != nil {
			return err
		}
		var affected int64
		for _, x := range res {
			affected += x.affected
		}
		setRange(w, 0, affected, -1)
		if !created {
			okStatus = http.StatusNoContent
		}
		w.WriteHeader(okStatus)
		return nil
	}
	for i, wr := range writes {
		ret, err := wr.b.returning(req)
		if err != nil {
			return err
		}
		stmts[i] = stmt{sql: "WITH _w AS (" + wr.sql + " RETURNING " + ret + ") SELECT " + rowsJSON("_w", req.stripNulls) + ", count(*) FROM _w",
			args: wr.b.args}
	}
	res, err := s.execWrites(r, req, stmts, nil)
	if err != nil {
		return aggregateError(req.selects, err)
	}
	all := concatRows(res)
	setRange(w, 0, all.n, -1)
	return writeBody(w, r, okStatus, all, req.object)
}

// execWrites runs a write's statements. Prefer: tx=rollback rolls them back
// after they ran (the answer is what they did); max-affected rolls them
// back and refuses the request when they changed more rows than it allows.
func (s *Service) execWrites(r *http.Request, req *restRequest, stmts []stmt, execOnly []bool) ([]pipeResult, error) {
	p := req.prefer
	if !p.rollback && p.maxAffected < 0 {
		return s.pipelined(r.Context(), req.caller, stmts, execOnly)
	}
	return s.pipelinedTx(r.Context(), req.caller, stmts, execOnly, func(res []pipeResult) (bool, error) {
		if n := changedRows(res, execOnly); p.maxAffected >= 0 && n > p.maxAffected {
			return false, badRequest("max_affected_exceeded",
				"The request would change "+itoa(int(n))+" rows, more than max-affected="+itoa(int(p.maxAffected))+" allows: it changed none.",
				"Narrow the filter, or raise max-affected.")
		}
		return !p.rollback, nil
	})
}

// changedRows counts the rows the write statements changed: their command
// tags, or the rows they returned.
func changedRows(res []pipeResult, execOnly []bool) int64 {
	var n int64
	for i, x := range res {
		if execOnly != nil && execOnly[i] {
			n += x.affected
		} else {
			n += x.n
		}
	}
	return n
}

// concatRows joins the JSON arrays of several results into one.
func concatRows(res []pipeResult) pipeResult {
	if len(res) == 1 {
		return res[0]
	}
	out := pipeResult{body: []byte{'['}}
	for _, x := range res {
		inner := bytes.TrimSpace(x.body)
		inner = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimPrefix(inner, []byte("[")), []byte("]")))
		if len(inner) == 0 {
			continue
		}
		if out.n > 0 {
			out.body = append(out.body, ',')
		}
		out.body = append(out.body, inner...)
		out.n += x.n
	}
	out.body = append(out.body, ']')
	return out
}

// Insert answers POST /v1/db/{table}: one object or an array; upsert with
// Prefer: resolution=merge-duplicates|ignore-duplicates and on_conflict=.
func (s *Service) Insert(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parseRest(r)
	if err != nil {
		return err
	}
	raw, cols, rows, err := readRowsKeys(r, true)
	if err != nil {
		return err
	}
	if req.columns != nil {
		cols = req.columns
	}
	if err := req.checkColumns(cols); err != nil {
		return err
	}
	if !req.prefer.missingDefault {
		b := &builder{sc: req.sc}
		sql, err := req.insertSQL(b, cols, string(raw), len(rows))
		if err != nil {
			return err
		}
		return s.runWrite(w, r, req, b, sql, true)
	}
	// Prefer: missing=default: rows are grouped by the keys they have, and
	// each group is inserted with only those columns, so PostgreSQL fills
	// the others with their defaults (identity and generated columns
	// included). All groups run in one transaction.
	var writes []write
	groups := map[string]int{}
	var bodies [][]map[string]json.RawMessage
	var groupCols [][]string
	for _, row := range rows {
		var have []string
		for _, c := range cols {
			if _, ok := row[c]; ok {
				have = append(have, c)
			}
		}
		k := strings.Join(have, "\x00")
		i, ok := groups[k]
		if !ok {
			i = len(bodies)
			groups[k] = i
			bodies = append(bodies, nil)
			groupCols = append(groupCols, have)
		}
		bodies[i] = append(bodies[i], row)
	}
	for i, body := range bodies {
		enc, err := json.Marshal(body)
		if err != nil {
			return err
		}
		b := &builder{sc: req.sc}
		sql, err := req.insertSQL(b, groupCols[i], string(enc), len(body))
		if err != nil {
			return err
		}
		writes = append(writes, write{b: b, sql: sql})
	}
	return s.runWrites(w, r, req, writes, true)
}

// insertSQL is INSERT of the n rows of the JSON array body (a parameter)
// into columns cols, with the ON CONFLICT clause of an upsert.
func (req *restRequest) insertSQL(b *builder, cols []string, body string, n int) (string, error) {
	t := qt(req.table)
	var sql string
	switch {
	case len(cols) > 0:
		qc := make([]string, len(cols))
		for i, c := range cols {
			qc[i] = qi(c)
		}
		list := strings.Join(qc, ", ")
		sql = "INSERT INTO " + t + " AS " + rootAlias + " (" + list + ") SELECT " + list +
			" FROM json_populate_recordset(NULL::" + t + ", " + b.param(body) + "::json)"
	case n > 1 && len(req.table.Columns) > 0:
		// Rows with no keys: as many rows of defaults (DEFAULT VALUES makes one).
		vals := strings.Repeat("(DEFAULT), ", n)
		sql = "INSERT INTO " + t + " AS " + rootAlias + " (" + qi(req.table.Columns[0].Name) + ") VALUES " + vals[:len(vals)-2]
	default:
		sql = "INSERT INTO " + t + " AS " + rootAlias + " DEFAULT VALUES"
	}
	if req.prefer.merge || req.prefer.ignore {
		target := req.onConflict
		if target == nil {
			target = req.table.PrimaryKey
		}
		if len(target) == 0 {
			return "", badRequest("invalid_query", "Upsert needs on_conflict= (the table has no primary key).", "")
		}
		if err := req.checkColumns(target); err != nil {
			return "", err
		}
		qc := make([]string, len(target))
		for i, c := range target {
			qc[i] = qi(c)
		}
		sql += " ON CONFLICT (" + strings.Join(qc, ", ") + ")"
		var sets []string
		for _, c := range cols {
			if !slices.Contains(target, c) {
				sets = append(sets, qi(c)+" = EXCLUDED."+qi(c))
			}
		}
		if req.prefer.ignore || len(sets) == 0 {
			sql += " DO NOTHING"
		} else {
			sql += " DO UPDATE SET " + strings.Join(sets, ", ")
		}
	} else if req.onConflict != nil {
		return "", badRequest("invalid_query", "on_conflict= needs Prefer: resolution=merge-duplicates or resolution=ignore-duplicates.", "")
	}
	return sql, nil
}

func errFilterRequired(method string) error {
	return badRequest("filter_required", method+" without a filter would change every row, so it is refused.",
		"Add a filter such as id=eq.1 (to really target every row, filter on a column that is never null: id=not.is.null).")
}

// Update answers PATCH /v1/db/{table}; a filter is required.
func (s *Service) Update(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parseRest(r)
	if err != nil {
		return err
	}
	if len(req.conds) == 0 {
		return errFilterRequired("PATCH")
	}
	raw, cols, err := readRows(r, false)
	if err != nil {
		return err
	}
	if err := req.checkColumns(cols); err != nil {
		return err
	}
	if len(cols) == 0 {
		return badRequest("invalid_query", "The body names no column to update.", "")
	}
	b := &builder{sc: req.sc}
	t := qt(req.table)
	body := b.param(string(bytes.TrimSuffix(bytes.TrimPrefix(raw, []byte("[")), []byte("]"))))
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = qi(c) + " = _v." + qi(c)
	}
	where, err := b.conditions(rootAlias, req.table, req.conds)
	if err != nil {
		return err
	}
	sql := "UPDATE " + t + " AS " + rootAlias + " SET " + strings.Join(sets, ", ") +
		" FROM json_populate_record(NULL::" + t + ", " + body + "::json) AS _v WHERE " + where
	return s.runWrite(w, r, req, b, sql, false)
}

// Delete answers DELETE /v1/db/{table}; a filter is required.
func (s *Service) Delete(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parseRest(r)
	if err != nil {
		return err
	}
	if len(req.conds) == 0 {
		return errFilterRequired("DELETE")
	}
	b := &builder{sc: req.sc}
	where, err := b.conditions(rootAlias, req.table, req.conds)
	if err != nil {
		return err
	}
	return s.runWrite(w, r, req, b, "DELETE FROM "+qt(req.table)+" AS "+rootAlias+" WHERE "+where, false)
}

// NotFound answers unknown GET paths under /v1 with the JSON 404 (instead
// of the dashboard's HTML).
func (s *Service) NotFound(w http.ResponseWriter, r *http.Request) error {
	return apierror.New(http.StatusNotFound, apierror.CodeNotFound, "No such endpoint.").
		WithHint("The database API is /v1/db/{table}, /v1/db/rpc/{function} (also under /rest/v1/, for supabase-js), /v1/sql, /v1/sql/transaction and /v1/keys.")
}
