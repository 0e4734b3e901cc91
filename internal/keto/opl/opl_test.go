package opl

import (
	"slices"
	"strings"
	"testing"
)

func TestDefaultModel(t *testing.T) {
	if got := Default.Names(); !slices.Equal(got, []string{"User", "Organization", "Project", "TrussTenant"}) {
		t.Fatalf("default classes = %v", got)
	}
	org, _ := Default.Class("Organization")
	if !slices.Equal(org.RelationNames(), []string{"owners", "admins", "members", "viewers"}) ||
		!slices.Equal(org.Permissions, []string{"delete", "manage", "edit", "view"}) {
		t.Errorf("Organization = %v / %v", org.RelationNames(), org.Permissions)
	}
	p, _ := Default.Class("Project")
	if !p.HasRelation("organization") || !p.HasPermission("view") || p.HasRelation("view") {
		t.Errorf("Project = %+v", p)
	}
	editors := p.Relations[2]
	if editors.Name != "editors" || len(editors.Types) != 2 || editors.Types[1] != (TypeRef{Namespace: "Organization", Relation: "members", tok: editors.Types[1].tok}) {
		t.Errorf("Project.editors = %+v", editors)
	}
}

const tenant = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

func TestTenantSectionRenamesOnlyNamespaces(t *testing.T) {
	src := `import { Namespace, Context } from "@ory/keto-namespace-types"
// a comment that says // truss:end tenant ` + tenant + `
class Folder implements Namespace {
  related: { Folder: Folder[], viewers: (User | SubjectSet<Group, "members">)[] }
  permits = { view: (ctx: Context): boolean => this.related.viewers.includes(ctx.subject) || this.related.Folder.traverse((p) => p.permits.view(ctx)) }
}
/* block */ class Group implements Namespace { related: { members: Array<User | Group> } }
`
	doc, errs := Parse(src)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := TenantSection(doc, tenant)
	p := "T7c9e6679742540de944be07fc1f90ae7_"
	for _, want := range []string{
		"class " + p + "Folder implements Namespace",
		"related: { Folder: " + p + "Folder[]",
		"(User | SubjectSet<" + p + "Group, \"members\">)[]",
		"this.related.Folder.traverse",
		"class " + p + "Group implements Namespace",
		"Array<User | " + p + "Group>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "//") || strings.Contains(got, "/*") || strings.Contains(got, "import") {
		t.Errorf("section keeps comments or top-level text:\n%s", got)
	}
	if _, errs := Parse(got); len(errs) > 0 {
		t.Errorf("section does not parse: %v", errs)
	}
}

func TestTenantRules(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`class TrussTenant implements Namespace {}`, "reserved"},
		{`class Array implements Namespace {}`, "reserved"},
		{`class A implements Namespace {} class A implements Namespace {}`, "declared twice"},
		{`class "A b" implements Namespace {}`, "identifiers"},
		{`class A implements Namespace { related: { x: TrussTenant[] } }`, "reserved"},
		{`class A implements Namespace { related: { "a b": User[] } }`, "relation name"},
		{"import { Namespace } from \"x\ny\"\nclass A implements Namespace {}", "span lines"},
	} {
		doc, errs := Parse(tc.src)
		errs = append(errs, CheckTenantRules(doc)...)
		if len(errs) == 0 || !strings.Contains(errs[0].Message, tc.want) {
			t.Errorf("%q: errors %v, want one about %q", tc.src, errs, tc.want)
		}
	}
	doc, _ := Parse(`class Doc implements Namespace { related: { owners: User[] } }`)
	if errs := CheckTenantRules(doc); len(errs) > 0 {
		t.Errorf("valid model refused: %v", errs)
	}
}

func TestErrorPositionsAreKetos(t *testing.T) {
	// Keto: line from 1, column from 0 (checked against Keto v0.13).
	_, errs := Parse("class A implements Namespace {\n  related: { x: 5 }\n}")
	if len(errs) != 1 || errs[0].Start != (Position{Line: 2, Column: 16}) {
		t.Errorf("errors = %+v", errs)
	}
}

func TestFileRoundTrip(t *testing.T) {
	other := "00000000-0000-0000-0000-0000000000aa"
	f := File{Revision: 42, Sections: map[string]Section{
		tenant: {Version: 3, Body: "class T7c_A implements Namespace {}"},
		other:  {Version: 1, Body: "class T00_B implements Namespace {\n  related: { x: User[] }\n}"},
	}}
	text := f.Render()
	got := ParseFile(text)
	if got.Revision != 42 || len(got.Sections) != 2 || got.Sections[tenant] != f.Sections[tenant] || got.Sections[other] != f.Sections[other] {
		t.Errorf("round trip: %+v\n%s", got, text)
	}
	// A section cut short (no end line) is dropped, the rest kept.
	cut := strings.Replace(text, "// truss:end tenant "+other, "", 1)
	if got := ParseFile(cut); len(got.Sections) != 1 {
		t.Errorf("cut file sections = %v", got.Sections)
	}
	if _, errs := Parse(text); len(errs) > 0 {
		t.Errorf("rendered file does not parse: %v", errs)
	}
}

func TestValidationSourceShadowsRedefinedDefaults(t *testing.T) {
	src := "class Project implements Namespace {}"
	full, first := ValidationSource(src, []string{"Project"})
	if first != 3 || !strings.HasPrefix(full, src+"\n\n") {
		t.Errorf("first default line %d; doc starts %q", first, full[:60])
	}
	doc, errs := Parse(full)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := doc.Names(); !slices.Equal(got, []string{"Project", "User", "Organization", "TrussShadowedProject"}) {
		t.Errorf("validation doc classes = %v", got)
	}
}
