package postgrest

import "strings"

// Op is a filter operator.
type Op string

// The operators of PostgREST's horizontal filtering.
const (
	Eq         Op = "eq"
	Neq        Op = "neq"
	Gt         Op = "gt"
	Gte        Op = "gte"
	Lt         Op = "lt"
	Lte        Op = "lte"
	Like       Op = "like"
	Ilike      Op = "ilike"
	Match      Op = "match"
	Imatch     Op = "imatch"
	Is         Op = "is"
	IsDistinct Op = "isdistinct"
	In         Op = "in"
	Cs         Op = "cs"
	Cd         Op = "cd"
	Ov         Op = "ov"
	Fts        Op = "fts"
	Plfts      Op = "plfts"
	Phfts      Op = "phfts"
	Wfts       Op = "wfts"
	// Range operators (postgrest-js rangeLt, rangeGt, rangeLte, rangeGte,
	// rangeAdjacent).
	Sl  Op = "sl"
	Sr  Op = "sr"
	Nxr Op = "nxr"
	Nxl Op = "nxl"
	Adj Op = "adj"
)

var ops = map[string]Op{
	"eq": Eq, "neq": Neq, "gt": Gt, "gte": Gte, "lt": Lt, "lte": Lte, "like": Like, "ilike": Ilike,
	"match": Match, "imatch": Imatch, "is": Is, "isdistinct": IsDistinct, "in": In, "cs": Cs, "cd": Cd,
	"ov": Ov, "fts": Fts, "plfts": Plfts, "phfts": Phfts, "wfts": Wfts,
	"sl": Sl, "sr": Sr, "nxr": Nxr, "nxl": Nxl, "adj": Adj,
}

// quantifiable operators accept (any) / (all) and a {list}.
var quantifiable = map[Op]bool{Eq: true, Neq: true, Gt: true, Gte: true, Lt: true, Lte: true,
	Like: true, Ilike: true, Match: true, Imatch: true}

// IsFTS reports the full-text search operators.
func (o Op) IsFTS() bool { return o == Fts || o == Plfts || o == Phfts || o == Wfts }

// IsValues of the is operator.
var isValues = map[string]string{"null": "null", "not_null": "not_null", "true": "true", "false": "false", "unknown": "unknown"}

// Filter is one condition on one column.
type Filter struct {
	// Embed is the path of embedded relations the filter applies to
	// (author.name=eq.x has Embed [author]); empty for the table itself.
	Embed     []string
	Column    string
	JSONPath  []JSONStep // data->>key=eq.x
	Negate    bool
	Op        Op
	Quant     string   // "any" or "all" for a quantified operator, else ""
	FTSConfig string   // text search configuration of fts(english)
	Value     string   // scalar value (for is: null, not_null, true, false, unknown)
	List      []string // values of in.(...) and of quantified operators {...}
}

// Condition is a Filter or a Logic tree.
type Condition struct {
	Filter *Filter
	Logic  *Logic
}

// Logic is and(...) / or(...), possibly negated.
type Logic struct {
	Embed    []string // author.or=(...) applies to the embedded relation author
	Or       bool
	Negate   bool
	Children []Condition
}

// ParseFilter parses a horizontal filter, the query parameter column=value
// such as age=gte.18, name=not.ilike.*smith* or id=in.(1,2,3).
func ParseFilter(column, value string) (Filter, error) {
	cp := &scanner{param: column, s: column}
	col, err := cp.name("column name")
	var embed []string
	for err == nil && cp.accept('.') {
		if len(embed) == maxDepth {
			return Filter{}, cp.errf(cp.i, "embedded relations nest too deeply")
		}
		embed = append(embed, col)
		col, err = cp.name("column name after the embedded relation " + quoteWord(col))
	}
	var path []JSONStep
	if err == nil {
		path, err = cp.jsonPath()
	}
	if err == nil && !cp.eof() {
		err = cp.errf(cp.i, "unexpected character in a column name")
	}
	if err != nil {
		return Filter{}, err
	}
	p := &scanner{param: column, s: value}
	f, err := p.opValue(false)
	if err != nil {
		return Filter{}, err
	}
	f.Column, f.Embed, f.JSONPath = col, embed, path
	return f, nil
}

