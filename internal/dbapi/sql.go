package dbapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/httpjson"
)

// MaxTransactionStatements bounds POST /v1/sql/transaction.
const MaxTransactionStatements = 20

type sqlStatement struct {
	SQL    string            `json:"sql"`
	Params []json.RawMessage `json:"params"`
}

type sqlRequest struct {
	sqlStatement
	RowLimit int    `json:"row_limit"`
	Timeout  string `json:"timeout"`
}

type txRequest struct {
	Statements []sqlStatement `json:"statements"`
	RowLimit   int            `json:"row_limit"`
	Timeout    string         `json:"timeout"`
}

type sqlColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type sqlResult struct {
	Rows      []map[string]json.RawMessage `json:"rows"`
	RowCount  int64                        `json:"rowCount"`
	Columns   []sqlColumn                  `json:"columns"`
	Command   string                       `json:"command"`
	Truncated bool                         `json:"truncated"`
}

// SQL answers POST /v1/sql (service_role): one statement with $n parameters.
func (s *Service) SQL(w http.ResponseWriter, r *http.Request) error {
	var req sqlRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	c, _ := apikey.FromContext(r.Context())
	lim, timeout, err := s.limits(req.RowLimit, req.Timeout)
	if err != nil {
		return err
	}
	var res []sqlResult
	err = s.rawTx(r.Context(), c, timeout, false, func(tx pgx.Tx) error {
		out, err := runStatement(r.Context(), tx, req.sqlStatement, lim)
		res = append(res, out)
		return err
	})
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, res[0])
}

// Transaction answers POST /v1/sql/transaction: up to 20 statements in one
// transaction, all or nothing.
func (s *Service) Transaction(w http.ResponseWriter, r *http.Request) error {
	var req txRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if len(req.Statements) == 0 || len(req.Statements) > MaxTransactionStatements {
		return badRequest("invalid_query", "statements must hold 1 to "+itoa(MaxTransactionStatements)+" statements.", "")
	}
	c, _ := apikey.FromContext(r.Context())
	lim, timeout, err := s.limits(req.RowLimit, req.Timeout)
	if err != nil {
		return err
	}
	results := []sqlResult{}
	err = s.rawTx(r.Context(), c, timeout, false, func(tx pgx.Tx) error {
		for i, st := range req.Statements {
			out, err := runStatement(r.Context(), tx, st, lim)
			if err != nil {
				e := apierror.As(pgError(err))
				if e.Status < 500 {
					d := map[string]any{"statement": i}
					for k, v := range e.Details {
						d[k] = v
					}
					return e.WithDetails(d).WithHint("Statement " + itoa(i) + " failed; the transaction was rolled back. " + e.Hint)
				}
				return err
			}
			results = append(results, out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"results": results})
}

// limits validates row_limit and timeout against the server's caps.
func (s *Service) limits(rowLimit int, timeout string) (int, time.Duration, error) {
	lim := DefaultLimit
	if rowLimit < 0 || rowLimit > s.opts.MaxRows {
		return 0, 0, badRequest("invalid_query", "row_limit must be from 1 to "+itoa(s.opts.MaxRows)+" (DB_API_MAX_ROWS).", "")
	}
	if rowLimit > 0 {
		lim = rowLimit
	}
	d := s.opts.StatementTimeout
	if timeout != "" {
		t, err := time.ParseDuration(timeout)
		if err != nil || t <= 0 || t > s.opts.StatementTimeout {
			return 0, 0, badRequest("invalid_query", "timeout must be a duration such as 2s, at most "+
				s.opts.StatementTimeout.String()+" (DB_API_STATEMENT_TIMEOUT).", "")
		}
		d = t
	}
	return lim, d, nil
}

// rawTx runs fn in a transaction on the raw pool with the caller's role,
// claims and timeout. The connection is reset (DISCARD ALL) when released.
func (s *Service) rawTx(ctx context.Context, c *apikey.Caller, timeout time.Duration, readOnly bool, fn func(pgx.Tx) error) error {
	_, raw, err := s.pools(ctx)
	if err != nil {
		return err
	}
	opts := pgx.TxOptions{}
	if readOnly {
		opts.AccessMode = pgx.ReadOnly
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	tx, err := raw.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, setupSQL, setupArgs(c, timeout)...); err != nil {
		return pgError(err)
	}
	if err := fn(tx); err != nil {
		return pgError(err)
	}
	return pgError(tx.Commit(ctx))
}

// transactionControl are statements that would end or escape the request's
// transaction; each request is one transaction, so they are refused.
var transactionControl = []string{"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
	"PREPARE TRANSACTION", "COMMIT PREPARED", "ROLLBACK PREPARED"}

func firstWords(sql string) string {
	s := strings.TrimSpace(sql)
	for {
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = strings.TrimSpace(s[i+1:])
				continue
			}
			return ""
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = strings.TrimSpace(s[i+2:])
				continue
			}
			return ""
		}
		return strings.ToUpper(s)
	}
}

