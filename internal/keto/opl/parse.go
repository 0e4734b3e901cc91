package opl

import (
	"fmt"
	"slices"
)

// Doc is a parsed OPL document.
type Doc struct {
	Src     string
	Classes []Class
	// comments are the comment tokens inside classes (dropped on rewrite).
	comments []token
}

// Class is one `class X implements Namespace { ... }`: a Keto namespace.
type Class struct {
	Name string `json:"name"`
	// Relations are the `related` entries: what tuples may be written with.
	Relations []Relation `json:"relations"`
	// Permissions are the `permits` entries: computed, check-only.
	Permissions []string `json:"permissions"`
	name        token
	start, end  int
}

// Relation is one entry of `related`, with the subject types it allows.
type Relation struct {
	Name  string    `json:"name"`
	Types []TypeRef `json:"types"`
}

// TypeRef is a subject type: a namespace, or a subject set of one
// (SubjectSet<Namespace, "relation">).
type TypeRef struct {
	Namespace string `json:"namespace"`
	Relation  string `json:"relation,omitempty"`
	tok       token
}

// Error is a problem at a place in a document.
type Error struct {
	Message string   `json:"message"`
	Start   Position `json:"start"`
	End     Position `json:"end"`
}

func (e Error) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Start.Line, e.Start.Column, e.Message)
}

// Class returns the class called name.
func (d *Doc) Class(name string) (*Class, bool) {
	for i := range d.Classes {
		if d.Classes[i].Name == name {
			return &d.Classes[i], true
		}
	}
	return nil, false
}

// HasRelation reports whether name is a relation of c.
func (c *Class) HasRelation(name string) bool {
	return slices.ContainsFunc(c.Relations, func(r Relation) bool { return r.Name == name })
}

// HasPermission reports whether name is a permission of c.
func (c *Class) HasPermission(name string) bool { return slices.Contains(c.Permissions, name) }

// RelationNames lists the relations of c.
func (c *Class) RelationNames() []string {
	out := make([]string, len(c.Relations))
	for i, r := range c.Relations {
		out[i] = r.Name
	}
	return out
}

// Parse reads the classes of src. It follows Keto's grammar but is meant
// for documents Keto has accepted: it reports the first structure it does not
// understand and stops.
func Parse(src string) (*Doc, []Error) {
	p := &parser{src: src, doc: &Doc{Src: src}}
	for _, t := range lex(src) {
		switch t.Kind {
		case tokComment:
			p.doc.comments = append(p.doc.comments, t)
		case tokError:
			return p.doc, []Error{p.errAt(t, "%s", t.Val)}
		default:
			p.toks = append(p.toks, t)
		}
	}
	for p.err == nil {
		t := p.next()
		if t.Kind == tokEOF {
			break
		}
		if t.Kind == tokIdent && t.Val == "class" {
			p.class(t)
		}
	}
	if p.err != nil {
		return p.doc, []Error{*p.err}
	}
	// Keep only comments inside classes.
	p.doc.comments = slices.DeleteFunc(p.doc.comments, func(c token) bool {
		return !slices.ContainsFunc(p.doc.Classes, func(cl Class) bool { return c.Start > cl.start && c.End < cl.end })
	})
	return p.doc, nil
}

type parser struct {
	src  string
	toks []token
	pos  int
	doc  *Doc
	err  *Error
}

func (p *parser) next() token {
	if p.pos >= len(p.toks) {
		return token{Kind: tokEOF, Start: len(p.src), End: len(p.src)}
	}
	t := p.toks[p.pos]
	p.pos++
	return t
}

func (p *parser) peek() token {
	t := p.next()
	p.pos--
	return t
}

func (p *parser) errAt(t token, format string, args ...any) Error {
	return Error{Message: fmt.Sprintf(format, args...), Start: positionOf(p.src, t.Start), End: positionOf(p.src, t.End)}
}

func (p *parser) fail(t token, format string, args ...any) {
	if p.err == nil {
		e := p.errAt(t, format, args...)
		p.err = &e
	}
}

// expect consumes the next token and fails unless it is one of vals (or,
// with no vals, an identifier or string).
func (p *parser) expect(vals ...string) token {
	t := p.next()
	if len(vals) == 0 {
		if t.Kind != tokIdent && t.Kind != tokString {
			p.fail(t, "expected an identifier, got %q", t.Val)
		}
		return t
	}
	if !slices.Contains(vals, t.Val) || t.Kind == tokString {
		p.fail(t, "expected %q, got %q", vals[0], t.Val)
	}
	return t
}