// opValue reads [not.]op[(arg)].value. In a logic tree a scalar value ends
// at , or ) and may be "quoted"; at the top level it is the rest of the input.
func (p *scanner) opValue(inTree bool) (Filter, error) {
	var f Filter
	start := p.i
	w := p.word()
	if w == "not" && p.peek() == '.' {
		f.Negate = true
		p.i++
		start = p.i
		w = p.word()
	}
	op, ok := ops[w]
	if !ok {
		if w == "" {
			return f, p.errf(start, "expected an operator such as eq, gt, like, in, is")
		}
		return f, p.errf(start, "unknown operator "+quoteWord(w)+" (expected one of eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, is, isdistinct, in, cs, cd, ov, sl, sr, nxr, nxl, adj, fts, plfts, phfts, wfts)")
	}
	f.Op = op
	if p.accept('(') {
		argStart := p.i
		arg := p.word()
		if err := p.expect(')', "a closing )"); err != nil {
			return f, err
		}
		switch {
		case op.IsFTS() && arg != "":
			f.FTSConfig = arg
		case quantifiable[op] && (arg == "any" || arg == "all"):
			f.Quant = arg
		default:
			return f, p.errf(argStart, "invalid modifier "+quoteWord(arg)+" for "+w)
		}
	}
	if err := p.expect('.', "a . after the operator "+w); err != nil {
		return f, err
	}
	switch {
	case op == In:
		if err := p.expect('(', "( after in. — write in.(1,2,3)"); err != nil {
			return f, err
		}
		l, err := p.list(')')
		if err != nil {
			return f, err
		}
		f.List = l
		return f, nil
	case f.Quant != "":
		if err := p.expect('{', "{ after a quantified operator — write eq(any).{1,2}"); err != nil {
			return f, err
		}
		l, err := p.list('}')
		if err != nil {
			return f, err
		}
		f.List = l
		return f, nil
	}
	valStart := p.i
	var v string
	if !inTree {
		v = p.s[p.i:]
		p.i = len(p.s)
	} else if p.peek() == '"' {
		q, err := p.quoted()
		if err != nil {
			return f, err
		}
		v = q
	} else {
		for !p.eof() && p.s[p.i] != ',' && p.s[p.i] != ')' {
			if p.s[p.i] == '(' {
				return f, p.errf(p.i, "unexpected ( in a value (quote the value with \"...\")")
			}
			p.i++
		}
		v = p.s[valStart:p.i]
	}
	if op == Is {
		canon, ok := isValues[strings.ToLower(v)]
		if !ok {
			return f, p.errf(valStart, "is. takes null, not_null, true, false or unknown")
		}
		v = canon
	}
	f.Value = v
	return f, nil
}

// ParseLogic parses a logic tree parameter: key is or, and, not.or or not.and
// and value is "(cond,cond,...)" where a cond is col.op.value or a nested
// and(...)/or(...)/not.and(...)/not.or(...).
func ParseLogic(key, value string) (Logic, error) {
	var l Logic
	embed, op, ok := splitLogicKey(key)
	if !ok {
		return l, &Error{Param: key, Input: key, Msg: "not a logic operator (or, and, not.or, not.and)"}
	}
	l.Embed = embed
	l.Or = op == "or" || op == "not.or"
	l.Negate = strings.HasPrefix(op, "not.")
	p := &scanner{param: key, s: value}
	if err := p.expect('(', "( — write "+op+"=(a.eq.1,b.gt.2)"); err != nil {
		return l, err
	}
	children, err := p.conditions()
	if err != nil {
		return l, err
	}
	if !p.eof() {
		return l, p.errf(p.i, "unexpected text after the closing )")
	}
	l.Children = children
	return l, nil
}

// IsLogicKey reports whether a query parameter is a logic tree: or, and,
// not.or, not.and, optionally after embedded relations (author.or).
func IsLogicKey(key string) bool {
	_, _, ok := splitLogicKey(key)
	return ok
}

// splitLogicKey splits author.books.not.or into [author books] and not.or.
func splitLogicKey(key string) (embed []string, op string, ok bool) {
	for _, op := range []string{"not.or", "not.and", "or", "and"} {
		if key == op {
			return nil, op, true
		}
		if prefix, found := strings.CutSuffix(key, "."+op); found {
			if op == "or" || op == "and" {
				if strings.HasSuffix(prefix, ".not") || prefix == "not" {
					continue // not.or is matched above
				}
			}
			parts := strings.Split(prefix, ".")
			if len(parts) > maxDepth {
				return nil, "", false
			}
			for _, part := range parts {
				if part == "" {
					return nil, "", false
				}
				for i := 0; i < len(part); i++ {
					if !isNameByte(part[i]) {
						return nil, "", false
					}
				}
			}
			return parts, op, true
		}
	}
	return nil, "", false
}

// maxDepth bounds nesting of logic trees (and the recursion of the parser).
const maxDepth = 16

// conditions reads cond (',' cond)* ')' after an opening parenthesis.
func (p *scanner) conditions() ([]Condition, error) {
	return p.conditionsDepth(1)
}

func (p *scanner) conditionsDepth(depth int) ([]Condition, error) {
	if depth > maxDepth {
		return nil, p.errf(p.i, "logic trees nest too deeply")
	}
	var out []Condition
	for {
		p.skipSpaces()
		start := p.i
		negate := false
		if strings.HasPrefix(p.s[p.i:], "not.") && (strings.HasPrefix(p.s[p.i+4:], "and(") || strings.HasPrefix(p.s[p.i+4:], "or(")) {
			negate = true
			p.i += 4
		}
		if rest := p.s[p.i:]; strings.HasPrefix(rest, "and(") || strings.HasPrefix(rest, "or(") {
			or := rest[0] == 'o'
			if or {
				p.i += 3
			} else {
				p.i += 4
			}
			children, err := p.conditionsDepth(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Logic: &Logic{Or: or, Negate: negate, Children: children}})
		} else {
			p.i = start
			col, err := p.name("column name")
			if err != nil {
				return nil, err
			}
			path, err := p.jsonPath()
			if err != nil {
				return nil, err
			}
			if err := p.expect('.', "a . after the column name "+col); err != nil {
				return nil, err
			}
			f, err := p.opValue(true)
			if err != nil {
				return nil, err
			}
			f.Column, f.JSONPath = col, path
			out = append(out, Condition{Filter: &f})
		}
		p.skipSpaces()
		if p.accept(',') {
			continue
		}
		if p.accept(')') {
			return out, nil
		}
		return nil, p.errf(p.i, "expected , or )")
	}
}

func quoteWord(w string) string { return "\"" + w + "\"" }