func runStatement(ctx context.Context, tx pgx.Tx, st sqlStatement, limit int) (sqlResult, error) {
	if strings.TrimSpace(st.SQL) == "" {
		return sqlResult{}, badRequest("invalid_query", "sql is empty.", "")
	}
	head := firstWords(st.SQL)
	for _, tc := range transactionControl {
		if strings.HasPrefix(head, tc) && (len(head) == len(tc) || !isWordByte(head[len(tc)])) {
			return sqlResult{}, badRequest("transaction_control", "Transaction control ("+tc+") is not allowed here.",
				"Each request is one transaction: use POST /v1/sql/transaction for several statements, all or nothing.")
		}
	}
	args := make([]any, 0, len(st.Params)+1)
	args = append(args, pgx.QueryResultFormats{pgx.TextFormatCode})
	for _, p := range st.Params {
		args = append(args, paramValue(p))
	}
	rows, err := tx.Query(ctx, st.SQL, args...)
	if err != nil {
		return sqlResult{}, err
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	res := sqlResult{Rows: []map[string]json.RawMessage{}, Columns: make([]sqlColumn, len(fds))}
	for i, fd := range fds {
		res.Columns[i] = sqlColumn{Name: fd.Name, Type: typeName(tx.Conn().TypeMap(), fd.DataTypeOID)}
	}
	var n int64
	for rows.Next() {
		n++
		if len(res.Rows) >= limit {
			res.Truncated = true
			continue
		}
		raw := rows.RawValues()
		row := make(map[string]json.RawMessage, len(fds))
		for i, fd := range fds {
			row[fd.Name] = jsonValue(fd.DataTypeOID, raw[i])
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return sqlResult{}, err
	}
	tag := rows.CommandTag()
	res.Command = strings.SplitN(tag.String(), " ", 2)[0]
	res.RowCount = tag.RowsAffected()
	if len(fds) > 0 && res.RowCount == 0 {
		res.RowCount = n
	}
	if err := unknownTypes(ctx, tx, res.Columns, fds); err != nil {
		return sqlResult{}, err
	}
	return res, nil
}

func isWordByte(c byte) bool { return c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9' }

// paramValue sends every JSON value as text for PostgreSQL to convert:
// strings as themselves, numbers and booleans as written, objects and
// arrays as JSON text, null as NULL.
func paramValue(p json.RawMessage) any {
	s := strings.TrimSpace(string(p))
	switch {
	case s == "null":
		return nil
	case strings.HasPrefix(s, `"`):
		var v string
		_ = json.Unmarshal(p, &v)
		return v
	}
	return s
}

func typeName(m *pgtype.Map, oid uint32) string {
	if t, ok := m.TypeForOID(oid); ok {
		return t.Name
	}
	return ""
}

// unknownTypes names columns of types pgx does not know (user types).
func unknownTypes(ctx context.Context, tx pgx.Tx, cols []sqlColumn, fds []pgconn.FieldDescription) error {
	for i := range cols {
		if cols[i].Type != "" {
			continue
		}
		if err := tx.QueryRow(ctx, "SELECT format_type($1::oid, NULL)", fds[i].DataTypeOID).Scan(&cols[i].Type); err != nil {
			return err
		}
	}
	return nil
}

// jsonValue turns a text-format value into JSON by its type: numbers and
// booleans as such, json/jsonb as themselves, everything else as a string.
// v aliases pgx's read buffer, so it is copied.
func jsonValue(oid uint32, v []byte) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	v = bytes.Clone(v)
	switch oid {
	case pgtype.BoolOID:
		if len(v) > 0 && v[0] == 't' {
			return json.RawMessage("true")
		}
		return json.RawMessage("false")
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		return json.RawMessage(v)
	case pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID:
		if _, err := strconv.ParseFloat(string(v), 64); err == nil && !strings.ContainsAny(string(v), "nN") {
			return json.RawMessage(v)
		}
	case pgtype.JSONOID, pgtype.JSONBOID:
		return json.RawMessage(v)
	}
	b, _ := json.Marshal(string(v))
	return b
}
