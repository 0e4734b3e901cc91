package opl

import (
	"slices"
	"strings"
)

type edit struct {
	start, end int
	with       string
}

// Rewrite returns the classes of d for which keep is true (all when keep is
// nil), alone (no imports or other top-level text), without comments, with
// every class name and namespace reference passed through rename. Comments
// are dropped so that nothing a tenant writes can look like one of the
// composed file's section markers.
func (d *Doc) Rewrite(keep func(name string) bool, rename func(string) string) string {
	classes := slices.DeleteFunc(slices.Clone(d.Classes), func(c Class) bool { return keep != nil && !keep(c.Name) })
	var edits []edit
	for _, c := range classes {
		edits = append(edits, edit{c.name.Start, c.name.End, rename(c.Name)})
		for _, r := range c.Relations {
			for _, t := range r.Types {
				edits = append(edits, edit{t.tok.Start, t.tok.End, rename(t.Namespace)})
			}
		}
	}
	for _, cm := range d.comments {
		edits = append(edits, edit{cm.Start, cm.End, " "})
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	var b strings.Builder
	for i, c := range classes {
		if i > 0 {
			b.WriteString("\n\n")
		}
		pos := c.start
		for _, e := range edits {
			if e.start < c.start || e.end > c.end {
				continue
			}
			b.WriteString(d.Src[pos:e.start])
			b.WriteString(e.with)
			pos = e.end
		}
		b.WriteString(d.Src[pos:c.end])
	}
	return b.String()
}

// Names lists the class names of d in order.
func (d *Doc) Names() []string {
	out := make([]string, len(d.Classes))
	for i, c := range d.Classes {
		out[i] = c.Name
	}
	return out
}
