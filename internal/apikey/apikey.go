// Package apikey manages the API keys of the /v1 API and authenticates /v1
// requests with them.
//
// A key is "truss_pk_" (anon) or "truss_sk_" (service_role) followed by 26
// random base32 characters (130 bits). It is shown once, when it is created
// or rotated; Truss stores only its SHA-256 (a fast hash is right for
// high-entropy secrets: nobody can guess 130 bits, however fast the hash),
// plus a prefix that identifies it in lists. Every key belongs to a tenant;
// the tenant travels in the request's claims so RLS policies can use it.
//
// Verified keys are cached for CacheTTL. Revocation clears the cache at once
// on the instance that served it and, through NOTIFY truss_api_keys, on every
// other instance listening (internal/dbapi listens); the TTL bounds the
// delay if that notification is lost.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trussdev/truss/internal/apierror"
)

// Type is the kind of a key; it decides the database role of requests.
type Type string

const (
	// Anon keys are public (shipped in apps); requests run as role anon, or
	// authenticated with a Truss session.
	Anon Type = "anon"
	// ServiceRole keys are secrets for servers; requests run as
	// service_role, which bypasses row-level security.
	ServiceRole Type = "service_role"
)

// Key prefixes by type.
const (
	PrefixAnon    = "truss_pk_"
	PrefixService = "truss_sk_"
)

const (
	// CacheTTL bounds how long a verified key is trusted without asking
	// PostgreSQL again (when the revocation notification is lost).
	CacheTTL = 30 * time.Second
	// touchEvery throttles last_used_at updates: one write per key per minute.
	touchEvery = time.Minute
	randomLen  = 26 // len(rand.Text())
	shownLen   = 6  // random characters kept in the listed prefix
	// NotifyChannel carries revocations to other instances.
	NotifyChannel = "truss_api_keys"
)

// Key is an API key as listed (never with its secret).
type Key struct {
	ID          string     `json:"id"`
	TenantID    string     `json:"tenant_id"`
	KeyType     Type       `json:"key_type"`
	Label       string     `json:"label"`
	Prefix      string     `json:"prefix"`
	CreatedBy   *string    `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	RevokedAt   *time.Time `json:"revoked_at"`
	RotatedFrom *string    `json:"rotated_from"`
}

// Service stores keys and verifies them.
type Service struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	limiter *limiter // nil: no per-key limit
	now     func() time.Time

	mu    sync.RWMutex
	cache map[[32]byte]*cached
}

type cached struct {
	key     verified
	expires time.Time
	// touched is when last_used_at was last recorded (Unix nanoseconds),
	// atomic so that a request on a cached key takes no exclusive lock.
	touched atomic.Int64
}

type verified struct {
	ID, TenantID string
	Type         Type
}

// New returns the service; ratePerMinute 0 disables the per-key limit.
func New(pool *pgxpool.Pool, log *slog.Logger, ratePerMinute int) *Service {
	s := &Service{pool: pool, log: log, now: time.Now, cache: map[[32]byte]*cached{}}
	if ratePerMinute > 0 {
		s.limiter = newLimiter(ratePerMinute, time.Minute, time.Now)
	}
	return s
}

// Hash is the stored form of a key.
func Hash(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

func generate(t Type) (secret, prefix string) {
	p := PrefixAnon
	if t == ServiceRole {
		p = PrefixService
	}
	secret = p + rand.Text()
	return secret, secret[:len(p)+shownLen]
}

// wellFormed checks a presented key's shape before any database work.
func wellFormed(secret string) bool {
	if !strings.HasPrefix(secret, PrefixAnon) && !strings.HasPrefix(secret, PrefixService) {
		return false
	}
	if len(secret) != len(PrefixAnon)+randomLen {
		return false
	}
	for _, c := range secret[len(PrefixAnon):] {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

const keyColumns = `id, tenant_id, key_type, label, prefix, created_by, created_at, last_used_at, revoked_at, rotated_from`

func scanKey(row pgx.Row) (Key, error) {
	var k Key
	err := row.Scan(&k.ID, &k.TenantID, &k.KeyType, &k.Label, &k.Prefix, &k.CreatedBy, &k.CreatedAt, &k.LastUsedAt,
		&k.RevokedAt, &k.RotatedFrom)
	return k, err
}

// Create makes a key for a tenant and returns it with its secret, which is
// never available again.
func (s *Service) Create(ctx context.Context, tenantID string, createdBy *string, t Type, label string) (Key, string, error) {
	return s.insert(ctx, s.pool, tenantID, createdBy, t, label, nil)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Service) insert(ctx context.Context, q querier, tenantID string, createdBy *string, t Type, label string, from *string) (Key, string, error) {
	secret, prefix := generate(t)
	h := Hash(secret)
	k, err := scanKey(q.QueryRow(ctx, `INSERT INTO truss_internal.api_keys (tenant_id, key_type, label, prefix, key_hash, created_by, rotated_from)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+keyColumns, tenantID, string(t), label, prefix, h[:], createdBy, from))
	return k, secret, err
}

