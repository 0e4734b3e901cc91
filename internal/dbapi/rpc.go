package dbapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/apikey"
)

// RPC answers POST /v1/db/rpc/{function} (arguments as a JSON object) and
// GET (arguments as query parameters). Argument names must be the
// function's; values go to PostgreSQL as one JSON parameter that
// json_to_record converts to the argument types read from the catalog.
// The rows of a function returning rows are read like a table's: select=,
// filters, order=, limit/offset or Range, Prefer: count and the object
// Accept header apply to them (rpcRows). Other results take none of these.
func (s *Service) RPC(w http.ResponseWriter, r *http.Request) error {
	c, _ := apikey.FromContext(r.Context())
	schema, err := s.profile(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	get := r.Method != http.MethodPost
	args, err := rpcArgs(r, q, get)
	if err != nil {
		return err
	}
	f, err := s.lookupFunction(r, schema, r.PathValue("function"), sortedKeys(args), get)
	if err != nil {
		return err
	}
	// PostgREST's rule for GET: the query parameters named like the
	// function's arguments are arguments, the others filter its result.
	for k := range args {
		if !slices.Contains(f.ArgNames, k) {
			delete(args, k)
		}
	}
	if get && f.Volatile {
		return apierror.New(http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed,
			"Function "+f.Name+" is VOLATILE: call it with POST.").WithHint("Declare it STABLE or IMMUTABLE to allow GET.")
	}
	b := &builder{}
	argsFrom, call := rpcCall(b, f, args)
	if f.Result != nil {
		req, err := rpcRead(r, q, c, f, s.opts.MaxRows)
		if err != nil {
			return err
		}
		return s.rpcRows(w, r, req, b, argsFrom, call)
	}
	if err := noReadParams(r, q, f); err != nil {
		return err
	}
	from := ""
	if argsFrom != "" {
		from = " FROM " + argsFrom
	}
	var sql string
	strip := nullsStripped(r.Header.Get("Accept"))
	switch {
	case f.ReturnsVoid:
		sql = "SELECT 'null', 1 FROM (SELECT " + call + from + ") _x"
	case f.ReturnsSet && f.ReturnsRow:
		sql = "SELECT " + rowsJSON("_r", strip) + ", count(*)" + joinFrom(from) + call + " _r"
	case f.ReturnsSet:
		sql = "SELECT " + rowsJSON("_r._v", strip) + ", count(*)" + joinFrom(from) + call + " AS _r(_v)"
	case f.ReturnsRow:
		sql = "SELECT " + stripped("coalesce(to_json(_r), 'null')", strip) + "::text, 1" + joinFrom(from) + call + " _r"
	default:
		sql = "SELECT " + stripped("coalesce(to_json("+call+"), 'null')", strip) + "::text, 1" + from
	}
	pref := parsePrefer(r.Header)
	if err := pref.check(); err != nil {
		return err
	}
	res, err := s.execRPC(r, c, stmt{sql: sql, args: b.args}, pref)
	if err != nil {
		return err
	}
	if pref.rollback {
		w.Header().Set("Preference-Applied", "tx=rollback")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(res[0].body)
	return err
}

// rpcReadParams are the query parameters that are never arguments.
var rpcReadParams = map[string]bool{"select": true, "order": true, "limit": true, "offset": true}

// rpcArgs are the arguments of a call: the keys of a POST's JSON body, or
// every query parameter of a GET but the read parameters (the function,
// once found, tells which of these are arguments and which are filters).
func rpcArgs(r *http.Request, q url.Values, get bool) (map[string]json.RawMessage, error) {
	args := map[string]json.RawMessage{}
	if get {
		for k, v := range q {
			if !rpcReadParams[k] {
				b, _ := json.Marshal(v[len(v)-1])
				args[k] = b
			}
		}
		return args, nil
	}
	if r.ContentLength == 0 {
		return args, nil
	}
	raw, _, err := readRows(r, false)
	if err != nil {
		return nil, err
	}
	raw = raw[1 : len(raw)-1] // readRows wrapped the object in [ ]
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, badRequest(apierror.CodeInvalidJSON, "The body must be a JSON object of arguments.", "")
	}
	return args, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// rpcCall is the call of f with args passed by name. argsFrom is the FROM
// item turning the arguments' JSON, always parameter $1, into a record _a
// of the argument types ("" when there are none).
func rpcCall(b *builder, f *Function, args map[string]json.RawMessage) (argsFrom, call string) {
	fn := pgxIdent(f.Schema, f.Name)
	if len(args) == 0 {
		return "", fn + "()"
	}
	names := sortedKeys(args)
	body, _ := json.Marshal(args)
	defs := make([]string, len(names))
	named := make([]string, len(names))
	for i, n := range names {
		idx := slices.Index(f.ArgNames, n)
		defs[i] = qi(n) + " " + f.ArgTypes[idx] // format_type output: catalog text, not user text
		named[i] = qi(n) + " => _a." + qi(n)
	}
	argsFrom = "json_to_record(" + b.param(string(body)) + "::json) AS _a(" + strings.Join(defs, ", ") + ")"
	return argsFrom, fn + "(" + strings.Join(named, ", ") + ")"
}

// rpcRead parses the read parameters of a call against the function's
// result columns. The query parameters of a GET that are arguments are
// not filters; on_conflict= and columns= belong to table writes.
func rpcRead(r *http.Request, q url.Values, c *apikey.Caller, f *Function, maxRows int) (*restRequest, error) {
	get := r.Method != http.MethodPost
	isArg := func(k string) bool { return get && slices.Contains(f.ArgNames, k) }
	for _, k := range []string{"on_conflict", "columns"} {
		if q.Has(k) && !isArg(k) {
			return nil, badRequest("invalid_query", k+"= applies to writes to a table, not to /v1/db/rpc.",
				"Remove it; pass arguments in the JSON body (POST) or as query parameters (GET).")
		}
	}
	req := &restRequest{caller: c, table: f.Result, fn: f}
	skip := func(k string) bool { return rpcReadParams[k] || isArg(k) }
	if err := req.parseQuery(r, q, skip, true, maxRows); err != nil {
		return nil, err
	}
	if req.explain != nil {
		return nil, errExplainReadsOnly()
	}
	if req.csv {
		return nil, errCSVReadsOnly()
	}
	return req, nil
}

// rpcRows answers a call like a table read, with the call as the source
// of the rows (rootAlias) after the arguments' record; $1 stays the
// arguments' JSON and the builder numbers the read's values after it.
// With Prefer: count, the call is materialized once and counted in the
// statement that pages it: a second statement would run the function
// twice (and a VOLATILE one's effects with it).
func (s *Service) rpcRows(w http.ResponseWriter, r *http.Request, req *restRequest, b *builder, argsFrom, call string) error {
	b.sc, b.embedConds, b.embedPages, b.selects, b.used = req.sc, req.embedConds, req.embedPages, req.selects, map[string]bool{}
	src := call + " " + rootAlias
	if argsFrom != "" {
		src = argsFrom + " CROSS JOIN LATERAL " + src
	}
	var sql string
	if !req.prefer.count {
		page, err := b.readQuery(req, src)
		if err != nil {
			return err
		}
		sql = "SELECT " + rowsJSON("_r", req.stripNulls) + ", count(*) FROM (" + page + ") _r"
	} else {
		page, err := b.readQuery(req, "_f "+rootAlias)
		if err != nil {
			return err
		}
		counted, err := b.rpcCount(req)
		if err != nil {
			return err
		}
		sql = "WITH _f AS MATERIALIZED (SELECT " + rootAlias + ".* FROM " + src + ")" +
			" SELECT " + rowsJSON("_r", req.stripNulls) + ", count(*), (SELECT count(*) FROM " + counted + ")" +
			" FROM (" + page + ") _r"
	}
	res, err := s.execRPC(r, req.caller, stmt{sql: sql, args: b.args}, req.prefer)
	if err != nil {
		return aggregateError(req.selects, err)
	}
	page, total := res[0], int64(-1)
	if req.prefer.count {
		total = page.total
	}
	if !req.fn.ReturnsSet && !req.object {
		// One composite value is answered as an object, as without read
		// parameters (null when a filter removed it).
		page.body = bytes.TrimSuffix(bytes.TrimPrefix(page.body, []byte("[")), []byte("]"))
		if page.n == 0 {
			page.body = []byte("null")
		}
	}
	return writeRead(w, r, req, page, total)
}

// noReadParams refuses read parameters (select= other than *, order=,
// limit, offset, Range, filters) on a result without columns to apply
// them to: a scalar, a set of scalars, void or a bare record.
func noReadParams(r *http.Request, q url.Values, f *Function) error {
	get := r.Method != http.MethodPost
	what := "returns " + f.ReturnType
	if f.ReturnsSet {
		what = "returns a set of " + f.ReturnType
	}
	hint := "Read parameters (select, order, limit, offset, Range and filters) apply to functions returning rows: " +
		"RETURNS SETOF a table or composite type, RETURNS TABLE(...), or OUT parameters. Call " + f.Name + " without them."
	if f.ReturnsRow {
		what += " without named columns"
		hint = "Declare OUT parameters or RETURNS TABLE(...) so the result's columns are known."
	}
	sig := f.Name + "(" + strings.Join(f.ArgNames, ", ") + ")"
	for _, k := range sortedKeys(q) {
		switch v := q.Get(k); {
		case get && slices.Contains(f.ArgNames, k):
		case k == "select" && (v == "" || v == "*"): // postgrest-js's .select() selects *: nothing to apply
		case rpcReadParams[k]:
			return badRequest("invalid_query", k+"= cannot apply to the result of "+sig+": it "+what+", not rows.", hint).
				WithDetails(map[string]any{"param": k})
		default:
			why := " is a filter (a POST's arguments are its JSON body)"
			if get {
				why = " is not an argument of " + sig + ", so it is a filter"
			}
			return badRequest("invalid_query", "The query parameter "+quote(k)+why+", and filters cannot apply to the result of "+f.Name+": it "+what+", not rows.", hint).
				WithDetails(map[string]any{"param": k})
		}
	}
	if r.Header.Get("Range") != "" {
		return badRequest("invalid_query", "A Range header cannot apply to the result of "+sig+": it "+what+", not rows.", hint).
			WithDetails(map[string]any{"param": "Range"})
	}
	return nil
}

// joinFrom puts the function call in FROM, after the arguments' record.
func joinFrom(from string) string {
	if from == "" {
		return " FROM "
	}
	return from + " CROSS JOIN LATERAL "
}

func pgxIdent(schema, name string) string { return qi(schema) + "." + qi(name) }

// lookupFunction finds the overload whose argument names cover names and
// whose arguments without defaults are all given. With extra (a GET, whose
// query parameters may be filters too) names need not all be arguments:
// the overload taking the most of them wins.
func (s *Service) lookupFunction(r *http.Request, schema, name string, names []string, extra bool) (*Function, error) {
	arrived := time.Now()
	sc, err := s.Schema(r.Context())
	if err != nil {
		return nil, err
	}
	fs := sc.Functions[key(schema, name)]
	if fs == nil {
		if sc, err = s.reload(r.Context(), false, arrived); err != nil {
			return nil, err
		}
		fs = sc.Functions[key(schema, name)]
	}
	if fs == nil {
		var all []string
		for _, l := range sc.Functions {
			if l[0].Schema == schema {
				all = append(all, l[0].Name)
			}
		}
		hint := "Create it in schema " + schema + ", or check DB_API_SCHEMAS."
		if near := closest(name, all); len(near) > 0 {
			hint = "Did you mean " + strings.Join(near, " or ") + "? " + hint
		}
		return nil, apierror.New(http.StatusNotFound, "function_not_found", "No function "+quote(name)+" in schema "+schema+".").WithHint(hint)
	}
	var sigs []string
	var best *Function
	bestN := -1
	for _, f := range fs {
		sigs = append(sigs, f.Name+"("+strings.Join(f.ArgNames, ", ")+")")
		ok, n := true, 0
		for _, nm := range names {
			if slices.Contains(f.ArgNames, nm) {
				n++
			} else if !extra {
				ok = false
			}
		}
		required := len(f.ArgNames) - f.NumDefaults
		for i := 0; i < required && ok; i++ {
			if !slices.Contains(names, f.ArgNames[i]) {
				ok = false
			}
		}
		if ok && n > bestN {
			best, bestN = f, n
		}
	}
	if best != nil {
		return best, nil
	}
	msg, hint := "No function "+name+" takes the arguments ("+strings.Join(names, ", ")+").", ""
	if extra {
		msg, hint = "No function "+name+" can be called with the query parameters ("+strings.Join(names, ", ")+").",
			" Query parameters that are not arguments filter the result."
	}
	return nil, apierror.New(http.StatusNotFound, "function_not_found", msg).
		WithHint("Available: " + strings.Join(sigs, "; ") + ". Arguments are passed by name." + hint)
}

// rpcCount is what an RPC read with Prefer: count counts, in the
// materialized call _f: its filtered rows, or an aggregate's groups.
func (b *builder) rpcCount(req *restRequest) (string, error) {
	if aggregated(req.selects) {
		groups, err := b.rowsQuery(req, "_f "+rootAlias)
		return "(" + groups + ") _g", err
	}
	cw, err := b.countWhere(req)
	return "_f " + rootAlias + " WHERE " + cw, err
}

// execRPC runs a call; with Prefer: tx=rollback what it did is rolled back.
func (s *Service) execRPC(r *http.Request, c *apikey.Caller, st stmt, p prefer) ([]pipeResult, error) {
	if !p.rollback {
		return s.pipelined(r.Context(), c, []stmt{st}, nil)
	}
	return s.pipelinedTx(r.Context(), c, []stmt{st}, nil, func([]pipeResult) (bool, error) { return false, nil })
}
