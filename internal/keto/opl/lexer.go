// Package opl reads, checks and rewrites documents in the Ory Permission
// Language (OPL), the TypeScript subset Ory Keto v0.13 loads as its
// namespace configuration. Keto itself is the judge of syntax (its
// /opl/syntax/check API); this package only needs to find class names,
// relations, permissions and namespace references precisely enough to rename
// a tenant's classes and compose the one file Keto watches. Its lexer follows
// Keto's (internal/schema/lexer.go) token for token.
package opl

import (
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokError tokenKind = iota
	tokEOF
	tokIdent
	tokString
	tokComment
	tokPunct // operators, brackets, separators
)

// token is one lexical item. For strings, Val excludes the quotes while
// Start/End cover them.
type token struct {
	Kind       tokenKind
	Val        string
	Start, End int
}

const (
	letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
	digits  = "0123456789"
)

// Keto matches these before comments and single characters.
var twoRune = []string{"=>", "||", "&&"}

const oneRune = ":.()[]{}<>=,;|!"

// lex splits src into tokens, comments included. It stops at the first
// error, which it returns as a tokError token.
func lex(src string) []token {
	var out []token
	pos := 0
	for {
		for pos < len(src) && strings.IndexByte("\t\n\v\f\r ", src[pos]) >= 0 {
			pos++
		}
		if pos >= len(src) {
			return append(out, token{Kind: tokEOF, Start: pos, End: pos})
		}
		rest := src[pos:]
		if t, ok := lexTwoRune(rest, pos); ok {
			out = append(out, t)
			pos = t.End
			continue
		}
		switch {
		case strings.HasPrefix(rest, "//"):
			end := strings.IndexByte(rest, '\n')
			if end < 0 {
				end = len(rest)
			}
			out = append(out, token{Kind: tokComment, Val: rest[:end], Start: pos, End: pos + end})
			pos += end
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				return append(out, token{Kind: tokError, Val: "unclosed comment", Start: pos, End: len(src)})
			}
			out = append(out, token{Kind: tokComment, Val: rest[:end+4], Start: pos, End: pos + end + 4})
			pos += end + 4
		case strings.IndexByte(oneRune, rest[0]) >= 0:
			out = append(out, token{Kind: tokPunct, Val: rest[:1], Start: pos, End: pos + 1})
			pos++
		case rest[0] == '"' || rest[0] == '\'':
			end := strings.IndexByte(rest[1:], rest[0])
			if end < 0 {
				return append(out, token{Kind: tokError, Val: "unclosed string literal", Start: pos, End: len(src)})
			}
			out = append(out, token{Kind: tokString, Val: rest[1 : end+1], Start: pos, End: pos + end + 2})
			pos += end + 2
		case strings.IndexByte(letters, rest[0]) >= 0:
			end := 1
			for end < len(rest) && strings.IndexByte(letters+digits, rest[end]) >= 0 {
				end++
			}
			out = append(out, token{Kind: tokIdent, Val: rest[:end], Start: pos, End: pos + end})
			pos += end
		default:
			r, _ := utf8.DecodeRuneInString(rest)
			return append(out, token{Kind: tokError, Val: "unexpected token " + string(r), Start: pos, End: pos + 1})
		}
	}
}

func lexTwoRune(rest string, pos int) (token, bool) {
	for _, op := range twoRune {
		if strings.HasPrefix(rest, op) {
			return token{Kind: tokPunct, Val: op, Start: pos, End: pos + len(op)}, true
		}
	}
	return token{}, false
}

// Position is a place in a document the way Keto reports it: Line counts
// from 1, Column (in characters) from 0.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// positionOf converts a byte offset of src.
func positionOf(src string, offset int) Position {
	offset = min(max(offset, 0), len(src))
	before := src[:offset]
	line := strings.Count(before, "\n") + 1
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return Position{Line: line, Column: utf8.RuneCountInString(before[lineStart:])}
}

// EndPosition is the position just past the end of src.
func EndPosition(src string) Position { return positionOf(src, len(src)) }
