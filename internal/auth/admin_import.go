package auth

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// Limits of POST /api/admin/identities/import.
const (
	// adminImportMaxRows bounds one call. 500 rows of the longest valid
	// values (254-byte email, 200-character name, 72-byte password) stay
	// well under the 1 MiB body limit.
	adminImportMaxRows = 500
	// adminImportWorkers is how many creates run at once: Kratos hashes each
	// password (bcrypt), so this bounds the CPU one import takes from it.
	adminImportWorkers = 4
)

// AdminImportResult is the outcome of one import row.
type AdminImportResult struct {
	Index  int              `json:"index"`
	Email  string           `json:"email"`
	Status string           `json:"status"` // "created" or "failed"
	ID     string           `json:"id,omitempty"`
	Error  *AdminImportFail `json:"error,omitempty"`
}

// AdminImportFail says why a row was not created.
type AdminImportFail struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Fields  map[string][]string `json:"fields,omitempty"`
}

// AdminImportResponse answers POST /api/admin/identities/import.
type AdminImportResponse struct {
	Created int                 `json:"created"`
	Failed  int                 `json:"failed"`
	Results []AdminImportResult `json:"results"`
}

// AdminImportIdentities answers POST /api/admin/identities/import. The body
// is a JSON array of 1 to 500 rows [{"email", "name"?, "password"?}], each
// checked like POST /api/admin/identities (same limits; created verified;
// without a password the user recovers the account). More than 500 rows is
// 413 too_many_rows and nothing is created.
//
// Every row is validated first (email format, password policy, the same
// email earlier in the batch, compared case-insensitively: duplicate_in_batch);
// then each valid row is created with its own Kratos create, which is atomic:
// a failed row (e.g. account_exists) leaves nothing behind, and the other
// rows are unaffected. The answer is 200 with one result per row, in order:
// {"created": n, "failed": m, "results": [{"index", "email", "status":
// "created"|"failed", "id"?, "error": {"code", "message", "fields"?}?}]}.
//
// If the client goes away mid-import, the rows not yet sent to Kratos fail
// with request_cancelled; the import can be re-sent as is: rows already
// created then fail with account_exists.
func (s *Service) AdminImportIdentities(w http.ResponseWriter, r *http.Request) error {
	var rows []AdminCreateIdentityRequest
	if err := decodeJSONArray(r, &rows); err != nil {
		return err
	}
	if len(rows) > adminImportMaxRows {
		err := apierror.New(http.StatusRequestEntityTooLarge, "too_many_rows",
			fmt.Sprintf("An import takes at most %d rows; this one has %d. Nothing was created.", adminImportMaxRows, len(rows))).
			WithHint("Split the rows into several imports of at most 500.").
			WithDetails(map[string]any{"max_rows": adminImportMaxRows, "rows": len(rows)})
		s.adminAudit(r, "admin_identity_import", err, "", map[string]any{"rows": len(rows)})
		return err
	}
	if len(rows) == 0 {
		return apierror.New(http.StatusUnprocessableEntity, "validation_failed", "The import has no rows.").
			WithDetails(map[string]any{"fields": map[string][]string{"body": {"must contain at least one row"}}})
	}

	results := make([]AdminImportResult, len(rows))
	seen := map[string]int{}
	var todo []int
	for i := range rows {
		results[i] = AdminImportResult{Index: i, Status: "failed"}
		fields := rows[i].normalize()
		results[i].Email = rows[i].Email
		if len(fields) > 0 {
			results[i].Error = &AdminImportFail{Code: "validation_failed", Message: "Some fields are invalid.", Fields: fields}
			continue
		}
		key := strings.ToLower(rows[i].Email)
		if first, dup := seen[key]; dup {
			results[i].Error = &AdminImportFail{Code: "duplicate_in_batch",
				Message: fmt.Sprintf("Row %d has the same email; only the first one is imported.", first)}
			continue
		}
		seen[key] = i
		todo = append(todo, i)
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(adminImportWorkers, len(todo)) {
		wg.Go(func() {
			for i := range jobs {
				if r.Context().Err() != nil {
					results[i].Error = &AdminImportFail{Code: "request_cancelled", Message: "The request ended before this row was created."}
					continue
				}
				ident, err := s.createIdentity(r.Context(), rows[i])
				if err != nil {
					e := apierror.As(err)
					if e.Status >= 500 { // the server's handler would have logged it
						s.log.Warn("import row not created", "index", i, "code", e.Code, "error", err.Error())
					}
					results[i].Error = &AdminImportFail{Code: e.Code, Message: e.Message}
					continue
				}
				results[i].Status, results[i].ID = "created", ident.Id
			}
		})
	}
	for _, i := range todo {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	out := AdminImportResponse{Results: results}
	for _, res := range results {
		if res.Status == "created" {
			out.Created++
			s.adminAudit(r, "admin_identity_create", nil, res.ID, map[string]any{"email": res.Email, "via": "import"})
		} else {
			out.Failed++
		}
	}
	s.adminAudit(r, "admin_identity_import", nil, "", map[string]any{"rows": len(rows), "created": out.Created, "failed": out.Failed})
	return httpjson.Write(w, http.StatusOK, out)
}
