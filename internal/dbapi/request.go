package dbapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/dbapi/postgrest"
)

// restRequest is an auto-REST request parsed against the schema cache.
type restRequest struct {
	caller *apikey.Caller
	table  *Table
	sc     *Schema
	// fn is the function whose result a /v1/db/rpc read selects from
	// (table is then fn.Result); nil for /v1/db/{table}.
	fn      *Function
	selects []postgrest.SelectItem
	// selectRaw and orderRaw are select= and order= as sent (for the SQL cache)
	selectRaw, orderRaw string
	conds               []postgrest.Condition
	// embedConds are the filters on embedded relations, by path
	// ("author", "author.books"): reads only.
	embedConds map[string][]postgrest.Condition
	// embedPages are order=, limit= and offset= of embedded relations
	// (comments.order=id.desc, comments.limit=2), by path: reads only.
	embedPages map[string]*embedPage
	order      []postgrest.OrderTerm
	limit      int
	offset     int
	ranged     bool // limit/offset/Range given
	prefer     prefer
	// onConflict and columns of writes
	onConflict []string
	columns    []string
	maxRows    int  // DB_API_MAX_ROWS
	object     bool // Accept: application/vnd.pgrst.object+json
	csv        bool // Accept: text/csv (table reads)
	// explain: Accept: application/vnd.pgrst.plan (table reads): the plan
	// instead of the rows
	explain *explainOpts
	// stripNulls: Accept: application/vnd.pgrst.array+json;nulls=stripped
	// (postgrest-js .stripNulls()): fields whose value is null are left out
	stripNulls bool
}

type prefer struct {
	representation bool
	count          bool
	countMode      string // exact, planned (the planner's estimate) or estimated (exact up to DB_API_MAX_ROWS, then planned)
	merge, ignore  bool
	missingDefault bool // missing=default: keys a row lacks take the column default
	// rollback: tx=rollback, the write runs and is rolled back (postgrest-js
	// .rollback()); maxAffected: max-affected=n, a write that would change
	// more rows changes none (-1: no limit).
	rollback    bool
	maxAffected int64
	// strict: handling=strict, an unknown preference is an error (unknown
	// holds the first one). invalid holds a max-affected that is not a
	// number of rows: an error either way, since it asked for a guard.
	strict  bool
	unknown string
	invalid string
	applied []string
}

func parsePrefer(h http.Header) prefer {
	p := prefer{maxAffected: -1}
	for _, v := range h.Values("Prefer") {
		for _, tok := range strings.Split(v, ",") {
			switch tok = strings.TrimSpace(tok); tok {
			case "return=representation":
				p.representation = true
			case "count=exact", "count=planned", "count=estimated":
				p.count, p.countMode = true, strings.TrimPrefix(tok, "count=")
			case "resolution=merge-duplicates":
				p.merge = true
			case "resolution=ignore-duplicates":
				p.ignore = true
			case "missing=default":
				p.missingDefault = true
			case "tx=rollback":
				p.rollback = true
			case "handling=strict":
				p.strict = true
			case "return=minimal", "return=headers-only", "count=none", "tx=commit", "handling=lenient", "missing=null", "":
				continue // the defaults
			default:
				if n, ok := strings.CutPrefix(tok, "max-affected="); ok {
					if v, err := strconv.ParseInt(n, 10, 64); err == nil && v >= 0 {
						p.maxAffected = v
						break
					}
					p.invalid = tok
					continue
				}
				if p.unknown == "" {
					p.unknown = tok
				}
				continue
			}
			p.applied = append(p.applied, tok)
		}
	}
	return p
}

// check refuses a max-affected that is no number of rows and, under
// handling=strict, a preference Truss does not know (PostgREST's rule:
// lenient by default, ignoring them).
func (p prefer) check() error {
	if p.invalid != "" {
		return badRequest("invalid_preference", "Invalid preference "+quote(p.invalid)+".", "max-affected takes a number of rows, e.g. max-affected=10.")
	}
	if !p.strict || p.unknown == "" {
		return nil
	}
	return badRequest("invalid_preference", "Unknown preference "+quote(p.unknown)+" with handling=strict.",
		"Known: return=, count=, resolution=, missing=default, tx=rollback, max-affected=n, handling=. Drop it, or drop handling=strict to ignore it.")
}

// reserved query parameters; every other one is a filter.
var reserved = map[string]bool{"select": true, "order": true, "limit": true, "offset": true, "on_conflict": true, "columns": true}

