package opl

import (
	"regexp"
	"strings"
)

// Limits of a tenant's model, beyond what Keto checks.
const (
	MaxClasses    = 50
	MaxSourceSize = 64 << 10
)

var (
	classNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	// RelationPattern is what relation and permission names may look like;
	// it excludes Keto's tuple-syntax characters (: # @) and whitespace.
	RelationPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$`)
	reservedClasses = []string{"Array", "SubjectSet", "Namespace", "Context"}
)

// ReservedPrefix starts the names Truss keeps for itself in Keto (its own
// namespaces, the revision marker, shadowed defaults while validating).
const ReservedPrefix = "Truss"

// CheckTenantRules applies Truss's rules for a tenant's model to a parsed
// document: names Truss can map safely, no reserved or duplicate names, no
// string that could break the composed file.
func CheckTenantRules(d *Doc) []Error {
	var errs []Error
	add := func(t token, format string, args ...any) {
		errs = append(errs, (&parser{src: d.Src}).errAt(t, format, args...))
	}
	if len(d.Classes) > MaxClasses {
		add(d.Classes[MaxClasses].name, "a model may declare at most %d namespaces", MaxClasses)
	}
	seen := map[string]bool{}
	for _, c := range d.Classes {
		switch {
		case c.name.Kind != tokIdent || !classNamePattern.MatchString(c.Name):
			add(c.name, "namespace names must be identifiers of at most 64 letters, digits and _, starting with a letter")
		case isReserved(c.Name):
			add(c.name, "namespace name %q is reserved", c.Name)
		case seen[c.Name]:
			add(c.name, "namespace %q is declared twice", c.Name)
		}
		seen[c.Name] = true
		for _, r := range c.Relations {
			if !RelationPattern.MatchString(r.Name) {
				add(c.name, "relation name %q in %s: use at most 64 letters, digits, _, . and -", r.Name, c.Name)
			}
			for _, t := range r.Types {
				if strings.HasPrefix(t.Namespace, ReservedPrefix) {
					add(t.tok, "namespace %q is reserved", t.Namespace)
				}
				if t.Relation != "" && !RelationPattern.MatchString(t.Relation) {
					add(t.tok, "relation name %q: use at most 64 letters, digits, _, . and -", t.Relation)
				}
			}
		}
		for _, perm := range c.Permissions {
			if !RelationPattern.MatchString(perm) {
				add(c.name, "permission name %q in %s: use at most 64 letters, digits, _, . and -", perm, c.Name)
			}
		}
	}
	// Strings elsewhere (the import line) must still be single-line: the
	// composed file is split into sections by lines.
	for _, t := range lex(d.Src) {
		if t.Kind == tokString && strings.ContainsAny(t.Val, "\n\r") {
			add(t, "string literals must not span lines")
		}
	}
	return errs
}

func isReserved(name string) bool {
	for _, r := range reservedClasses {
		if name == r {
			return true
		}
	}
	return strings.HasPrefix(name, ReservedPrefix)
}
