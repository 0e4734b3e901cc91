package keto

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/trussdev/truss/internal/keto/opl"
)

// modelCache keeps each tenant's model for a short time, so a check costs
// no database query. Another Truss instance's model change is seen within
// the TTL; this instance's own changes at once.
type modelCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedModel
}

type cachedModel struct {
	m  *Model
	at time.Time
}

func newModelCache(ttl time.Duration) *modelCache {
	return &modelCache{ttl: ttl, entries: map[string]cachedModel{}}
}

// get returns the cached model and whether it is still fresh.
func (c *modelCache) get(tenant string) (*Model, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[tenant]
	if !ok {
		return nil, false
	}
	return e.m, time.Since(e.at) < c.ttl
}

func (c *modelCache) put(tenant string, m *Model) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 10000 {
		for k, e := range c.entries {
			if time.Since(e.at) > c.ttl {
				delete(c.entries, k)
			}
		}
	}
	c.entries[tenant] = cachedModel{m: m, at: time.Now()}
}

// model returns a tenant's active model. When it comes from the database,
// Truss also makes sure the namespaces file holds that version (it may have
// been regenerated, e.g. by `truss dev` restarting Keto).
func (s *Service) model(ctx context.Context, tenant string) (*Model, error) {
	prev, fresh := s.models.get(tenant)
	if fresh {
		return prev, nil
	}
	version, src, err := activeModel(ctx, s.pool, tenant)
	if err != nil {
		return nil, err
	}
	m := prev
	if m == nil || m.Version != version {
		if m, err = parseModel(tenant, version, src); err != nil {
			return nil, err
		}
	}
	if version > 0 && s.nsFile != nil {
		if held, err := s.nsFile.holds(tenant, m); err != nil || !held {
			if m2, err := s.reconcile(ctx, tenant); err != nil {
				s.log.Warn("keto: cannot bring the namespaces file up to date", "tenant_id", tenant, "version", version, "error", err)
			} else {
				m = m2
			}
		}
	}
	s.models.put(tenant, m)
	return m, nil
}

// reconcile writes the tenant's active model into the namespaces file,
// holding the tenant's model lock: a change being saved by another
// instance (file written, not yet committed) finishes first, so this never
// puts an older version back.
func (s *Service) reconcile(ctx context.Context, tenant string) (*Model, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := lockTenantModel(ctx, tx, tenant); err != nil {
		return nil, err
	}
	version, src, err := activeModel(ctx, tx, tenant)
	if err != nil {
		return nil, err
	}
	m, err := parseModel(tenant, version, src)
	if err != nil {
		return nil, err
	}
	if held, err := s.nsFile.holds(tenant, m); err != nil || !held {
		if _, err := s.nsFile.update(ctx, tenant, m); err != nil {
			return nil, err
		}
	}
	return m, tx.Commit(ctx)
}

func parseModel(tenant string, version int, src string) (*Model, error) {
	if src == "" {
		return buildModel(tenant, version, "", nil), nil
	}
	doc, errs := opl.Parse(src)
	if len(errs) > 0 {
		return nil, fmt.Errorf("stored model version %d of tenant %s does not parse: %v", version, tenant, errs)
	}
	return buildModel(tenant, version, src, doc), nil
}

func itoa(n int) string { return strconv.Itoa(n) }