// List returns a tenant's keys, newest first, revoked ones included.
func (s *Service) List(ctx context.Context, tenantID string) ([]Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM truss_internal.api_keys WHERE tenant_id = $1
		ORDER BY created_at DESC, id LIMIT 1000`, tenantID)
	if err != nil {
		return nil, err
	}
	keys := []Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// Get returns one key of a tenant.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM truss_internal.api_keys WHERE id = $1 AND tenant_id = $2`,
		id, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, errKeyNotFound(id)
	}
	return k, err
}

func errKeyNotFound(id string) *apierror.Error {
	return apierror.New(http.StatusNotFound, "api_key_not_found", "No API key "+id+" in this tenant.").
		WithHint("List the keys with GET /api/keys (dashboard) or GET /v1/keys.")
}

// Revoke revokes a key at once. Revoking a revoked key is a no-op.
func (s *Service) Revoke(ctx context.Context, tenantID, id string) (Key, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Key{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	k, err := s.revokeTx(ctx, tx, tenantID, id)
	if err != nil {
		return k, err
	}
	if err := tx.Commit(ctx); err != nil {
		return k, err
	}
	s.InvalidateCache()
	return k, nil
}

func (s *Service) revokeTx(ctx context.Context, tx pgx.Tx, tenantID, id string) (Key, error) {
	k, err := scanKey(tx.QueryRow(ctx, `UPDATE truss_internal.api_keys SET revoked_at = coalesce(revoked_at, now())
		WHERE id = $1 AND tenant_id = $2 RETURNING `+keyColumns, id, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, errKeyNotFound(id)
	}
	if err != nil {
		return k, err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, id)
	return k, err
}

// Rotate replaces an active key with a new one of the same type and label;
// the old key stops working at once.
func (s *Service) Rotate(ctx context.Context, tenantID, id string, createdBy *string) (Key, string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Key{}, "", err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	old, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM truss_internal.api_keys WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
		id, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, "", errKeyNotFound(id)
	}
	if err != nil {
		return Key{}, "", err
	}
	if old.RevokedAt != nil {
		return Key{}, "", apierror.New(http.StatusConflict, "api_key_revoked", "This key is revoked and cannot be rotated.").
			WithHint("Create a new key instead.")
	}
	k, secret, err := s.insert(ctx, tx, tenantID, createdBy, old.KeyType, old.Label, &old.ID)
	if err != nil {
		return Key{}, "", err
	}
	if _, err := s.revokeTx(ctx, tx, tenantID, id); err != nil {
		return Key{}, "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return Key{}, "", err
	}
	s.InvalidateCache()
	return k, secret, nil
}

// InvalidateCache forgets every verified key (after a revocation).
func (s *Service) InvalidateCache() {
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
}

// maxCached bounds the cache; when full it starts over.
const maxCached = 10_000

// verify returns the active key with this secret, or ok=false.
func (s *Service) verify(ctx context.Context, secret string) (verified, bool, error) {
	if !wellFormed(secret) {
		return verified{}, false, nil
	}
	h := Hash(secret)
	now := s.now()
	s.mu.RLock()
	c := s.cache[h]
	s.mu.RUnlock()
	if c != nil && now.Before(c.expires) {
		s.maybeTouch(c, now)
		return c.key, true, nil
	}
	var v verified
	var t string
	err := s.pool.QueryRow(ctx, `SELECT id, tenant_id, key_type FROM truss_internal.api_keys
		WHERE key_hash = $1 AND revoked_at IS NULL`, h[:]).Scan(&v.ID, &v.TenantID, &t)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	v.Type = Type(t)
	c = &cached{key: v, expires: now.Add(CacheTTL)}
	s.mu.Lock()
	if len(s.cache) >= maxCached {
		clear(s.cache)
	}
	s.cache[h] = c
	s.mu.Unlock()
	s.maybeTouch(c, now)
	return v, true, nil
}

// maybeTouch records last_used_at at most once per touchEvery per key and
// instance, in the background: a request never waits for it.
func (s *Service) maybeTouch(c *cached, now time.Time) {
	last := c.touched.Load()
	if now.UnixNano()-last < int64(touchEvery) || !c.touched.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	id := c.key.ID
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := s.pool.Exec(ctx, `UPDATE truss_internal.api_keys SET last_used_at = now() WHERE id = $1`, id); err != nil {
			s.log.Debug("api key last_used_at not recorded", "key_id", id, "error", err)
		}
	}()
}