func (p *parser) class(kw token) {
	name := p.expect()
	p.expect("implements")
	p.expect("Namespace")
	p.expect("{")
	c := Class{Name: name.Val, name: name, start: kw.Start, Relations: []Relation{}, Permissions: []string{}}
	for p.err == nil {
		t := p.next()
		switch {
		case t.Val == "}" && t.Kind == tokPunct:
			c.end = t.End
			p.doc.Classes = append(p.doc.Classes, c)
			return
		case t.Val == ";" && t.Kind == tokPunct:
		case t.Val == "related" && t.Kind == tokIdent:
			c.Relations = append(c.Relations, p.related()...)
		case t.Val == "permits" && t.Kind == tokIdent:
			c.Permissions = append(c.Permissions, p.permits()...)
		default:
			p.fail(t, "expected 'permits' or 'related', got %q", t.Val)
		}
	}
}

func (p *parser) related() []Relation {
	p.expect(":")
	p.expect("{")
	var out []Relation
	for p.err == nil {
		t := p.next()
		switch {
		case t.Kind == tokPunct && t.Val == ";":
		case t.Kind == tokPunct && t.Val == "}":
			return out
		case t.Kind == tokIdent || t.Kind == tokString:
			p.expect(":")
			out = append(out, Relation{Name: t.Val, Types: p.relationType()})
		default:
			p.fail(t, "expected a relation name or '}', got %q", t.Val)
		}
	}
	return out
}

// relationType reads what follows "name:" in `related`, as Keto does.
func (p *parser) relationType() []TypeRef {
	t := p.next()
	var types []TypeRef
	switch {
	case t.Kind == tokIdent && t.Val == "Array":
		p.expect("<")
		return p.typeUnion(">")
	case t.Kind == tokIdent && t.Val == "SubjectSet":
		types = []TypeRef{p.subjectSet()}
	case t.Kind == tokPunct && t.Val == "(":
		types = p.typeUnion(")")
	case t.Kind == tokIdent || t.Kind == tokString:
		types = []TypeRef{{Namespace: t.Val, tok: t}}
	default:
		p.fail(t, "expected a type, got %q", t.Val)
	}
	p.expect("[")
	p.expect("]")
	if n := p.peek(); n.Kind == tokPunct && n.Val == "," {
		p.next()
	}
	return types
}

func (p *parser) typeUnion(end string) []TypeRef {
	var out []TypeRef
	for p.err == nil {
		id := p.expect()
		if id.Val == "SubjectSet" && id.Kind == tokIdent {
			out = append(out, p.subjectSet())
		} else {
			out = append(out, TypeRef{Namespace: id.Val, tok: id})
		}
		switch t := p.next(); {
		case t.Kind == tokPunct && t.Val == end:
			return out
		case t.Kind == tokPunct && t.Val == "|":
		default:
			p.fail(t, "expected '|' or %q, got %q", end, t.Val)
		}
	}
	return out
}

func (p *parser) subjectSet() TypeRef {
	p.expect("<")
	ns := p.expect()
	p.expect(",")
	rel := p.expect()
	p.expect(">")
	return TypeRef{Namespace: ns.Val, Relation: rel.Val, tok: ns}
}

// permits reads `permits = { name: (ctx) => expression, ... }` and returns
// the names; expressions are Keto's business.
func (p *parser) permits() []string {
	p.expect("=")
	p.expect("{")
	var out []string
	for p.err == nil {
		t := p.next()
		switch {
		case t.Kind == tokPunct && t.Val == "}":
			return out
		case t.Kind == tokIdent || t.Kind == tokString:
			p.expect(":")
			out = append(out, t.Val)
			p.skipExpression()
		default:
			p.fail(t, "expected a permission name or '}', got %q", t.Val)
		}
	}
	return out
}

// skipExpression consumes a permission's function up to the ',' that ends
// it (consumed) or the '}' that closes permits (left for the caller).
func (p *parser) skipExpression() {
	depth := 0
	for p.err == nil {
		t := p.peek()
		switch {
		case t.Kind == tokEOF:
			p.fail(t, "unexpected end of input in a permission")
			return
		case t.Kind != tokPunct:
		case t.Val == "(" || t.Val == "[":
			depth++
		case t.Val == ")" || t.Val == "]":
			depth--
		case depth == 0 && t.Val == ",":
			p.next()
			return
		case depth == 0 && t.Val == "}":
			return
		}
		p.next()
	}
}
