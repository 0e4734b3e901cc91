package postgrest

// OrderTerm is one term of order=: col.desc.nullslast.
type OrderTerm struct {
	Column   string
	JSONPath []JSONStep // data->>key.desc
	Desc     bool
	Nulls    string // "", "first" or "last"
}

// ParseOrder parses order=, e.g. created_at.desc.nullslast,id.
func ParseOrder(value string) ([]OrderTerm, error) {
	p := &scanner{param: "order", s: value}
	var out []OrderTerm
	for {
		p.skipSpaces()
		col, err := p.name("column name")
		if err != nil {
			return nil, err
		}
		if p.peek() == '(' {
			return nil, p.errf(p.i, "ordering embedded relations is not supported")
		}
		path, err := p.jsonPath()
		if err != nil {
			return nil, err
		}
		t := OrderTerm{Column: col, JSONPath: path}
		seenDir, seenNulls := false, false
		for p.accept('.') {
			start := p.i
			switch w := p.word(); {
			case (w == "asc" || w == "desc") && !seenDir:
				t.Desc, seenDir = w == "desc", true
			case (w == "nullsfirst" || w == "nullslast") && !seenNulls:
				t.Nulls, seenNulls = w[5:], true
			default:
				return nil, p.errf(start, "expected asc, desc, nullsfirst or nullslast (each at most once)")
			}
		}
		out = append(out, t)
		p.skipSpaces()
		if p.accept(',') {
			continue
		}
		if !p.eof() {
			return nil, p.errf(p.i, "expected , or . in order")
		}
		return out, nil
	}
}
