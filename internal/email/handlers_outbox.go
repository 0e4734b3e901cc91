package email

import (
	"net/http"
	"strconv"
	"time"

	"github.com/trussdev/truss/internal/httpjson"
)

// OutboxEntry is one message of GET /api/email/outbox (bodies left out).
type OutboxEntry struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	To            string     `json:"to"`
	Subject       string     `json:"subject"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     *string    `json:"last_error"`
	SMTPReply     *string    `json:"smtp_reply"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at"`
	FailedAt      *time.Time `json:"failed_at"`
}

// OutboxPage is the body of GET /api/email/outbox.
type OutboxPage struct {
	Messages []OutboxEntry `json:"messages"`
	// NextBefore, when set, is the `before` of the next (older) page.
	NextBefore *int64         `json:"next_before"`
	Counts     map[string]int `json:"counts"`
}

// ListOutbox answers GET /api/email/outbox?status=&limit=&before= (admins):
// newest first, `limit` (1 to 200, default 50) per page, `before` an id
// from next_before, `status` pending, sent or failed.
func (s *Service) ListOutbox(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	fields := map[string][]string{}
	status := q.Get("status")
	switch status {
	case "", "pending", "sent", "failed":
	default:
		fields["status"] = []string{"must be pending, sent or failed"}
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			fields["limit"] = []string{"must be an integer from 1 to 200"}
		}
		limit = n
	}
	var before int64
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			fields["before"] = []string{"must be a message id (next_before of the previous page)"}
		}
		before = n
	}
	if len(fields) > 0 {
		return httpjson.Invalid("Invalid outbox query.", fields)
	}
	rows, err := s.pool.Query(r.Context(), `SELECT id, kind, to_address, subject, status, attempts, last_error, smtp_reply,
		CASE WHEN status = 'pending' THEN next_attempt_at END, created_at, sent_at, failed_at
		FROM truss_internal.email_outbox
		WHERE ($1 = '' OR status = $1) AND ($2 = 0 OR id < $2)
		ORDER BY id DESC LIMIT $3`, status, before, limit+1)
	if err != nil {
		return err
	}
	page := OutboxPage{Messages: []OutboxEntry{}, Counts: map[string]int{"pending": 0, "sent": 0, "failed": 0}}
	for rows.Next() {
		var e OutboxEntry
		if err := rows.Scan(&e.ID, &e.Kind, &e.To, &e.Subject, &e.Status, &e.Attempts, &e.LastError, &e.SMTPReply,
			&e.NextAttemptAt, &e.CreatedAt, &e.SentAt, &e.FailedAt); err != nil {
			rows.Close()
			return err
		}
		page.Messages = append(page.Messages, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(page.Messages) > limit {
		page.Messages = page.Messages[:limit]
		next := page.Messages[limit-1].ID
		page.NextBefore = &next
	}
	crow, err := s.pool.Query(r.Context(), `SELECT status, count(*) FROM truss_internal.email_outbox GROUP BY status`)
	if err != nil {
		return err
	}
	for crow.Next() {
		var st string
		var n int
		if err := crow.Scan(&st, &n); err != nil {
			crow.Close()
			return err
		}
		page.Counts[st] = n
	}
	if err := crow.Err(); err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, page)
}
