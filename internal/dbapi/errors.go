package dbapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/dbapi/postgrest"
)

// pgError maps a PostgreSQL error of a /v1 request to the API's error shape.
// The message of errors about the request itself (privileges, constraints,
// bad values, raised exceptions) is PostgreSQL's; server-side failures stay
// a generic 500 with the cause in the log.
func pgError(err error) error {
	if _, ok := err.(*apierror.Error); ok || err == nil {
		return err
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if errors.Is(err, context.DeadlineExceeded) {
			return apierror.New(http.StatusGatewayTimeout, "statement_timeout", "The query took too long.")
		}
		return err
	}
	status, code, hint := http.StatusBadRequest, "database_error", ""
	switch {
	case pe.Code == "42501":
		status, code = http.StatusForbidden, "permission_denied"
		hint = "The request's role (anon, authenticated or service_role) lacks the privilege or a row-level security policy refused it: GRANT the privilege to the role and check the table's policies."
	case pe.Code == "57014":
		status, code = http.StatusGatewayTimeout, "statement_timeout"
		hint = "The statement ran longer than its timeout (DB_API_STATEMENT_TIMEOUT, or the request's timeout). Add an index or a narrower filter."
	case pe.Code == "23505":
		status, code = http.StatusConflict, "unique_violation"
	case pe.Code == "23503":
		status, code = http.StatusConflict, "foreign_key_violation"
	case pe.Code == "23502":
		code = "not_null_violation"
	case pe.Code == "23514":
		code = "check_violation"
	case pe.Code == "25006":
		status, code = http.StatusForbidden, "read_only"
		hint = "This query runs in a READ ONLY transaction."
	case pe.Code == "42883":
		status, code = http.StatusNotFound, "undefined_function"
	case pe.Code == "40001" || pe.Code == "40P01":
		status, code = http.StatusConflict, "serialization_failure"
		hint = "Retry the request."
	case pe.Code == "P0001":
		code = "raised_exception"
	case strings.HasPrefix(pe.Code, "22"):
		code = "invalid_value"
	case strings.HasPrefix(pe.Code, "42"):
		code = "sql_error"
	case strings.HasPrefix(pe.Code, "0A"):
		code = "feature_not_supported"
	case strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "54"), strings.HasPrefix(pe.Code, "57"),
		strings.HasPrefix(pe.Code, "58"), strings.HasPrefix(pe.Code, "XX"), strings.HasPrefix(pe.Code, "08"):
		return err // server side: 500, logged
	}
	e := apierror.New(status, code, pe.Message).WithDetails(details(pe))
	if hint == "" {
		hint = pe.Hint
	}
	if hint != "" {
		e = e.WithHint(hint)
	}
	e.Cause = err
	return e
}

func details(pe *pgconn.PgError) map[string]any {
	d := map[string]any{"pg_code": pe.Code}
	if pe.Detail != "" {
		d["pg_detail"] = pe.Detail
	}
	return d
}

// grammarError is a 400 pointing at the bad part of a query parameter.
func grammarError(err error) error {
	var ge *postgrest.Error
	if !errors.As(err, &ge) {
		return err
	}
	return apierror.New(http.StatusBadRequest, "invalid_query", "Cannot parse "+ge.Param+": "+ge.Msg+".").
		WithHint("The problem is at position " + itoa(ge.Pos) + " of the value, near " + quote(ge.Near()) + ". The grammar is PostgREST's: col=op.value, or=(a.eq.1,b.gt.2), order=col.desc.nullslast, select=id,rel(col).").
		WithDetails(map[string]any{"param": ge.Param, "value": ge.Input, "position": ge.Pos})
}

func badRequest(code, msg, hint string) *apierror.Error {
	e := apierror.New(http.StatusBadRequest, code, msg)
	if hint != "" {
		e = e.WithHint(hint)
	}
	return e
}

func quote(s string) string { return "\"" + s + "\"" }

// aggregateError answers a read with an aggregate that PostgreSQL has no
// function for (sum of a text column, max of a json one) with 400: the
// request is wrong, nothing is missing on the server.
func aggregateError(items []postgrest.SelectItem, err error) error {
	var e *apierror.Error
	if !errors.As(err, &e) || e.Code != "undefined_function" || !hasAggregate(items) {
		return err
	}
	return apierror.New(http.StatusBadRequest, "invalid_aggregate", e.Message).WithDetails(e.Details).
		WithHint("sum() and avg() take numbers (cast first, e.g. select=amount::numeric.sum()); max() and min() take values that sort; count() takes any column.")
}

// hasAggregate reports an aggregate anywhere in a select list, embedded
// relations included.
func hasAggregate(items []postgrest.SelectItem) bool {
	for _, it := range items {
		if it.Aggregate != "" || it.Embed != nil && hasAggregate(it.Embed.Items) {
			return true
		}
	}
	return false
}
