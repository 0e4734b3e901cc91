package keto

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	client "github.com/ory/client-go"
)

// Tuple is a relationship in Keto's own JSON shape: namespace, object,
// relation and either subject_id or subject_set.
type Tuple struct {
	Namespace  string      `json:"namespace"`
	Object     string      `json:"object"`
	Relation   string      `json:"relation"`
	SubjectID  *string     `json:"subject_id,omitempty"`
	SubjectSet *SubjectSet `json:"subject_set,omitempty"`
}

// SubjectSet is "every subject with relation on namespace:object"; an empty
// relation means the object itself (e.g. User:alice).
type SubjectSet struct {
	Namespace string `json:"namespace"`
	Object    string `json:"object"`
	Relation  string `json:"relation"`
}

// usage says what a tuple is for, which decides what its relation may be.
type usage int

const (
	forWrite usage = iota // a relation the model declares in `related`
	forCheck              // a relation or a permission
	forQuery              // a filter: every field optional
)

// tenantPrefixPattern matches an object that already carries a tenant id:
// Truss adds the caller's own, so such a name can only be an attempt to
// address another tenant (or confusion), and is refused.
var tenantPrefixPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}:`)

// fieldErrors collects problems by field name (e.g. "subject_set.namespace").
type fieldErrors map[string][]string

func (fe fieldErrors) add(field, format string, args ...any) {
	fe[field] = append(fe[field], fmt.Sprintf(format, args...))
}

// validate checks t against the tenant's model; at is the field prefix
// ("tuples[3]." in a batch).
func (sc *scope) validate(t Tuple, use usage, at string, errs fieldErrors) {
	sc.validateTarget(t, use, at, errs)
	if t.SubjectID != nil && t.SubjectSet != nil {
		errs.add(at+"subject_id", "give subject_id or subject_set, not both")
		errs.add(at+"subject_set", "give subject_id or subject_set, not both")
		return
	}
	if t.SubjectID == nil && t.SubjectSet == nil && use != forQuery {
		errs.add(at+"subject_id", "a subject is required: subject_id or subject_set")
	}
	if t.SubjectID != nil {
		checkName(*t.SubjectID, at+"subject_id", false, errs)
	}
	if ss := t.SubjectSet; ss != nil {
		sns, ok := sc.namespace(ss.Namespace, at+"subject_set.namespace", false, errs)
		checkName(ss.Object, at+"subject_set.object", false, errs)
		if ss.Relation != "" && ok {
			sc.checkRelation(sns, ss.Relation, forCheck, at+"subject_set.relation", errs)
		}
	}
}

// validateTarget checks namespace, object and relation (what expand needs).
func (sc *scope) validateTarget(t Tuple, use usage, at string, errs fieldErrors) {
	ns, ok := sc.namespace(t.Namespace, at+"namespace", use == forQuery, errs)
	checkName(t.Object, at+"object", use == forQuery, errs)
	switch {
	case t.Relation == "" && use != forQuery:
		errs.add(at+"relation", "must not be empty")
	case t.Relation != "" && ok:
		sc.checkRelation(ns, t.Relation, use, at+"relation", errs)
	}
}

// namespace resolves a namespace name of the tenant's model.
func (sc *scope) namespace(name, field string, optional bool, errs fieldErrors) (*nsInfo, bool) {
	if name == "" {
		if !optional {
			errs.add(field, "must not be empty")
		}
		return nil, false
	}
	ns, ok := sc.model.byName[name]
	if !ok {
		errs.add(field, "unknown namespace %q; this tenant's namespaces are %s", name, strings.Join(sc.model.names, ", "))
	}
	return ns, ok
}

func (sc *scope) checkRelation(ns *nsInfo, rel string, use usage, field string, errs fieldErrors) {
	c := ns.class
	switch {
	case c.HasRelation(rel):
	case c.HasPermission(rel) && use == forWrite:
		errs.add(field, "%q is a permission of %s (computed by the model); write one of its relations: %s",
			rel, ns.visible, listOrNone(c.RelationNames()))
	case c.HasPermission(rel):
	default:
		errs.add(field, "%s has no relation or permission %q; relations: %s; permissions: %s",
			ns.visible, rel, listOrNone(c.RelationNames()), listOrNone(c.Permissions))
	}
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// checkName validates an object or subject id.
func checkName(v, field string, optional bool, errs fieldErrors) {
	switch {
	case v == "":
		if !optional {
			errs.add(field, "must not be empty")
		}
	case len(v) > maxFieldLength:
		errs.add(field, "must be at most %d bytes", maxFieldLength)
	case strings.ContainsFunc(v, unicode.IsControl):
		errs.add(field, "must not contain control characters")
	case strings.HasSuffix(field, "object") && tenantPrefixPattern.MatchString(v):
		errs.add(field, "must not start with a tenant id (\"<uuid>:\"): Truss scopes every object to your tenant itself")
	}
}

// toKeto scopes a validated tuple into the tenant's space in Keto.
func (sc *scope) toKeto(t Tuple) client.Relationship {
	r := client.Relationship{Namespace: sc.ketoNamespace(t.Namespace), Object: sc.prefix + t.Object, Relation: t.Relation}
	if t.SubjectID != nil {
		id := *t.SubjectID
		r.SubjectId = &id
	}
	if ss := t.SubjectSet; ss != nil {
		r.SubjectSet = &client.SubjectSet{Namespace: sc.ketoNamespace(ss.Namespace), Object: sc.prefix + ss.Object, Relation: ss.Relation}
	}
	return r
}

// fromKeto maps a tuple from Keto back to the tenant's names; ok is false
// when it is not the tenant's (another tenant's object, or a namespace its
// model does not name), so it is never shown.
func (sc *scope) fromKeto(r client.Relationship) (Tuple, bool) {
	ns, ok1 := sc.model.byKeto[r.Namespace]
	obj, ok2 := strings.CutPrefix(r.Object, sc.prefix)
	if !ok1 || !ok2 {
		return Tuple{}, false
	}
	t := Tuple{Namespace: ns.visible, Object: obj, Relation: r.Relation}
	if r.SubjectId != nil {
		id := *r.SubjectId
		t.SubjectID = &id
	}
	if ss := r.SubjectSet; ss != nil {
		sns, ok1 := sc.model.byKeto[ss.Namespace]
		sobj, ok2 := strings.CutPrefix(ss.Object, sc.prefix)
		if !ok1 || !ok2 {
			return Tuple{}, false
		}
		t.SubjectSet = &SubjectSet{Namespace: sns.visible, Object: sobj, Relation: ss.Relation}
	}
	return t, true
}

func (sc *scope) ketoNamespace(visible string) string {
	if ns, ok := sc.model.byName[visible]; ok {
		return ns.keto
	}
	return visible
}