// profile is the schema a request names with Accept-Profile (reads) or
// Content-Profile (writes), as postgrest-js's .schema() sends it.
func (s *Service) profile(r *http.Request) (string, error) {
	h := "Accept-Profile"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h = "Content-Profile"
	}
	p := r.Header.Get(h)
	if p == "" {
		return s.opts.Schemas[0], nil
	}
	if !slices.Contains(s.opts.Schemas, p) {
		return "", apierror.New(http.StatusNotAcceptable, "schema_not_exposed", "Schema "+quote(p)+" is not exposed.").
			WithHint("Exposed schemas (DB_API_SCHEMAS): " + strings.Join(s.opts.Schemas, ", ") + ".")
	}
	return p, nil
}

// lookupTable finds a table, reloading the cache once (throttled) when it
// is unknown: a table created a moment ago is found without waiting for the
// notification.
func (s *Service) lookupTable(ctx context.Context, schema, name string) (*Schema, *Table, error) {
	arrived := time.Now()
	sc, err := s.Schema(ctx)
	if err != nil {
		return nil, nil, err
	}
	if t := sc.Tables[key(schema, name)]; t != nil {
		return sc, t, nil
	}
	if sc, err = s.reload(ctx, false, arrived); err != nil {
		return nil, nil, err
	}
	if t := sc.Tables[key(schema, name)]; t != nil {
		return sc, t, nil
	}
	var names []string
	for _, t := range sc.Tables {
		if t.Schema == schema {
			names = append(names, t.Name)
		}
	}
	hint := "Create it, or check DB_API_SCHEMAS and the Accept-Profile/Content-Profile header."
	if near := closest(name, names); len(near) > 0 {
		hint = "Did you mean " + strings.Join(near, " or ") + "? " + hint
	}
	return nil, nil, apierror.New(http.StatusNotFound, "table_not_found", "No table or view "+quote(name)+" in schema "+schema+".").
		WithHint(hint).WithDetails(map[string]any{"schema": schema, "table": name})
}

