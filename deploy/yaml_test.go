package deploy_test

// YAML reading (gopkg.in/yaml.v3) and docker compose's ${VAR} interpolation
// for the checks in deploy_test.go.

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
	"strings"
	"testing"
)

// parseYAML reads one YAML document with gopkg.in/yaml.v3 and returns it
// as plain values: mappings as map[string]any, sequences as []any, every
// scalar as its string (nil for null). Compose and Ory read ports and
// booleans from strings too, and the checks compare text.
func parseYAML(src []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return plainValue(doc.Content[0])
}

func plainValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := plainValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := plainValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.AliasNode:
		return plainValue(n.Alias)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// varRef is one ${NAME<op><arg>} (or $NAME) in a compose value.
type varRef struct {
	Name string
	Op   string // "", ":-", "-", ":?", "?", ":+" or "+"
	Arg  string // default, error message or replacement (may itself hold ${...})
}

// expand replaces every variable reference in s with resolve's answer, the
// way docker compose does: $$ is a literal $, $NAME and ${NAME...} are
// references, and any other $ is an error.
func expand(s string, resolve func(varRef) (string, error)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q: lone $ at the end (write $$ for a literal $)", s)
		}
		var ref varRef
		switch c := s[i+1]; {
		case c == '$':
			b.WriteByte('$')
			i++
			continue
		case c == '{':
			end, depth := -1, 0
			for j := i + 2; j < len(s) && end < 0; j++ {
				switch {
				case s[j] == '$' && j+1 < len(s) && s[j+1] == '{':
					depth++
					j++
				case s[j] == '}' && depth == 0:
					end = j
				case s[j] == '}':
					depth--
				}
			}
			if end < 0 {
				return "", fmt.Errorf("%q: unterminated ${", s)
			}
			inner := s[i+2 : end]
			n := nameLen(inner)
			if n == 0 {
				return "", fmt.Errorf("%q: invalid interpolation ${%s}", s, inner)
			}
			ref.Name = inner[:n]
			if rest := inner[n:]; rest != "" {
				for _, op := range []string{":-", ":?", ":+", "-", "?", "+"} {
					if strings.HasPrefix(rest, op) {
						ref.Op, ref.Arg = op, rest[len(op):]
						break
					}
				}
				if ref.Op == "" {
					return "", fmt.Errorf("%q: invalid interpolation ${%s}", s, inner)
				}
			}
			i = end
		default:
			n := nameLen(s[i+1:])
			if n == 0 {
				return "", fmt.Errorf("%q: invalid interpolation at %q (write $$ for a literal $)", s, s[i:])
			}
			ref.Name = s[i+1 : i+1+n]
			i += n
		}
		v, err := resolve(ref)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func nameLen(s string) int {
	n := 0
	for n < len(s) && (s[n] == '_' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z' || n > 0 && s[n] >= '0' && s[n] <= '9') {
		n++
	}
	return n
}

// composeResolver resolves references against env like docker compose. With
// placeholder set, a required variable that is unset or empty becomes
// placeholder instead of an error.
func composeResolver(env map[string]string, placeholder string) func(varRef) (string, error) {
	var resolve func(varRef) (string, error)
	resolve = func(r varRef) (string, error) {
		v, set := env[r.Name]
		arg := func() (string, error) { return expand(r.Arg, resolve) }
		switch r.Op {
		case ":-":
			if v == "" {
				return arg()
			}
		case "-":
			if !set {
				return arg()
			}
		case ":?", "?":
			if (r.Op == ":?" && v == "") || !set {
				if placeholder != "" {
					return placeholder, nil
				}
				return "", fmt.Errorf("required variable %s is missing a value: %s", r.Name, r.Arg)
			}
		case ":+":
			if v == "" {
				return "", nil
			}
			return arg()
		case "+":
			if !set {
				return "", nil
			}
			return arg()
		}
		return v, nil
	}
	return resolve
}

// referencedVars lists every variable s refers to, including those in
// defaults and messages.
func referencedVars(s string) ([]string, error) {
	var names []string
	var collect func(varRef) (string, error)
	collect = func(r varRef) (string, error) {
		names = append(names, r.Name)
		if r.Op == ":?" || r.Op == "?" {
			return "", nil // the argument is an error message
		}
		_, err := expand(r.Arg, collect)
		return "", err
	}
	_, err := expand(s, collect)
	return names, err
}

// ---- tests of the reader itself -------------------------------------------------

func TestExpand(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": ""}
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"$$SET and $${SET}", "$SET and ${SET}"},
		{"$SET/${SET}", "v/v"},
		{"${UNSET}", ""},
		{"${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${SET:-d}", "d d  v"},
		{"${UNSET:-${SET}x}", "vx"},
		{"${SET:+r} ${EMPTY:+r} ${EMPTY+r} ${UNSET+r}", "r  r "},
		{"${SET:?m}", "v"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, composeResolver(env, ""))
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"${EMPTY:?m}", "${UNSET?m}", "${", "${1X}", "$ x", "x$", "${SET!}"} {
		if got, err := expand(in, composeResolver(env, "")); err == nil {
			t.Errorf("expand(%q) = %q, want an error", in, got)
		}
	}
	names, err := referencedVars("a ${A:-${B}} $C $$D ${E:?${F}}")
	if want := []string{"A", "B", "C", "E"}; err != nil || !reflect.DeepEqual(names, want) {
		t.Errorf("referencedVars = %q, %v; want %q", names, err, want)
	}
}
