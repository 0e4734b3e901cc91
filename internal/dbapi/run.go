package dbapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apikey"
)

// claims is request.jwt.claims of a /v1 request.
type claims struct {
	Role     string `json:"role"`
	Sub      string `json:"sub,omitempty"`
	Email    string `json:"email,omitempty"`
	TenantID string `json:"tenant_id"`
	KeyID    string `json:"key_id"`
	Iss      string `json:"iss"`
}

// setupCache maps a caller's claims to the encoded parameters of setupSQL:
// the same key (and session) sends the same claims on every request, so
// they are marshalled once. Only the encoding is cached; the values are
// still set in every transaction. The cache starts over when it reaches
// maxSetupsCached entries.
var setupCache struct {
	sync.RWMutex
	m map[setupKey][][]byte
}

type setupKey struct {
	claims
	timeout time.Duration
}

const maxSetupsCached = 10_000

func claimsOf(c *apikey.Caller) claims {
	return claims{Role: c.Role, Sub: c.Sub, Email: c.Email, TenantID: c.TenantID, KeyID: c.KeyID, Iss: "truss"}
}

// setupParams are the parameters of setupSQL, encoded as text; callers
// must not modify them.
func setupParams(c *apikey.Caller, timeout time.Duration) [][]byte {
	k := setupKey{claimsOf(c), timeout}
	setupCache.RLock()
	p, ok := setupCache.m[k]
	setupCache.RUnlock()
	if ok {
		return p
	}
	j, _ := json.Marshal(k.claims)
	p = [][]byte{[]byte(c.Role), j, []byte(timeoutText(timeout))}
	setupCache.Lock()
	if setupCache.m == nil || len(setupCache.m) >= maxSetupsCached {
		setupCache.m = make(map[setupKey][][]byte)
	}
	setupCache.m[k] = p
	setupCache.Unlock()
	return p
}

// timeoutText is a statement timeout in milliseconds, as set_config takes it.
func timeoutText(timeout time.Duration) string { return strconv.FormatInt(timeout.Milliseconds(), 10) }

// setupSQL switches to the caller's role and sets its claims and timeout,
// all local to the (implicit or explicit) transaction. set_config('role')
// is SET LOCAL ROLE with the role as a parameter.
const setupSQL = `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`

// setupArgs are setupParams for pgx's query methods.
func setupArgs(c *apikey.Caller, timeout time.Duration) []any {
	p := setupParams(c, timeout)
	return []any{string(p[0]), string(p[1]), string(p[2])}
}

func itoa(n int) string { return strconv.Itoa(n) }

// stmt is one generated statement and its parameters.
type stmt struct {
	sql  string
	args []any
	// plan: the statement is an EXPLAIN (FORMAT JSON); its result's n is
	// the planner's row estimate (Prefer: count=planned).
	plan bool
	// explain: the statement is an EXPLAIN whose output is the answer;
	// its rows (one of JSON, or lines of text) become the body.
	explain bool
}

// pipelined runs setup and the statements in one round trip. Statements
// sent without a Sync in between form one implicit transaction, so the
// local role, claims and timeout hold for all of them and an error rolls
// everything back. Each statement returns one text value (JSON built by
// PostgreSQL) or, with exec, only its command tag. A statement may return
// a third value, a total: an RPC read counts the function's rows in the
// statement that pages them, so the function runs once.
type pipeResult struct {
	body     []byte
	n        int64
	total    int64
	affected int64
}

// acquire takes a connection of the API pool (as the authenticator role).
func (s *Service) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	api, _, err := s.pools(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := api.Acquire(ctx)
	if err != nil {
		return nil, pgError(err)
	}
	return conn, nil
}

