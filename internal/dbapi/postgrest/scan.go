package postgrest

import "strings"

// scanner walks one parameter value; every error it makes points into it.
type scanner struct {
	param string
	s     string
	i     int
}

func (p *scanner) errf(pos int, msg string) *Error {
	return &Error{Param: p.param, Input: p.s, Pos: pos, Msg: msg}
}

func (p *scanner) eof() bool { return p.i >= len(p.s) }

func (p *scanner) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *scanner) accept(c byte) bool {
	if p.peek() == c && !p.eof() {
		p.i++
		return true
	}
	return false
}

func (p *scanner) expect(c byte, what string) error {
	if !p.accept(c) {
		return p.errf(p.i, "expected "+what)
	}
	return nil
}

func (p *scanner) skipSpaces() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// isNameByte reports the bytes of an unquoted name: letters, digits, _ and $
// (and any byte of a multi-byte UTF-8 letter). Names are checked against the
// schema cache afterwards, so this only has to keep the grammar unambiguous.
func isNameByte(c byte) bool {
	return c >= 0x80 || c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// name reads an unquoted name or a "quoted" one ("" escapes a quote inside).
func (p *scanner) name(what string) (string, error) {
	start := p.i
	if p.accept('"') {
		var b strings.Builder
		for {
			if p.eof() {
				return "", p.errf(start, "unterminated quoted "+what)
			}
			c := p.s[p.i]
			p.i++
			if c == '"' {
				if p.accept('"') {
					b.WriteByte('"')
					continue
				}
				break
			}
			b.WriteByte(c)
		}
		if b.Len() == 0 {
			return "", p.errf(start, "empty "+what)
		}
		return b.String(), nil
	}
	for !p.eof() && isNameByte(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", p.errf(start, "expected a "+what)
	}
	return p.s[start:p.i], nil
}

// word reads lower-case letters and underscores (operators, keywords).
func (p *scanner) word() string {
	start := p.i
	for !p.eof() {
		c := p.s[p.i]
		if c >= 'a' && c <= 'z' || c == '_' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

// quoted reads a "double-quoted" value; backslash escapes the next byte.
func (p *scanner) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errf(start, "unterminated quoted value")
		}
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			if p.eof() {
				return "", p.errf(p.i-1, "dangling backslash")
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case '"':
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
}

// list reads the items of "(a,b,"c,d")" or "{a,b}" after the opening byte
// up to and including close. An empty list is valid.
func (p *scanner) list(close byte) ([]string, error) {
	items := []string{}
	if p.accept(close) {
		return items, nil
	}
	for {
		p.skipSpaces()
		var item string
		if p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			item = v
		} else {
			start := p.i
			for !p.eof() && p.s[p.i] != ',' && p.s[p.i] != close {
				if p.s[p.i] == '(' || p.s[p.i] == ')' && close != ')' {
					return nil, p.errf(p.i, "unexpected parenthesis in a list (quote the value)")
				}
				p.i++
			}
			item = p.s[start:p.i]
		}
		items = append(items, item)
		if p.accept(',') {
			continue
		}
		if p.accept(close) {
			return items, nil
		}
		return nil, p.errf(p.i, "expected , or "+string(close)+" in a list")
	}
}

// JSONStep is one step of a JSON path: col->key, col->>key, col->0.
type JSONStep struct {
	Key   string // an object key, or the decimal array index when Index
	Index bool   // an array index (an optionally negative integer)
	Text  bool   // ->> (the value as text) rather than -> (as JSON)
}

// maxJSONSteps bounds a JSON path.
const maxJSONSteps = 16

// jsonPath reads (-> | ->>)(key | index) steps after a column name. Keys are
// unquoted names or "quoted"; they reach SQL only as parameters.
func (p *scanner) jsonPath() ([]JSONStep, error) {
	var out []JSONStep
	for strings.HasPrefix(p.s[p.i:], "->") {
		if len(out) == maxJSONSteps {
			return nil, p.errf(p.i, "JSON path too long")
		}
		var st JSONStep
		p.i += 2
		if p.accept('>') {
			st.Text = true
		}
		start := p.i
		if c := p.peek(); c == '-' || c >= '0' && c <= '9' {
			p.accept('-')
			digits := p.i
			for !p.eof() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
			if p.i == digits || p.i-digits > 9 {
				return nil, p.errf(start, "expected a JSON key or an array index of at most 9 digits")
			}
			st.Key, st.Index = p.s[start:p.i], true
		} else {
			k, err := p.name("JSON key")
			if err != nil {
				return nil, err
			}
			st.Key = k
		}
		out = append(out, st)
	}
	return out, nil
}

// LastKey is the output name PostgREST gives a JSON path: its last key.
func LastKey(path []JSONStep) string {
	if len(path) == 0 {
		return ""
	}
	return path[len(path)-1].Key
}