func (s *Service) parseRest(r *http.Request) (*restRequest, error) {
	c, _ := apikey.FromContext(r.Context())
	schema, err := s.profile(r)
	if err != nil {
		return nil, err
	}
	sc, t, err := s.lookupTable(r.Context(), schema, r.PathValue("table"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	req := &restRequest{caller: c, table: t, sc: sc}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	if err := req.parseQuery(r, q, func(k string) bool { return reserved[k] }, read, s.opts.MaxRows); err != nil {
		return nil, err
	}
	if req.explain != nil && !read {
		return nil, errExplainReadsOnly()
	}
	if req.csv && !read {
		return nil, errCSVReadsOnly()
	}
	if len(req.embedConds) > 0 && !read {
		return nil, badRequest("invalid_query", "Filters on embedded relations apply to reads only.",
			"Filter the table's own columns, or read first and write by primary key.")
	}
	if v := q.Get("on_conflict"); v != "" {
		req.onConflict = splitNames(v)
	}
	if v := q.Get("columns"); v != "" {
		req.columns = splitNames(v)
	}
	return req, nil
}

// parseQuery reads what a read takes from the request (writes take their
// select= and filters from it too): select=, order=, the filters (every
// key but those skip reports), limit/offset (and the Range header when
// rangeHeader), Prefer and Accept.
func (req *restRequest) parseQuery(r *http.Request, q url.Values, skip func(string) bool, rangeHeader bool, maxRows int) error {
	var err error
	req.limit, req.prefer, req.maxRows = DefaultLimit, parsePrefer(r.Header), maxRows
	if err := req.prefer.check(); err != nil {
		return err
	}
	req.selectRaw, req.orderRaw = q.Get("select"), q.Get("order")
	if req.selects, err = postgrest.ParseSelect(req.selectRaw); err != nil {
		return grammarError(err)
	}
	if v := req.orderRaw; v != "" {
		if req.order, err = postgrest.ParseOrder(v); err != nil {
			return grammarError(err)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same request always builds the same SQL
	for _, k := range keys {
		if skip(k) {
			continue
		}
		if path, param, ok := embedPageParam(k); ok {
			if err := req.addEmbedPage(path, param, q.Get(k)); err != nil {
				return err
			}
			continue
		}
		for _, v := range q[k] {
			if postgrest.IsLogicKey(k) {
				l, err := postgrest.ParseLogic(k, v)
				if err != nil {
					return grammarError(err)
				}
				req.addCond(l.Embed, postgrest.Condition{Logic: &l})
				continue
			}
			f, err := postgrest.ParseFilter(k, v)
			if err != nil {
				return grammarError(err)
			}
			req.addCond(f.Embed, postgrest.Condition{Filter: &f})
		}
	}
	if len(req.embedPages) > 0 && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return badRequest("invalid_query", "order, limit and offset of embedded relations apply to reads only.", "")
	}
	if err := req.parseRange(r, q, maxRows, rangeHeader); err != nil {
		return err
	}
	accept := r.Header.Get("Accept")
	req.object = strings.Contains(accept, "application/vnd.pgrst.object+json")
	req.csv = strings.Contains(accept, "text/csv")
	req.stripNulls = nullsStripped(accept)
	req.explain, err = parseExplain(accept)
	return err
}

// nullsStripped reports Accept: application/vnd.pgrst.array+json;nulls=stripped
// (or the object media type with it).
func nullsStripped(accept string) bool {
	return strings.Contains(strings.ReplaceAll(accept, " ", ""), ";nulls=stripped")
}

// embedPage orders and pages the rows of one embedded relation.
type embedPage struct {
	order         []postgrest.OrderTerm
	limit, offset int // -1: not given
}

// embedPageParam splits comments.order (or author.books.limit) into the
// embedding's path and the parameter, as postgrest-js sends them for
// .order/.limit/.range with {referencedTable}.
func embedPageParam(k string) (path, param string, ok bool) {
	i := strings.LastIndexByte(k, '.')
	if i <= 0 {
		return "", "", false
	}
	switch param = k[i+1:]; param {
	case "order", "limit", "offset":
		return k[:i], param, true
	}
	return "", "", false
}

func (req *restRequest) addEmbedPage(path, param, v string) error {
	if req.embedPages == nil {
		req.embedPages = map[string]*embedPage{}
	}
	p := req.embedPages[path]
	if p == nil {
		p = &embedPage{limit: -1, offset: -1}
		req.embedPages[path] = p
	}
	if param == "order" {
		o, err := postgrest.ParseOrder(v)
		if err != nil {
			return grammarError(err)
		}
		p.order = o
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return badRequest("invalid_query", path+"."+param+" must be a non-negative integer, not "+quote(v)+".", "")
	}
	if param == "limit" {
		p.limit = n
	} else {
		p.offset = n
	}
	return nil
}

// errCSVReadsOnly refuses Accept: text/csv where Truss answers JSON only.
func errCSVReadsOnly() error {
	return apierror.New(http.StatusNotAcceptable, "csv_reads_only", "CSV answers are given for reads of tables and views only.").
		WithHint("Ask for application/json (drop .csv() or the text/csv Accept header).")
}

// addCond files a condition under the table itself or under the embedded
// relation it names.
func (req *restRequest) addCond(embed []string, c postgrest.Condition) {
	if len(embed) == 0 {
		req.conds = append(req.conds, c)
		return
	}
	if req.embedConds == nil {
		req.embedConds = map[string][]postgrest.Condition{}
	}
	k := strings.Join(embed, ".")
	req.embedConds[k] = append(req.embedConds[k], c)
}

func splitNames(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.Trim(strings.TrimSpace(p), `"`); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseRange reads limit/offset, or (when header) a Range: 0-9 header. The
// limit is capped at DB_API_MAX_ROWS.
func (req *restRequest) parseRange(r *http.Request, q url.Values, maxRows int, header bool) error {
	if h := r.Header.Get("Range"); h != "" && header {
		from, to, ok := strings.Cut(strings.TrimPrefix(h, "items="), "-")
		lo, err1 := strconv.Atoi(from)
		if !ok || err1 != nil || lo < 0 {
			return apierror.New(http.StatusRequestedRangeNotSatisfiable, "invalid_range", "Range "+quote(h)+" is not of the form 0-9.")
		}
		req.offset, req.ranged = lo, true
		if to != "" {
			hi, err := strconv.Atoi(to)
			if err != nil || hi < lo {
				return apierror.New(http.StatusRequestedRangeNotSatisfiable, "invalid_range", "Range "+quote(h)+" is not of the form 0-9.")
			}
			req.limit = hi - lo + 1
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &req.limit}, {"offset", &req.offset}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return badRequest("invalid_query", p.name+" must be a non-negative integer, not "+quote(v)+".", "")
			}
			*p.dst, req.ranged = n, true
		}
	}
	req.limit = min(req.limit, maxRows)
	return nil
}
