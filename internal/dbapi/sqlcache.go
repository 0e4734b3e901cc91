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
	m  map[string][]stmt // the statements without their parameters
}

const maxSQLCached = 2000

// get looks a shape up; the map index converts k without copying it.
func (c *sqlCache) get(k []byte) ([]stmt, bool) {
	c.mu.RLock()
	v, ok := c.m[string(k)]
	c.mu.RUnlock()
	return v, ok
}

func (c *sqlCache) put(k string, v []stmt) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxSQLCached {
		c.m = make(map[string][]stmt)
	}
	c.m[k] = v
	c.mu.Unlock()
}

// appendShape appends the cache key of a read to b (a caller's stack
// buffer, so that a hit allocates nothing). Reads whose parameters condArgs
// does not reproduce (filters on embedded relations, JSON paths, whose keys
// are parameters too) are not cached: ok is false.
func appendShape(b []byte, req *restRequest) (key []byte, ok bool) {
	if !cacheable(req) {
		return b, false
	}
	b = appendStr(b, req.table.Schema)
	b = appendStr(b, req.table.Name)
	b = appendStr(b, req.selectRaw)
	b = appendStr(b, req.orderRaw)
	b = strconv.AppendInt(b, int64(req.limit), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(req.offset), 10)
	if req.prefer.count {
		b = append(b, ",c="...)
		b = append(b, req.prefer.countMode...)
	}
	if req.csv {
		b = append(b, ",csv"...)
	}
	if req.stripNulls {
		b = append(b, ",nulls=stripped"...)
	}
	b = append(b, '|')
	return appendConds(b, req.conds), true
}

// cacheable reports whether a read's SQL may be cached by its shape. RPC
// reads are not: their SQL depends on the arguments given and their first
// parameter is the arguments' JSON.
func cacheable(req *restRequest) bool {
	return req.fn == nil && len(req.embedConds) == 0 && len(req.embedPages) == 0 && !strings.Contains(req.selectRaw, "->") &&
		!strings.Contains(req.orderRaw, "->") && !hasJSONPath(req.conds)
}

func hasJSONPath(conds []postgrest.Condition) bool {
	for _, c := range conds {
		if c.Filter != nil && len(c.Filter.JSONPath) > 0 || c.Logic != nil && hasJSONPath(c.Logic.Children) {
			return true
		}
	}
	return false
}

// appendStr appends a length-prefixed string, so no two inputs meet.
func appendStr(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// appendConds appends what of the conditions decides the SQL text:
// columns, operators, modifiers and list lengths, never values.
func appendConds(b []byte, conds []postgrest.Condition) []byte {
	for _, c := range conds {
		if f := c.Filter; f != nil {
			b = append(b, 'f')
			b = appendStr(b, f.Column)
			if f.Negate {
				b = append(b, '!')
			}
			b = appendStr(b, string(f.Op))
			b = appendStr(b, f.Quant)
			if f.FTSConfig != "" {
				b = append(b, '@')
			}
			if f.Op == postgrest.Is {
				b = appendStr(b, f.Value) // is.null and is.true differ in SQL
			}
			b = strconv.AppendInt(b, int64(len(f.List)), 10)
			b = append(b, ';')
			continue
		}
		l := c.Logic
		b = append(b, '(')
		if l.Or {
			b = append(b, '|')
		}
		if l.Negate {
			b = append(b, '!')
		}
		b = appendConds(b, l.Children)
		b = append(b, ')')
	}
	return b
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
