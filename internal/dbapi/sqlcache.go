package dbapi

import (
	"strconv"
	"strings"
	"sync"

	"github.com/trussdev/truss/internal/dbapi/postgrest"
)

// sqlCache keeps the SQL text built for a request shape: the table, select=,
// order=, limit/offset, Prefer: count and the filters without their values.
// Values are never part of the text (they are parameters), so a hit only
// collects the parameters again, in the order the builder would add them.
// It starts over when it reaches maxSQLCached entries.
type sqlCache struct {
	mu sync.RWMutex
	m  map[string][]string
}

const maxSQLCached = 2000

func (c *sqlCache) get(k string) ([]string, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *sqlCache) put(k string, v []string) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxSQLCached {
		c.m = make(map[string][]string)
	}
	c.m[k] = v
	c.mu.Unlock()
}

// readShape is the cache key of a read. Reads whose parameters condArgs
// does not reproduce (filters on embedded relations, JSON paths, whose keys
// are parameters too) are not cached: ok is false.
func readShape(req *restRequest) (key string, ok bool) {
	// RPC reads are not cached: their SQL depends on the arguments given
	// and their first parameter is the arguments' JSON.
	if req.fn != nil || len(req.embedConds) > 0 || len(req.embedPages) > 0 || strings.Contains(req.selectRaw, "->") || strings.Contains(req.orderRaw, "->") || hasJSONPath(req.conds) {
		return "", false
	}
	var b strings.Builder
	b.Grow(64 + len(req.selectRaw) + len(req.orderRaw))
	writeStr(&b, req.table.Schema)
	writeStr(&b, req.table.Name)
	writeStr(&b, req.selectRaw)
	writeStr(&b, req.orderRaw)
	b.WriteString(strconv.Itoa(req.limit))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(req.offset))
	if req.prefer.count {
		b.WriteString(",c")
	}
	b.WriteByte('|')
	condShape(&b, req.conds)
	return b.String(), true
}

func hasJSONPath(conds []postgrest.Condition) bool {
	for _, c := range conds {
		if c.Filter != nil && len(c.Filter.JSONPath) > 0 || c.Logic != nil && hasJSONPath(c.Logic.Children) {
			return true
		}
	}
	return false
}

// writeStr writes a length-prefixed string, so no two inputs meet.
func writeStr(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// condShape writes what of the conditions decides the SQL text: columns,
// operators, modifiers and list lengths, never values.
func condShape(b *strings.Builder, conds []postgrest.Condition) {
	for _, c := range conds {
		if f := c.Filter; f != nil {
			b.WriteByte('f')
			writeStr(b, f.Column)
			if f.Negate {
				b.WriteByte('!')
			}
			writeStr(b, string(f.Op))
			writeStr(b, f.Quant)
			if f.FTSConfig != "" {
				b.WriteByte('@')
			}
			if f.Op == postgrest.Is {
				writeStr(b, f.Value) // is.null and is.true differ in SQL
			}
			b.WriteString(strconv.Itoa(len(f.List)))
			b.WriteByte(';')
			continue
		}
		l := c.Logic
		b.WriteByte('(')
		if l.Or {
			b.WriteByte('|')
		}
		if l.Negate {
			b.WriteByte('!')
		}
		condShape(b, l.Children)
		b.WriteByte(')')
	}
}

// condArgs returns the parameters of conditions in the order
// builder.filter adds them.
func condArgs(args []any, conds []postgrest.Condition) []any {
	for _, c := range conds {
		if c.Logic != nil {
			args = condArgs(args, c.Logic.Children)
			continue
		}
		f := c.Filter
		switch {
		case f.Op == postgrest.Is:
		case f.Op == postgrest.In:
			for _, v := range f.List {
				args = append(args, v)
			}
		case f.Op.IsFTS():
			if f.FTSConfig != "" {
				args = append(args, f.FTSConfig)
			}
			args = append(args, f.Value)
		case f.Quant != "":
			for _, v := range f.List {
				args = append(args, likeValue(f.Op, v))
			}
		default:
			args = append(args, likeValue(f.Op, f.Value))
		}
	}
	return args
}
