package dbapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// claimsCache maps a caller's claims to their JSON: the same key (and
// session) sends the same claims on every request, so they are marshalled
// once. Only the text is cached; it is still set per transaction. The cache
// starts over when it reaches maxClaimsCached entries.
var claimsCache struct {
	sync.RWMutex
	m map[claims]string
}

const maxClaimsCached = 10_000

func claimsJSON(c *apikey.Caller) string {
	k := claims{Role: c.Role, Sub: c.Sub, Email: c.Email, TenantID: c.TenantID, KeyID: c.KeyID, Iss: "truss"}
	claimsCache.RLock()
	j, ok := claimsCache.m[k]
	claimsCache.RUnlock()
	if ok {
		return j
	}
	b, _ := json.Marshal(k)
	j = string(b)
	claimsCache.Lock()
	if claimsCache.m == nil || len(claimsCache.m) >= maxClaimsCached {
		claimsCache.m = make(map[claims]string)
	}
	claimsCache.m[k] = j
	claimsCache.Unlock()
	return j
}

// timeoutText is a statement timeout in milliseconds, as set_config takes it.
func timeoutText(timeout time.Duration) string { return strconv.FormatInt(timeout.Milliseconds(), 10) }

// setupSQL switches to the caller's role and sets its claims and timeout,
// all local to the (implicit or explicit) transaction. set_config('role')
// is SET LOCAL ROLE with the role as a parameter.
const setupSQL = `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`

func setupArgs(c *apikey.Caller, timeout time.Duration) []any {
	return []any{c.Role, claimsJSON(c), timeoutText(timeout)}
}

func itoa(n int) string { return strconv.Itoa(n) }

// stmt is one generated statement and its parameters.
type stmt struct {
	sql  string
	args []any
}

// pipelined runs setup and the statements in one round trip. Statements
// sent without a Sync in between form one implicit transaction, so the
// local role, claims and timeout hold for all of them and an error rolls
// everything back. Each statement returns one text value (JSON built by
// PostgreSQL) or, with exec, only its command tag.
type pipeResult struct {
	body     []byte
	n        int64
	affected int64
}

func (s *Service) pipelined(ctx context.Context, c *apikey.Caller, stmts []stmt, execOnly []bool) ([]pipeResult, error) {
	api, _, err := s.pools(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := api.Acquire(ctx)
	if err != nil {
		return nil, pgError(err)
	}
	defer conn.Release()
	out, err := runBatch(ctx, conn.Conn(), setupArgs(c, s.opts.StatementTimeout), stmts, execOnly)
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
// most of the Go-side cost of a request.
func runBatch(ctx context.Context, conn *pgx.Conn, setup []any, stmts []stmt, execOnly []bool) ([]pipeResult, error) {
	ps := preparedFor(conn)
	var batch pgconn.Batch
	add := func(sql string, args []any) error {
		sd, err := ps.prepare(ctx, conn, sql)
		if err != nil {
			return err
		}
		vals := make([][]byte, len(args))
		for i, a := range args {
			v, ok := a.(string)
			if !ok {
				return fmt.Errorf("dbapi: parameter %d is a %T, not text", i+1, a)
			}
			vals[i] = []byte(v)
		}
		batch.ExecStatement(sd, vals, nil, nil)
		return nil
	}
	if err := add(setupSQL, setup); err != nil {
		return nil, err
	}
	for _, st := range stmts {
		if err := add(st.sql, st.args); err != nil {
			return nil, err
		}
	}
	results, err := conn.PgConn().ExecBatch(ctx, &batch).ReadAll()
	for _, r := range results {
		if err == nil {
			err = r.Err
		}
	}
	if err != nil {
		return nil, err
	}
	if len(results) != len(stmts)+1 {
		return nil, fmt.Errorf("dbapi: %d results for %d statements", len(results), len(stmts)+1)
	}
	out := make([]pipeResult, len(stmts))
	for i, r := range results[1:] {
		if execOnly != nil && execOnly[i] {
			out[i].affected = r.CommandTag.RowsAffected()
			continue
		}
		if len(r.Rows) != 1 || len(r.Rows[0]) != 2 {
			return nil, fmt.Errorf("dbapi: statement %d returned %d rows, want one (body, count)", i+1, len(r.Rows))
		}
		row := r.Rows[0]
		out[i].body = row[0]
		if row[1] != nil {
			if out[i].n, err = strconv.ParseInt(string(row[1]), 10, 64); err != nil {
				return nil, fmt.Errorf("dbapi: statement %d: count %q: %w", i+1, row[1], err)
			}
		}
	}
	return out, nil
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
