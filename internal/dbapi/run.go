package dbapi

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

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

func claimsJSON(c *apikey.Caller) string {
	b, _ := json.Marshal(claims{Role: c.Role, Sub: c.Sub, Email: c.Email, TenantID: c.TenantID, KeyID: c.KeyID, Iss: "truss"})
	return string(b)
}

// setupSQL switches to the caller's role and sets its claims and timeout,
// all local to the (implicit or explicit) transaction. set_config('role')
// is SET LOCAL ROLE with the role as a parameter.
const setupSQL = `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('statement_timeout', $3, true)`

func setupArgs(c *apikey.Caller, timeout time.Duration) []any {
	return []any{c.Role, claimsJSON(c), strconv.FormatInt(timeout.Milliseconds(), 10)}
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
	b := &pgx.Batch{}
	b.Queue(setupSQL, setupArgs(c, s.opts.StatementTimeout)...)
	for _, st := range stmts {
		b.Queue(st.sql, st.args...)
	}
	br := api.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, pgError(err)
	}
	out := make([]pipeResult, len(stmts))
	for i := range stmts {
		if execOnly != nil && execOnly[i] {
			tag, err := br.Exec()
			if err != nil {
				return nil, pgError(err)
			}
			out[i].affected = tag.RowsAffected()
			continue
		}
		var body []byte
		var n int64
		if err := br.QueryRow().Scan(&body, &n); err != nil {
			return nil, pgError(err)
		}
		out[i] = pipeResult{body: body, n: n}
	}
	if err := br.Close(); err != nil {
		return nil, pgError(err)
	}
	return out, nil
}
