package postgrest

import "strings"

// SelectItem is one entry of select=: a column (or *), or an embedded relation.
type SelectItem struct {
	Alias  string // output name ("" = the column's or relation's name)
	Column string // column name, or "*" for all columns
	Cast   string // ::type, checked against a list of types by the caller
	// JSONPath of data->>key (output name: the last key unless aliased)
	JSONPath []JSONStep
	Embed    *Embed
	// Aggregate is count, sum, avg, max or min: amount.sum(), or count()
	// alone (Column ""), which counts rows. Its output is named after the
	// function unless aliased; the other columns of the same select group
	// the rows. InputCast is a cast before aggregating (amount::int.sum());
	// Cast is then the cast of the result (amount.sum()::text).
	Aggregate string
	InputCast string
}

// Aggregates are the functions select= may apply to a column.
var Aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "max": true, "min": true}

// Embed is an embedded relation: rel(cols), alias:rel!hint(cols), rel!inner(cols).
type Embed struct {
	Relation string
	Hint     string // a foreign key constraint name or column picking among several relations
	Inner    bool   // !inner: drop parent rows without a match
	// Spread (...rel(cols)) puts the relation's columns into the parent
	// row instead of nesting them under the relation's name.
	Spread bool
	Items  []SelectItem
}

// ParseSelect parses select=, e.g. id,name,author:authors!inner(id,name),total::text.
// An empty value means *.
func ParseSelect(value string) ([]SelectItem, error) {
	p := &scanner{param: "select", s: value}
	if strings.TrimSpace(value) == "" {
		return []SelectItem{{Column: "*"}}, nil
	}
	items, err := p.selectItems(1, false)
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.errf(p.i, "unexpected character in select")
	}
	return items, nil
}

func (p *scanner) selectItems(depth int, nested bool) ([]SelectItem, error) {
	if depth > maxDepth {
		return nil, p.errf(p.i, "embedded relations nest too deeply")
	}
	var items []SelectItem
	if nested {
		p.skipSpaces()
		if p.accept(')') { // rel() embeds nothing but still filters with !inner
			return items, nil
		}
	}
	for {
		p.skipSpaces()
		it, err := p.selectItem(depth)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
		p.skipSpaces()
		if p.accept(',') {
			continue
		}
		if nested {
			if err := p.expect(')', ", or ) in an embedded select"); err != nil {
				return nil, err
			}
		}
		return items, nil
	}
}

func (p *scanner) selectItem(depth int) (SelectItem, error) {
	var it SelectItem
	if p.accept('*') {
		it.Column = "*"
		return it, nil
	}
	if strings.HasPrefix(p.s[p.i:], "...") {
		return p.spreadItem(depth)
	}
	first, err := p.name("column or relation name")
	if err != nil {
		return it, err
	}
	name := first
	if p.peek() == ':' && !strings.HasPrefix(p.s[p.i:], "::") {
		p.i++
		it.Alias = first
		if p.accept('*') {
			return it, p.errf(p.i-1, "* cannot have an alias")
		}
		if name, err = p.name("column or relation name after the alias"); err != nil {
			return it, err
		}
	}
	if name == "count" && strings.HasPrefix(p.s[p.i:], "()") {
		// count() counts rows (PostgREST's rule: never an embedding of a
		// relation named count).
		p.i += 2
		it.Aggregate = "count"
		return p.cast(it)
	}
	if strings.HasPrefix(p.s[p.i:], "->") {
		if it.JSONPath, err = p.jsonPath(); err != nil {
			return it, err
		}
	}
	if len(it.JSONPath) == 0 && (p.peek() == '!' || p.peek() == '(') {
		e := &Embed{Relation: name}
		for p.accept('!') {
			hintStart := p.i
			h, err := p.name("hint after !")
			if err != nil {
				return it, err
			}
			switch h {
			case "inner":
				e.Inner = true
			case "left":
			default:
				if e.Hint != "" {
					return it, p.errf(hintStart, "only one relation hint is allowed")
				}
				e.Hint = h
			}
		}
		if err := p.expect('(', "( after the embedded relation "+name); err != nil {
			return it, err
		}
		items, err := p.selectItems(depth+1, true)
		if err != nil {
			return it, err
		}
		e.Items = items
		it.Embed = e
		return it, nil
	}
	it.Column = name
	if it, err = p.cast(it); err != nil {
		return it, err
	}
	return p.aggregate(it)
}

// aggregate parses .fn() after a column (and its cast, which then casts
// the input), and the cast of the result after it.
func (p *scanner) aggregate(it SelectItem) (SelectItem, error) {
	if p.peek() != '.' {
		return it, nil
	}
	start := p.i
	p.i++
	fn := p.word()
	if !Aggregates[fn] || !strings.HasPrefix(p.s[p.i:], "()") {
		return it, p.errf(start, "expected an aggregate after . (count(), sum(), avg(), max() or min())")
	}
	p.i += 2
	it.Aggregate, it.InputCast, it.Cast = fn, it.Cast, ""
	return p.cast(it)
}

// spreadItem parses ...rel(cols) (hints and !inner allowed, an alias not:
// the columns are the parent's).
func (p *scanner) spreadItem(depth int) (SelectItem, error) {
	start := p.i
	p.i += 3
	if p.peek() == '.' {
		return SelectItem{}, p.errf(start, "... spreads an embedded relation, e.g. ...authors(name)")
	}
	it, err := p.selectItem(depth)
	if err != nil {
		return it, err
	}
	if it.Embed == nil {
		return it, p.errf(start, "... spreads an embedded relation, e.g. ...authors(name)")
	}
	if it.Alias != "" {
		return it, p.errf(start, "a spread relation cannot have an alias (alias its columns instead)")
	}
	it.Embed.Spread = true
	return it, nil
}

func (p *scanner) cast(it SelectItem) (SelectItem, error) {
	if strings.HasPrefix(p.s[p.i:], "::") {
		p.i += 2
		castStart := p.i
		c := p.word()
		if c == "" {
			return it, p.errf(castStart, "expected a type after ::")
		}
		it.Cast = strings.ToLower(c)
	}
	return it, nil
}
