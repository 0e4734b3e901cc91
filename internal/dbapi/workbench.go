package dbapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
)

// WorkbenchRole is the login role of read-only workbench queries (migration
// 00008): a member of no other role, with SELECT on the tables of
// DB_API_SCHEMAS and nothing else, so that no SET ROLE, RESET ROLE or
// set_config('role', ...) can widen what a read-only query reaches.
const WorkbenchRole = "truss_workbench_ro"

// MaxWorkbenchSQL bounds the SQL of a workbench query or saved query.
const MaxWorkbenchSQL = 100 << 10

// HistorySize is how many queries the history keeps per admin.
const HistorySize = 100

// Workbench serves the dashboard's SQL workbench under /api/sql (admins,
// cookie auth): queries (read-only by default, write mode as service_role),
// history, saved queries and the schema browser.
type Workbench struct {
	svc *Service

	mu      sync.Mutex
	ro      *pgxpool.Pool
	initErr error
	initAt  time.Time

	grantMu     sync.Mutex
	grantSchema *Schema         // the schema cache the last grant sync saw
	grantTried  map[uint32]bool // tables a grant was attempted on
}

// NewWorkbench returns the workbench of svc. Connections open on first use.
func NewWorkbench(svc *Service) *Workbench {
	return &Workbench{svc: svc, grantTried: map[uint32]bool{}}
}

