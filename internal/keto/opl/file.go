package opl

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DefaultSource is Truss's default model: User, Organization, Project and
// Truss's own TrussTenant.
//
//go:embed default.keto.ts
var DefaultSource string

// Default is DefaultSource parsed.
var Default = mustParse(DefaultSource)

func mustParse(src string) *Doc {
	d, errs := Parse(src)
	if len(errs) > 0 {
		panic(fmt.Sprintf("opl: the default model does not parse: %v", errs))
	}
	return d
}

// Visible reports whether a default class is one tenants may use (Truss's
// own classes are not).
func Visible(name string) bool { return !strings.HasPrefix(name, ReservedPrefix) }

const fileHeader = `// Ory Keto namespaces of Truss, in the Ory Permission Language. Truss writes
// this file (KETO_NAMESPACES_FILE): its default model comes from
// internal/keto/opl/default.keto.ts, and each tenant's custom model from the
// tenant's active version in PostgreSQL. Keto reloads it on every change.
import { Namespace, Context, SubjectSet } from "@ory/keto-namespace-types"
`

// File is the namespaces file Keto watches: Truss's defaults, one section
// per tenant with a custom model, and a revision marker class whose
// appearance in Keto's namespace list proves Keto has loaded a version.
type File struct {
	Sections map[string]Section
	Revision int64
}

// Section is one tenant's classes, already renamed into its Keto names.
type Section struct {
	Version int
	Body    string
}

var (
	beginRe    = regexp.MustCompile(`^// truss:begin tenant ([0-9a-f-]{36}) v([0-9]+)$`)
	endRe      = regexp.MustCompile(`^// truss:end tenant ([0-9a-f-]{36})$`)
	revisionRe = regexp.MustCompile(`^class TrussRevision([0-9]+) implements Namespace \{\}$`)
)

// RevisionName is the Keto namespace that marks revision n of the file.
func RevisionName(n int64) string { return "TrussRevision" + strconv.FormatInt(n, 10) }

// ParseRevisionName is the inverse of RevisionName.
func ParseRevisionName(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "TrussRevision")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ParseFile reads the tenant sections and the revision of a namespaces
// file. Everything else (header, defaults) is Truss's and regenerated. A
// section without its end line is dropped: its tenant's model is written
// again from PostgreSQL when next needed.
func ParseFile(content string) File {
	f := File{Sections: map[string]Section{}}
	var cur string
	var sec Section
	var body []string
	for line := range strings.SplitSeq(content, "\n") {
		if m := revisionRe.FindStringSubmatch(line); m != nil && cur == "" {
			f.Revision, _ = strconv.ParseInt(m[1], 10, 64)
			continue
		}
		if m := beginRe.FindStringSubmatch(line); m != nil {
			cur, body = m[1], nil
			sec.Version, _ = strconv.Atoi(m[2])
			continue
		}
		if cur == "" {
			continue
		}
		if m := endRe.FindStringSubmatch(line); m != nil {
			if m[1] == cur {
				sec.Body = strings.Join(body, "\n")
				f.Sections[cur] = sec
			}
			cur = ""
			continue
		}
		body = append(body, line)
	}
	return f
}

// Render writes the whole file.
func (f File) Render() string {
	var b strings.Builder
	b.WriteString(fileHeader)
	b.WriteString("\n// truss:begin defaults\n")
	b.WriteString(strings.TrimSpace(DefaultSource))
	b.WriteString("\n// truss:end defaults\n")
	tenants := make([]string, 0, len(f.Sections))
	for t := range f.Sections {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		s := f.Sections[t]
		fmt.Fprintf(&b, "\n// truss:begin tenant %s v%d\n%s\n// truss:end tenant %s\n", t, s.Version, strings.TrimSpace(s.Body), t)
	}
	fmt.Fprintf(&b, "\n// The revision of this file, for Truss to see when Keto has loaded it.\nclass %s implements Namespace {}\n",
		RevisionName(f.Revision))
	return b.String()
}

// TenantNamespace is the Keto name of a tenant's class: "T", the tenant id
// without dashes, "_", the class name. Tenants never see it.
func TenantNamespace(tenantID, class string) string {
	return TenantNamespacePrefix(tenantID) + class
}

// TenantNamespacePrefix is what every Keto name of tenantID's classes
// starts with.
func TenantNamespacePrefix(tenantID string) string {
	return "T" + strings.ReplaceAll(tenantID, "-", "") + "_"
}

// TenantSection renames a tenant's model into its Keto names: its own
// classes get TenantNamespace names; references to the default classes it
// does not redefine stay as they are.
func TenantSection(d *Doc, tenantID string) string {
	own := map[string]bool{}
	for _, n := range d.Names() {
		own[n] = true
	}
	return d.Rewrite(nil, func(n string) string {
		if own[n] {
			return TenantNamespace(tenantID, n)
		}
		return n
	})
}

// ValidationSource is what Keto's syntax check must accept for a tenant's
// model to be valid: the tenant's text unchanged (so Keto's line and column
// numbers are the tenant's), followed by the default classes the tenant may
// refer to. Defaults the tenant redefines are appended under a reserved
// name, so they stay consistent without clashing. firstDefaultLine is the
// line where the appended part starts.
func ValidationSource(src string, declared []string) (doc string, firstDefaultLine int) {
	shadow := map[string]bool{}
	for _, n := range declared {
		shadow[n] = true
	}
	defaults := Default.Rewrite(Visible, func(n string) string {
		if shadow[n] {
			return ReservedPrefix + "Shadowed" + n
		}
		return n
	})
	return src + "\n\n" + defaults + "\n", strings.Count(src, "\n") + 3
}
