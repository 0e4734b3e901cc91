// Package postgrest parses PostgREST's URL grammar: select lists with
// embedded relations, horizontal filters (col=op.value, not., quantifiers),
// logic trees (or=(...), and=(...)) and order terms. It only parses: names
// are checked against the schema cache and quoted by the caller, and values
// always travel to PostgreSQL as parameters.
package postgrest

import "fmt"

// Error is a grammar error pointing at the bad part of one query parameter.
type Error struct {
	Param string // the query parameter (e.g. "select", "or", "age")
	Input string // its value
	Pos   int    // byte offset in Input where the problem is
	Msg   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%s: %s at position %d", e.Param, e.Input, e.Msg, e.Pos)
}

// Near is the input from Pos on, at most 20 bytes, for messages.
func (e *Error) Near() string {
	if e.Pos >= len(e.Input) {
		return "(end of value)"
	}
	s := e.Input[e.Pos:]
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return s
}
