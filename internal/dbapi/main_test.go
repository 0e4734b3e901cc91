package dbapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apikey"
	"github.com/trussdev/truss/internal/server"
	"github.com/trussdev/truss/internal/tenant"
	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is a Truss server on a fresh database, with its pool (Truss's own
// user: the owner of the tables the tests create).
type env struct {
	t    *testing.T
	url  string
	pool *pgxpool.Pool
	keys *apikey.Service
}

func newEnv(t *testing.T, overrides map[string]string) *env {
	t.Helper()
	cfg := testenv.Config(t, overrides)
	pool := testenv.Pool(t, cfg)
	srv := httptest.NewServer(server.New(cfg, testenv.Logger(t), pool).Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, pool: pool, keys: apikey.New(pool, testenv.Logger(t), 0)}
}

// exec runs SQL as Truss's own user (the table owner).
func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// tenantKey makes a tenant (owned by a random identity) and a key of it.
func (e *env) tenantKey(t apikey.Type) (tenantID, secret string) {
	e.t.Helper()
	ctx := context.Background()
	var id string
	if err := e.pool.QueryRow(ctx, "SELECT gen_random_uuid()::text").Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	tn, err := tenant.Ensure(ctx, e.pool, id, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	_, secret, err = e.keys.Create(ctx, tn.ID, nil, t, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return tn.ID, secret
}

// key returns another key of the same tenant.
func (e *env) key(tenantID string, t apikey.Type) string {
	_, secret, err := e.keys.Create(context.Background(), tenantID, nil, t, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d, body not JSON: %s", r.status, r.body)
	}
}

func (r response) errCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message, Hint string } `json:"error"`
	}
	r.json(t, &e)
	return e.Error.Code
}

// do sends a request with the key in the apikey header; body may be nil, a
// string (sent as is) or a value (sent as JSON).
func (e *env) do(method, path, key string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if key != "" {
		req.Header.Set("apikey", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// must checks the status and returns the response.
func (e *env) must(status int, method, path, key string, body any, headers ...string) response {
	e.t.Helper()
	r := e.do(method, path, key, body, headers...)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

// sql runs one statement through POST /v1/sql with a service_role key.
func (e *env) sql(key, sql string, params ...any) map[string]any {
	e.t.Helper()
	if params == nil {
		params = []any{}
	}
	var out map[string]any
	e.must(200, "POST", "/v1/sql", key, map[string]any{"sql": sql, "params": params}).json(e.t, &out)
	return out
}

func randomEmail() string { return "u-" + strings.ToLower(rand.Text()[:10]) + "@example.com" }

// signUp registers a user and returns the session token and identity id.
func (e *env) signUp() (token, identityID string) {
	e.t.Helper()
	b := testenv.NewBrowser(e.t, e.url)
	b.Do("GET", "/api/auth/login", nil, nil)
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": randomEmail(), "password": "a long passphrase 12345"}, nil); resp.StatusCode != 200 {
		e.t.Fatalf("register: %d", resp.StatusCode)
	}
	var s struct {
		IdentityID string `json:"identity_id"`
	}
	b.Do("GET", "/api/auth/session", nil, &s)
	return b.Cookie("truss_session"), s.IdentityID
}
