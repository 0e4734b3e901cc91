package dbapi

import (
	"net/http"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/apikey"
)

// explainOpts is what Accept: application/vnd.pgrst.plan asks for
// (postgrest-js's .explain()): PostgreSQL's plan of the read instead of its
// rows, as JSON (+json) or text, with EXPLAIN's options. The format and the
// options come from fixed lists, so the EXPLAIN text holds nothing of the
// request's own.
type explainOpts struct {
	json    bool
	options []string // ANALYZE, VERBOSE, SETTINGS, BUFFERS, WAL
}

var explainOptions = map[string]string{"analyze": "ANALYZE", "verbose": "VERBOSE", "settings": "SETTINGS", "buffers": "BUFFERS", "wal": "WAL"}

// parseExplain reads the plan media type out of an Accept header, e.g.
// application/vnd.pgrst.plan+json; for="application/json"; options=analyze|buffers;
// nil when the header does not ask for a plan.
func parseExplain(accept string) (*explainOpts, error) {
	i := strings.Index(accept, "application/vnd.pgrst.plan")
	if i < 0 {
		return nil, nil
	}
	media, params, _ := strings.Cut(accept[i:], ";")
	e := &explainOpts{json: strings.HasSuffix(strings.TrimSpace(media), "+json")}
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k != "options" {
			continue
		}
		for _, o := range strings.Split(v, "|") {
			opt, ok := explainOptions[strings.TrimSpace(o)]
			if !ok {
				return nil, badRequest("invalid_query", "Unknown plan option "+quote(o)+" in the Accept header.",
					"Plan options: analyze, verbose, settings, buffers, wal (separated by |).")
			}
			e.options = append(e.options, opt)
		}
	}
	return e, nil
}

func (e *explainOpts) contentType(accept string) string {
	media := "application/vnd.pgrst.plan+text"
	if e.json {
		media = "application/vnd.pgrst.plan+json"
	}
	target := "application/json"
	if i := strings.Index(accept, `for="`); i >= 0 {
		if t, _, ok := strings.Cut(accept[i+5:], `"`); ok && t != "" && !strings.ContainsAny(t, "\r\n") {
			target = t
		}
	}
	return media + `; for="` + target + `"; charset=utf-8`
}

// statement wraps the read's statement in EXPLAIN.
func (e *explainOpts) statement(read stmt) stmt {
	opts := "FORMAT TEXT"
	if e.json {
		opts = "FORMAT JSON"
	}
	for _, o := range e.options {
		opts += ", " + o
	}
	return stmt{sql: "EXPLAIN (" + opts + ") " + read.sql, args: read.args, explain: true}
}

// explainRead answers a read's plan. Plans show what a role's policies and
// the table's statistics look like (and ANALYZE runs the query), so only
// service_role keys may ask.
func (s *Service) explainRead(w http.ResponseWriter, r *http.Request, req *restRequest) error {
	if req.caller.Role != apikey.RoleServiceRole {
		return apierror.New(http.StatusForbidden, "explain_forbidden", "Query plans are given to service_role keys only.").
			WithHint("Call .explain() with a truss_sk_ key, from a server or a script.")
	}
	built, err := buildRead(req)
	if err != nil {
		return err
	}
	res, err := s.pipelined(r.Context(), req.caller, []stmt{req.explain.statement(built[0])}, nil)
	if err != nil {
		return aggregateError(req.selects, err)
	}
	w.Header()["Content-Type"] = []string{req.explain.contentType(r.Header.Get("Accept"))}
	w.Header()["Cache-Control"] = []string{"no-store"}
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(res[0].body)
	return err
}

func errExplainReadsOnly() error {
	return apierror.New(http.StatusNotAcceptable, "explain_reads_only", "Query plans are given for reads of tables and views only.").
		WithHint("Drop .explain() (or the application/vnd.pgrst.plan Accept header) from writes and RPC calls.")
}
