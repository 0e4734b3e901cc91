package dbapi

import (
	"encoding/json"
	"net/http"
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
func (s *Service) RPC(w http.ResponseWriter, r *http.Request) error {
	c, _ := apikey.FromContext(r.Context())
	schema, err := s.profile(r)
	if err != nil {
		return err
	}
	args := map[string]json.RawMessage{}
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		raw, _, err := readRows(r, false)
		if err != nil {
			return err
		}
		raw = raw[1 : len(raw)-1] // readRows wrapped the object in [ ]
		if err := json.Unmarshal(raw, &args); err != nil {
			return badRequest(apierror.CodeInvalidJSON, "The body must be a JSON object of arguments.", "")
		}
	} else {
		for k, v := range r.URL.Query() {
			b, _ := json.Marshal(v[len(v)-1])
			args[k] = b
		}
	}
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	slices.Sort(names)
	f, err := s.lookupFunction(r, schema, r.PathValue("function"), names)
	if err != nil {
		return err
	}
	if r.Method == http.MethodGet && f.Volatile {
		return apierror.New(http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed,
			"Function "+f.Name+" is VOLATILE: call it with POST.").WithHint("Declare it STABLE or IMMUTABLE to allow GET.")
	}
	b := &builder{}
	fn := pgxIdent(f.Schema, f.Name)
	var from, call string
	if len(names) == 0 {
		call = fn + "()"
	} else {
		body, _ := json.Marshal(args)
		defs := make([]string, len(names))
		named := make([]string, len(names))
		for i, n := range names {
			idx := slices.Index(f.ArgNames, n)
			defs[i] = qi(n) + " " + f.ArgTypes[idx] // format_type output: catalog text, not user text
			named[i] = qi(n) + " => _a." + qi(n)
		}
		from = " FROM json_to_record(" + b.param(string(body)) + "::json) AS _a(" + strings.Join(defs, ", ") + ")"
		call = fn + "(" + strings.Join(named, ", ") + ")"
	}
	var sql string
	switch {
	case f.ReturnsVoid:
		sql = "SELECT 'null', 1 FROM (SELECT " + call + from + ") _x"
	case f.ReturnsSet && f.ReturnsRow:
		sql = "SELECT coalesce(json_agg(_r), '[]')::text, count(*)" + joinFrom(from) + call + " _r"
	case f.ReturnsSet:
		sql = "SELECT coalesce(json_agg(_r._v), '[]')::text, count(*)" + joinFrom(from) + call + " AS _r(_v)"
	case f.ReturnsRow:
		sql = "SELECT coalesce(to_json(_r), 'null')::text, 1" + joinFrom(from) + call + " _r"
	default:
		sql = "SELECT coalesce(to_json(" + call + "), 'null')::text, 1" + from
	}
	res, err := s.pipelined(r.Context(), c, []stmt{{sql: sql, args: b.args}}, nil)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(res[0].body)
	return err
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
// whose arguments without defaults are all given.
func (s *Service) lookupFunction(r *http.Request, schema, name string, names []string) (*Function, error) {
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
	for _, f := range fs {
		sigs = append(sigs, f.Name+"("+strings.Join(f.ArgNames, ", ")+")")
		ok := true
		for _, n := range names {
			if !slices.Contains(f.ArgNames, n) {
				ok = false
			}
		}
		required := len(f.ArgNames) - f.NumDefaults
		for i := 0; i < required && ok; i++ {
			if !slices.Contains(names, f.ArgNames[i]) {
				ok = false
			}
		}
		if ok {
			return f, nil
		}
	}
	return nil, apierror.New(http.StatusNotFound, "function_not_found",
		"No function "+name+" takes the arguments ("+strings.Join(names, ", ")+").").
		WithHint("Available: " + strings.Join(sigs, "; ") + ". Arguments are passed by name.")
}