// pipelinedTx is pipelined in an explicit transaction that end decides
// from the results: committed when it returns true, rolled back when it
// returns false or an error (which is then the answer). It costs two more
// round trips (BEGIN, and COMMIT or ROLLBACK), so only writes with
// Prefer: tx=rollback or max-affected take it.
func (s *Service) pipelinedTx(ctx context.Context, c *apikey.Caller, stmts []stmt, execOnly []bool, end func([]pipeResult) (bool, error)) ([]pipeResult, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	if err := pc.Exec(ctx, "BEGIN").Close(); err != nil {
		return nil, pgError(err)
	}
	out, err := runBatch(ctx, conn.Conn(), setupParams(c, s.opts.StatementTimeout), stmts, execOnly)
	commit := false
	if err != nil {
		err = pgError(err)
	} else {
		commit, err = end(out)
	}
	finish := "ROLLBACK"
	if commit && err == nil {
		finish = "COMMIT"
	}
	// A connection left inside the transaction (a cancelled context) is
	// closed by the pool on release instead of being reused.
	if ferr := pc.Exec(ctx, finish).Close(); ferr != nil && err == nil {
		err = pgError(ferr)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) pipelined(ctx context.Context, c *apikey.Caller, stmts []stmt, execOnly []bool) ([]pipeResult, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	out, err := runBatch(ctx, conn.Conn(), setupParams(c, s.opts.StatementTimeout), stmts, execOnly)
	if err != nil {
		return nil, pgError(err)
	}
	return out, nil
}

// runBatch sends setup and the statements with pgconn's ExecBatch: Bind and
// Execute of each prepared statement and one Sync, in one write. Every
// parameter is sent as text for PostgreSQL to convert to its type, and every
// result comes back as text. This is what pgx.Batch does in its pipeline
// mode, without its per-statement bookkeeping, which profiling showed was
// most of the Go-side cost of a request. Results are read as they stream
// in and only the (body, count) values are kept.
func runBatch(ctx context.Context, conn *pgx.Conn, setup [][]byte, stmts []stmt, execOnly []bool) ([]pipeResult, error) {
	ps := preparedFor(conn)
	var batch pgconn.Batch
	sd, err := ps.prepare(ctx, conn, setupSQL)
	if err != nil {
		return nil, err
	}
	batch.ExecStatement(sd, setup, nil, nil)
	for i, st := range stmts {
		sd, err := ps.prepare(ctx, conn, st.sql)
		if err != nil {
			return nil, err
		}
		vals := make([][]byte, len(st.args))
		for j, a := range st.args {
			v, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("dbapi: statement %d, parameter %d is a %T, not text", i+1, j+1, a)
			}
			vals[j] = []byte(v)
		}
		batch.ExecStatement(sd, vals, nil, nil)
	}
	out := make([]pipeResult, len(stmts))
	mrr := conn.PgConn().ExecBatch(ctx, &batch)
	n := 0
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		i := n - 1 // result 0 is the setup's
		n++
		if i < 0 || i >= len(stmts) || (execOnly != nil && execOnly[i]) {
			// A failure here is also the MultiResultReader's: its Close
			// below returns it.
			tag, cerr := rr.Close()
			if cerr == nil && i >= 0 && i < len(stmts) {
				out[i].affected = tag.RowsAffected()
			}
			continue
		}
		if stmts[i].plan {
			out[i].n, err = planRows(rr)
			if err != nil {
				break
			}
			continue
		}
		if stmts[i].explain {
			if out[i].body, err = explainText(rr); err != nil {
				break
			}
			continue
		}
		rows := 0
		for rr.NextRow() {
			rows++
			if v := rr.Values(); rows == 1 && (len(v) == 2 || len(v) == 3) {
				out[i].body = slices.Clone(v[0])
				if v[1] != nil {
					out[i].n, err = strconv.ParseInt(string(v[1]), 10, 64)
				}
				if len(v) == 3 && v[2] != nil && err == nil {
					out[i].total, err = strconv.ParseInt(string(v[2]), 10, 64)
				}
			}
		}
		if _, cerr := rr.Close(); cerr != nil {
			err = cerr
		}
		if cols := len(rr.FieldDescriptions()); err == nil && (rows != 1 || cols < 2 || cols > 3) {
			err = fmt.Errorf("dbapi: statement %d returned %d rows of %d columns, want one (body, count[, total])", i+1, rows, cols)
		}
		if err != nil {
			break
		}
	}
	if cerr := mrr.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if n != len(stmts)+1 {
		return nil, fmt.Errorf("dbapi: %d results for %d statements", n, len(stmts)+1)
	}
	return out, nil
}

// explainText is the output of an EXPLAIN: its rows joined by newlines.
func explainText(rr *pgconn.ResultReader) ([]byte, error) {
	var text []byte
	for rr.NextRow() {
		if len(text) > 0 {
			text = append(text, '\n')
		}
		if v := rr.Values(); len(v) == 1 {
			text = append(text, v[0]...)
		}
	}
	_, err := rr.Close()
	return text, err
}

// planRows reads the planner's row estimate of the top plan node from the
// result of an EXPLAIN (FORMAT JSON).
func planRows(rr *pgconn.ResultReader) (int64, error) {
	var text []byte
	for rr.NextRow() {
		if v := rr.Values(); len(v) == 1 {
			text = slices.Clone(v[0])
		}
	}
	if _, err := rr.Close(); err != nil {
		return 0, err
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(text, &plan); err != nil || len(plan) != 1 {
		return 0, fmt.Errorf("dbapi: unreadable EXPLAIN output %q: %v", text, err)
	}
	return int64(plan[0].Plan.Rows), nil
}

// prepared are the statements runBatch prepared on one connection. It is
// only used while the connection is acquired, so it needs no lock of its
// own. Past maxPrepared statements the connection deallocates them all and
// starts over, so a stream of distinct queries cannot grow it without bound.
type prepared struct {
	m map[string]*pgconn.StatementDescription
}

const maxPrepared = 512

// preparedByConn maps a *pgx.Conn of the api pool to its prepared; the
// pool's BeforeClose removes the entry of a closing connection.
var preparedByConn sync.Map

func preparedFor(conn *pgx.Conn) *prepared {
	if p, ok := preparedByConn.Load(conn); ok {
		return p.(*prepared)
	}
	p := &prepared{m: map[string]*pgconn.StatementDescription{}}
	preparedByConn.Store(conn, p)
	return p
}

func forgetPrepared(conn *pgx.Conn) { preparedByConn.Delete(conn) }

func (p *prepared) prepare(ctx context.Context, conn *pgx.Conn, sql string) (*pgconn.StatementDescription, error) {
	if sd := p.m[sql]; sd != nil {
		return sd, nil
	}
	if len(p.m) >= maxPrepared {
		if err := conn.DeallocateAll(ctx); err != nil {
			return nil, err
		}
		clear(p.m)
	}
	sd, err := conn.Prepare(ctx, sql, sql)
	if err != nil {
		return nil, err
	}
	p.m[sql] = sd
	return sd, nil
}
