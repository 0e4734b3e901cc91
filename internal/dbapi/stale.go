package dbapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/apikey"
)

// RetryStale runs fn and, on a database where Truss could not create its
// event trigger (migrated without a superuser, so DDL sends no NOTIFY),
// when fn fails on a column or relation the schema cache does not know,
// reads the catalog again (at most once a second, and not when the cache
// was read after the request arrived) and runs fn once more if the schema
// changed. A column added since is then found instead of answering
// column_not_found until a restart (the classic stale schema cache).
// Unknown tables and functions reload the same way where they are looked
// up, with or without the trigger.
//
// fn must not have written the response when it fails with such an error:
// the /v1/db handlers resolve every name before they run any SQL. The body
// fn read is replayed to the second run.
func (s *Service) RetryStale(fn apikey.HandlerFunc) apikey.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if sc := s.schema.Load(); sc != nil && sc.ddlNotified {
			return fn(w, r) // DDL reloads the cache through NOTIFY: nothing to retry
		}
		arrived := time.Now()
		var rec *recordingBody
		if r.Body != nil && r.Body != http.NoBody {
			rec = &recordingBody{r: r.Body}
			r.Body = rec
		}
		err := fn(w, r)
		if !staleName(err) {
			return err
		}
		before := s.schema.Load()
		if before != nil && before.ddlNotified {
			// The cache was first loaded during fn and DDL reaches it
			// through NOTIFY: the name is unknown, not new, so answer at
			// once (a typo must not wait for the once-a-second catalog read).
			return err
		}
		sc, rerr := s.reload(r.Context(), false, arrived)
		if rerr != nil || sc == before {
			return err
		}
		if rec != nil {
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(rec.buf.Bytes()), rec.r))
		}
		return fn(w, r)
	}
}

// staleName reports an error about a name missing from the schema cache.
func staleName(err error) bool {
	var e *apierror.Error
	return errors.As(err, &e) && (e.Code == "column_not_found" || e.Code == "relation_not_found")
}

// recordingBody keeps what is read from a request body, to replay it.
type recordingBody struct {
	r   io.ReadCloser
	buf bytes.Buffer
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

func (b *recordingBody) Close() error { return b.r.Close() }
