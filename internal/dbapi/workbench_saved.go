package dbapi

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
)

type historyEntry struct {
	ID         int64     `json:"id"`
	SQL        string    `json:"sql"`
	Write      bool      `json:"write"`
	Command    string    `json:"command"`
	RowCount   int64     `json:"rowCount"`
	ErrorCode  string    `json:"error_code,omitempty"`
	DurationMS float64   `json:"duration_ms"`
	CreatedAt  time.Time `json:"created_at"`
}

// History answers GET /api/sql/history: the admin's last 100 queries,
// newest first.
func (w *Workbench) History(rw http.ResponseWriter, r *http.Request) error {
	p, _ := auth.FromContext(r.Context())
	rows, err := w.svc.main.Query(r.Context(), `
		SELECT id, sql, write, command, row_count, error_code, duration_ms, created_at
		FROM truss_internal.sql_history WHERE tenant_id = $1 AND identity_id = $2
		ORDER BY id DESC LIMIT $3`, p.TenantID, p.IdentityID, HistorySize)
	if err != nil {
		return err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (historyEntry, error) {
		var h historyEntry
		err := row.Scan(&h.ID, &h.SQL, &h.Write, &h.Command, &h.RowCount, &h.ErrorCode, &h.DurationMS, &h.CreatedAt)
		return h, err
	})
	if err != nil {
		return err
	}
	return httpjson.Write(rw, http.StatusOK, map[string]any{"history": out})
}

type savedQuery struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	SQL       string    `json:"sql"`
	CreatedBy *string   `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type savedInput struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

const savedColumns = `id::text, name, sql, created_by::text, created_at, updated_at`

func scanSaved(row pgx.Row) (savedQuery, error) {
	var q savedQuery
	err := row.Scan(&q.ID, &q.Name, &q.SQL, &q.CreatedBy, &q.CreatedAt, &q.UpdatedAt)
	return q, err
}

func (in *savedInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	fields := map[string][]string{}
	if in.Name == "" {
		fields["name"] = append(fields["name"], "required")
	} else if utf8.RuneCountInString(in.Name) > 200 {
		fields["name"] = append(fields["name"], "at most 200 characters")
	}
	if strings.TrimSpace(in.SQL) == "" {
		fields["sql"] = append(fields["sql"], "required")
	} else if len(in.SQL) > MaxWorkbenchSQL {
		fields["sql"] = append(fields["sql"], "at most 100 KB")
	}
	if len(fields) > 0 {
		return httpjson.Invalid("The saved query is invalid.", fields)
	}
	return nil
}

// ListSaved answers GET /api/sql/saved: the tenant's saved queries, most
// recently changed first.
func (w *Workbench) ListSaved(rw http.ResponseWriter, r *http.Request) error {
	p, _ := auth.FromContext(r.Context())
	rows, err := w.svc.main.Query(r.Context(), `SELECT `+savedColumns+` FROM truss_internal.sql_saved
		WHERE tenant_id = $1 ORDER BY updated_at DESC, id`, p.TenantID)
	if err != nil {
		return err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (savedQuery, error) { return scanSaved(row) })
	if err != nil {
		return err
	}
	return httpjson.Write(rw, http.StatusOK, map[string]any{"saved": out})
}

// CreateSaved answers POST /api/sql/saved {name, sql}.
func (w *Workbench) CreateSaved(rw http.ResponseWriter, r *http.Request) error {
	p, _ := auth.FromContext(r.Context())
	var in savedInput
	if err := httpjson.Decode(r, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	q, err := scanSaved(w.svc.main.QueryRow(r.Context(), `INSERT INTO truss_internal.sql_saved (tenant_id, name, sql, created_by)
		VALUES ($1, $2, $3, $4) RETURNING `+savedColumns, p.TenantID, in.Name, in.SQL, p.IdentityID))
	if err != nil {
		return err
	}
	return httpjson.Write(rw, http.StatusCreated, q)
}

// UpdateSaved answers PUT /api/sql/saved/{id} {name, sql}.
func (w *Workbench) UpdateSaved(rw http.ResponseWriter, r *http.Request) error {
	p, _ := auth.FromContext(r.Context())
	id, err := savedID(r)
	if err != nil {
		return err
	}
	var in savedInput
	if err := httpjson.Decode(r, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	q, err := scanSaved(w.svc.main.QueryRow(r.Context(), `UPDATE truss_internal.sql_saved SET name = $3, sql = $4, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 RETURNING `+savedColumns, p.TenantID, id, in.Name, in.SQL))
	if errors.Is(err, pgx.ErrNoRows) {
		return savedNotFound()
	}
	if err != nil {
		return err
	}
	return httpjson.Write(rw, http.StatusOK, q)
}

// DeleteSaved answers DELETE /api/sql/saved/{id}.
func (w *Workbench) DeleteSaved(rw http.ResponseWriter, r *http.Request) error {
	p, _ := auth.FromContext(r.Context())
	id, err := savedID(r)
	if err != nil {
		return err
	}
	tag, err := w.svc.main.Exec(r.Context(), `DELETE FROM truss_internal.sql_saved WHERE tenant_id = $1 AND id = $2`, p.TenantID, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return savedNotFound()
	}
	rw.WriteHeader(http.StatusNoContent)
	return nil
}

func savedID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !isUUID(id) {
		return "", savedNotFound()
	}
	return id, nil
}

func savedNotFound() error {
	return apierror.New(http.StatusNotFound, apierror.CodeNotFound, "No saved query with this id in your tenant.").
		WithHint("GET /api/sql/saved lists the saved queries.")
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