func workbenchPassword(c *pgconn.Config) string {
	m := hmac.New(sha256.New, []byte(c.User+"\x00"+c.Password+"\x00"+c.Host))
	m.Write([]byte(WorkbenchRole + " v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// roPool returns the pool of truss_workbench_ro, connecting on first use (a
// failure is retried at most once per 2 s). Like the raw /v1 pool it has no
// statement cache and resets every connection (DISCARD ALL) on release.
func (w *Workbench) roPool(ctx context.Context) (*pgxpool.Pool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ro != nil {
		return w.ro, nil
	}
	if w.initErr != nil && time.Since(w.initAt) < 2*time.Second {
		return nil, w.initErr
	}
	w.initAt = time.Now()
	p, err := w.connect(ctx)
	if err != nil {
		w.svc.log.Error("SQL workbench unavailable", "error", err)
		w.initErr = apierror.New(http.StatusServiceUnavailable, "workbench_unavailable",
			"The SQL workbench cannot connect to PostgreSQL as "+WorkbenchRole+".").
			WithHint("Run `truss migrate up` (migration 00008 creates " + WorkbenchRole + "; it needs a user with CREATEROLE). The server log has the cause.")
		return nil, w.initErr
	}
	w.ro, w.initErr = p, nil
	return p, nil
}

func (w *Workbench) connect(ctx context.Context) (*pgxpool.Pool, error) {
	base := w.svc.main.Config()
	pw := workbenchPassword(&base.ConnConfig.Config)
	cfg := base.Copy()
	cfg.ConnConfig.User = WorkbenchRole
	cfg.ConnConfig.Password = pw
	cfg.ConnConfig.RuntimeParams["application_name"] = "truss-workbench"
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	cfg.BeforeConnect, cfg.AfterConnect, cfg.BeforeAcquire = nil, nil, nil
	cfg.MaxConns = max(2, min(cfg.MaxConns/4, 4))
	cfg.MinConns = 0
	cfg.AfterRelease = func(c *pgx.Conn) bool {
		if c.PgConn().TxStatus() != 'I' {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := c.Exec(ctx, "DISCARD ALL", pgx.QueryExecModeSimpleProtocol)
		return err == nil
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := range 4 {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := p.Ping(pctx)
		cancel()
		if err == nil {
			return p, nil
		}
		lastErr = err
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "28P01" && pgErr.Code != "28000") {
			break
		}
		// The password is hex, so quoting it as a literal is exact.
		if _, aerr := w.svc.main.Exec(ctx, "ALTER ROLE "+WorkbenchRole+" WITH LOGIN PASSWORD '"+pw+"'"); aerr != nil {
			lastErr = fmt.Errorf("set the password of %s: %w", WorkbenchRole, aerr)
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	p.Close()
	return nil, fmt.Errorf("connect as %s: %w", WorkbenchRole, lastErr)
}

// syncGrants gives truss_workbench_ro SELECT on the tables of
// DB_API_SCHEMAS that it cannot read yet: schemas other than public, and
// tables whose owner's default privileges did not cover it. It runs when
// the schema cache changed (DDL), as Truss's own user; a table it cannot
// grant on (another owner, no superuser) is tried once and left out.
func (w *Workbench) syncGrants(ctx context.Context) {
	sc, err := w.svc.Schema(ctx)
	if err != nil {
		return
	}
	w.grantMu.Lock()
	defer w.grantMu.Unlock()
	if sc == w.grantSchema {
		return
	}
	w.grantSchema = sc
	rows, err := w.svc.main.Query(ctx, `
		SELECT n.nspname, NOT has_schema_privilege($2, n.oid, 'USAGE'), c.oid, c.relname
		FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
		     AND NOT has_table_privilege($2, c.oid, 'SELECT')
		WHERE n.nspname = ANY($1) AND (c.oid IS NOT NULL OR NOT has_schema_privilege($2, n.oid, 'USAGE'))`,
		w.svc.opts.Schemas, WorkbenchRole)
	if err != nil {
		w.svc.log.Warn("workbench grants", "error", err)
		return
	}
	type target struct {
		schema, table string
		oid           uint32
		usage         bool
	}
	var todo []target
	for rows.Next() {
		var t target
		var oid *uint32
		var rel *string
		if err := rows.Scan(&t.schema, &t.usage, &oid, &rel); err != nil {
			rows.Close()
			return
		}
		if oid != nil {
			t.oid, t.table = *oid, *rel
		}
		todo = append(todo, t)
	}
	if rows.Err() != nil {
		return
	}
	usageDone := map[string]bool{}
	for _, t := range todo {
		if t.usage && !usageDone[t.schema] {
			usageDone[t.schema] = true
			if _, err := w.svc.main.Exec(ctx, "GRANT USAGE ON SCHEMA "+pgx.Identifier{t.schema}.Sanitize()+" TO "+WorkbenchRole); err != nil {
				w.svc.log.Warn("workbench grants", "schema", t.schema, "error", err)
			}
		}
		if t.oid == 0 || w.grantTried[t.oid] {
			continue
		}
		w.grantTried[t.oid] = true
		if _, err := w.svc.main.Exec(ctx, "GRANT SELECT ON "+pgx.Identifier{t.schema, t.table}.Sanitize()+" TO "+WorkbenchRole); err != nil {
			w.svc.log.Debug("workbench grants", "table", t.schema+"."+t.table, "error", err)
		}
	}
}

type workbenchRequest struct {
	sqlStatement
	Write    bool   `json:"write"`
	RowLimit int    `json:"row_limit"`
	Timeout  string `json:"timeout"`
}

type workbenchResult struct {
	sqlResult
	Write      bool    `json:"write"`
	DurationMS float64 `json:"duration_ms"`
}

// Query answers POST /api/sql/query (admins): one statement, read-only as
// truss_workbench_ro unless write is true (then as service_role). Every
// query, failed or not, goes to the admin's history.
func (w *Workbench) Query(rw http.ResponseWriter, r *http.Request) error {
	p, _ := auth.FromContext(r.Context())
	var req workbenchRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if len(req.SQL) > MaxWorkbenchSQL {
		return httpjson.Invalid("The query is too long.", map[string][]string{"sql": {"at most 100 KB"}})
	}
	lim, timeout, err := w.svc.limits(req.RowLimit, req.Timeout)
	if err != nil {
		return err
	}
	if err := refuseWorkbenchStatement(req.SQL); err != nil {
		return err
	}
	ctx := r.Context()
	start := time.Now()
	var res sqlResult
	run := func(tx pgx.Tx) error {
		out, err := runStatement(ctx, tx, req.sqlStatement, lim)
		res = out
		return err
	}
	if req.Write {
		c := &apikey.Caller{Role: string(apikey.ServiceRole), TenantID: p.TenantID, Sub: p.IdentityID, Email: p.Email}
		err = w.svc.rawTx(ctx, c, timeout, false, run)
	} else {
		err = w.readOnlyTx(ctx, timeout, run)
	}
	elapsed := float64(time.Since(start).Microseconds()) / 1000
	err = workbenchError(err, req.Write)
	w.record(p, req, res, err, elapsed)
	if err != nil {
		return err
	}
	return httpjson.Write(rw, http.StatusOK, workbenchResult{sqlResult: res, Write: req.Write, DurationMS: elapsed})
}

// readOnlyTx runs fn as truss_workbench_ro in a READ ONLY transaction with
// a local statement timeout, and always rolls it back.
func (w *Workbench) readOnlyTx(ctx context.Context, timeout time.Duration, fn func(pgx.Tx) error) error {
	pool, err := w.roPool(ctx)
	if err != nil {
		return err
	}
	w.syncGrants(ctx)
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true)",
		strconv.FormatInt(timeout.Milliseconds(), 10)); err != nil {
		return pgError(err)
	}
	if err := fn(tx); err != nil {
		return pgError(err)
	}
	return nil
}

// refuseWorkbenchStatement refuses COPY before PostgreSQL sees it: COPY
// ... TO STDOUT/FROM STDIN needs the copy sub-protocol, which a JSON
// request cannot carry, and server-side files are refused by privileges.
func refuseWorkbenchStatement(sql string) error {
	head := firstWords(sql)
	if strings.HasPrefix(head, "COPY") && (len(head) == 4 || !isWordByte(head[4])) {
		return badRequest("copy_not_supported", "COPY is not supported in the SQL workbench.",
			"Use SELECT to read rows, and INSERT ... SELECT or INSERT ... VALUES in write mode to load them.")
	}
	return nil
}

// workbenchError adds the statement's position to PostgreSQL errors and
// hints that name the workbench's roles. Nothing beyond the user's own
// statement is reported: no internal query, no context (PL/pgSQL frames).
func workbenchError(err error, write bool) error {
	if err == nil {
		return nil
	}
	var e *apierror.Error
	if !errors.As(err, &e) {
		return err // server-side: a generic 500, logged
	}
	switch e.Code {
	case "transaction_control":
		return e.WithHint("Each workbench query is one statement in its own transaction, committed on success in write mode and always rolled back in read-only mode.")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return e
	}
	d := map[string]any{}
	for k, v := range e.Details {
		d[k] = v
	}
	if pe.Position > 0 {
		d["position"] = pe.Position
	}
	e = e.WithDetails(d)
	switch {
	case pe.Code == "25006" || pe.Code == "25001":
		e = e.WithHint("Read-only mode runs every query in a READ ONLY transaction as " + WorkbenchRole +
			". Send \"write\": true to run it as service_role.")
	case pe.Code == "42501" && write:
		e = e.WithHint("Write mode runs as service_role, which has no privilege on Truss's own schemas (truss_internal, truss_api internals) nor on other roles; GRANT what it needs.")
	case pe.Code == "42501":
		e = e.WithHint("Read-only mode runs as " + WorkbenchRole + ", which may SELECT the tables of DB_API_SCHEMAS and nothing else: never truss_internal, never another role.")
	}
	return e
}

// record appends the query to the admin's history and prunes it to the
// last HistorySize. A failure is logged: the query's answer still goes out.
func (w *Workbench) record(p *auth.Principal, req workbenchRequest, res sqlResult, err error, ms float64) {
	code := ""
	if err != nil {
		code = apierror.As(err).Code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO truss_internal.sql_history (tenant_id, identity_id, sql, write, command, row_count, error_code, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.TenantID, p.IdentityID, req.SQL, req.Write, res.Command, res.RowCount, code, ms)
	b.Queue(`DELETE FROM truss_internal.sql_history WHERE tenant_id = $1 AND identity_id = $2 AND id <= (
		SELECT id FROM truss_internal.sql_history WHERE tenant_id = $1 AND identity_id = $2 ORDER BY id DESC OFFSET $3 LIMIT 1)`,
		p.TenantID, p.IdentityID, HistorySize)
	if err := w.svc.main.SendBatch(ctx, b).Close(); err != nil {
		w.svc.log.Warn("workbench history", "error", err)
	}
}
