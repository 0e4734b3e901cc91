package demo

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/keto/opl"
)

// The demo's permissions: the seeded tuples of seedTuples, in Truss's
// default model (internal/keto/opl/default.keto.ts), listed, checked and
// expanded here without Keto. The answers have the shapes of internal/keto's
// endpoints.

// tuple is internal/keto's Tuple JSON.
type tuple struct {
	Namespace  string      `json:"namespace"`
	Object     string      `json:"object"`
	Relation   string      `json:"relation"`
	SubjectID  *string     `json:"subject_id,omitempty"`
	SubjectSet *subjectSet `json:"subject_set,omitempty"`
}

type subjectSet struct {
	Namespace string `json:"namespace"`
	Object    string `json:"object"`
	Relation  string `json:"relation"`
}

type expandNode struct {
	Type     string       `json:"type"`
	Tuple    *tuple       `json:"tuple,omitempty"`
	Children []expandNode `json:"children,omitempty"`
}

type namespaceInfo struct {
	Name        string         `json:"name"`
	Source      string         `json:"source"`
	Relations   []opl.Relation `json:"relations"`
	Permissions []string       `json:"permissions"`
	Loaded      bool           `json:"loaded"`
}

// maxCheckDepth bounds the evaluation of subject sets (Keto's default
// max_read_depth is 5; the seed needs 3).
const maxCheckDepth = 10

func user(email string) *string { return &email }

func set(ns, obj, rel string) *subjectSet {
	return &subjectSet{Namespace: ns, Object: obj, Relation: rel}
}

// seedTuples is the demo tenant's organizations and projects: Acme Inc.
// with two projects and Globex with one, whose viewers include Acme's
// members. Subjects are the seeded users' addresses.
func seedTuples() []tuple {
	u := func(ns, obj, rel, email string) tuple {
		return tuple{Namespace: ns, Object: obj, Relation: rel, SubjectID: user(email)}
	}
	s := func(ns, obj, rel string, ss *subjectSet) tuple {
		return tuple{Namespace: ns, Object: obj, Relation: rel, SubjectSet: ss}
	}
	return []tuple{
		u("Organization", "acme", "owners", Email),
		u("Organization", "acme", "admins", "katherine@example.com"),
		u("Organization", "acme", "members", "ada@example.com"),
		u("Organization", "acme", "members", "grace@example.com"),
		u("Organization", "acme", "members", "alan@example.com"),
		u("Organization", "acme", "viewers", "barbara@example.com"),
		u("Organization", "globex", "owners", "grace@example.com"),
		u("Organization", "globex", "members", "linus@example.com"),
		s("Project", "apollo", "organization", set("Organization", "acme", "")),
		u("Project", "apollo", "owners", "ada@example.com"),
		s("Project", "apollo", "editors", set("Organization", "acme", "members")),
		u("Project", "apollo", "viewers", "linus@example.com"),
		s("Project", "gemini", "organization", set("Organization", "acme", "")),
		u("Project", "gemini", "editors", "alan@example.com"),
		s("Project", "hyperion", "organization", set("Organization", "globex", "")),
		s("Project", "hyperion", "viewers", set("Organization", "acme", "members")),
	}
}

// demoClasses are the default model's classes a tenant may use.
func demoClasses() []opl.Class {
	return slices.DeleteFunc(slices.Clone(opl.Default.Classes), func(c opl.Class) bool { return !opl.Visible(c.Name) })
}

func demoClass(name string) (opl.Class, bool) {
	for _, c := range demoClasses() {
		if c.Name == name {
			return c, true
		}
	}
	return opl.Class{}, false
}

func (h *Handler) ketoNamespaces(w http.ResponseWriter) error {
	out := []namespaceInfo{}
	for _, c := range demoClasses() {
		rels, perms := c.Relations, c.Permissions
		if rels == nil {
			rels = []opl.Relation{}
		}
		if perms == nil {
			perms = []string{}
		}
		out = append(out, namespaceInfo{Name: c.Name, Source: "default", Relations: rels, Permissions: perms, Loaded: true})
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"model_version": 0, "namespaces": out})
}

// ketoTuples answers like GET /api/keto/relation-tuples: Keto's filters
// and offset pagination over the seed.
func (h *Handler) ketoTuples(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size := 100
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return httpjson.Invalid("Invalid query parameters.", map[string][]string{"page_size": {"must be a number from 1 to 1000"}})
		}
		size = n
	}
	start := 0
	if v := q.Get("page_token"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return httpjson.Invalid("Invalid query parameters.", map[string][]string{"page_token": {"is not a token of this list"}})
		}
		start = n
	}
	match := func(key, v string) bool { return !q.Has(key) || q.Get(key) == v }
	out := []tuple{}
	for _, t := range seedTuples() {
		if !match("namespace", t.Namespace) || !match("object", t.Object) || !match("relation", t.Relation) {
			continue
		}
		if q.Has("subject_id") && (t.SubjectID == nil || *t.SubjectID != q.Get("subject_id")) {
			continue
		}
		if q.Has("subject_set.namespace") && (t.SubjectSet == nil || !match("subject_set.namespace", t.SubjectSet.Namespace) ||
			!match("subject_set.object", t.SubjectSet.Object) || !match("subject_set.relation", t.SubjectSet.Relation)) {
			continue
		}
		out = append(out, t)
	}
	start = min(start, len(out))
	out, next := out[start:], ""
	if len(out) > size {
		out, next = out[:size], strconv.Itoa(start+size)
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"relation_tuples": out, "next_page_token": next})
}

// ketoCheck answers like POST /api/keto/check: 200 {"allowed": bool},
// evaluated against the seed with the default model's rules. It is the one
// POST the demo serves: a check reads, it changes nothing.
func (h *Handler) ketoCheck(w http.ResponseWriter, r *http.Request) error {
	var req tuple
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	errs := map[string][]string{}
	c, ok := demoClass(req.Namespace)
	if !ok {
		errs["namespace"] = []string{"is not a namespace of the demo's model (" + strings.Join(classNames(), ", ") + ")"}
	} else if !c.HasRelation(req.Relation) && !c.HasPermission(req.Relation) {
		errs["relation"] = []string{"is not a relation or permission of " + c.Name}
	}
	if strings.TrimSpace(req.Object) == "" {
		errs["object"] = []string{"is required"}
	}
	if (req.SubjectID == nil || *req.SubjectID == "") && req.SubjectSet == nil {
		errs["subject_id"] = []string{"is required (or a subject_set)"}
	}
	if len(errs) > 0 {
		return httpjson.Invalid("This check is not valid.", errs)
	}
	sub := subject{set: req.SubjectSet}
	if req.SubjectID != nil {
		sub.id = *req.SubjectID
	}
	return httpjson.Write(w, http.StatusOK, map[string]bool{"allowed": check(seedTuples(), req.Namespace, req.Object, req.Relation, sub, maxCheckDepth)})
}

func classNames() []string {
	var out []string
	for _, c := range demoClasses() {
		out = append(out, c.Name)
	}
	return out
}

// subject is a check's subject: an id, or a subject set.
type subject struct {
	id  string
	set *subjectSet
}

func (s subject) is(t tuple) bool {
	if s.set != nil {
		return t.SubjectSet != nil && *t.SubjectSet == *s.set
	}
	return t.SubjectID != nil && *t.SubjectID == s.id
}

// check evaluates ns:obj#rel@sub: a relation by its tuples (following
// subject sets), a permission by the default model's permits.
func check(ts []tuple, ns, obj, rel string, sub subject, depth int) bool {
	if depth <= 0 {
		return false
	}
	has := func(r string) bool { return related(ts, ns, obj, r, sub, depth) }
	traverse := func(perm string) bool {
		for _, t := range ts {
			if t.Namespace == ns && t.Object == obj && t.Relation == "organization" && t.SubjectSet != nil &&
				check(ts, t.SubjectSet.Namespace, t.SubjectSet.Object, perm, sub, depth-1) {
				return true
			}
		}
		return false
	}
	perm := func(p string) bool { return check(ts, ns, obj, p, sub, depth-1) }
	switch ns + "#" + rel {
	case "Organization#delete":
		return has("owners")
	case "Organization#manage":
		return has("owners") || has("admins")
	case "Organization#edit":
		return perm("manage") || has("members")
	case "Organization#view":
		return perm("edit") || has("viewers")
	case "Project#delete":
		return has("owners") || traverse("delete")
	case "Project#manage":
		return has("owners") || traverse("manage")
	case "Project#edit":
		return perm("manage") || has("editors")
	case "Project#view":
		return perm("edit") || has("viewers") || traverse("view")
	}
	return has(rel)
}

// related reports whether sub has relation rel on ns:obj by a tuple,
// directly or through a subject set.
func related(ts []tuple, ns, obj, rel string, sub subject, depth int) bool {
	for _, t := range ts {
		if t.Namespace != ns || t.Object != obj || t.Relation != rel {
			continue
		}
		if sub.is(t) {
			return true
		}
		if s := t.SubjectSet; s != nil && s.Relation != "" && check(ts, s.Namespace, s.Object, s.Relation, sub, depth-1) {
			return true
		}
	}
	return false
}

// ketoExpand answers like GET /api/keto/expand: the tree of the seeded
// subjects with the relation on the object.
func (h *Handler) ketoExpand(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := map[string][]string{}
	c, ok := demoClass(q.Get("namespace"))
	if !ok {
		errs["namespace"] = []string{"is not a namespace of the demo's model"}
	} else if !c.HasRelation(q.Get("relation")) {
		errs["relation"] = []string{"is not a relation of " + c.Name}
	}
	if q.Get("object") == "" {
		errs["object"] = []string{"is required"}
	}
	depth := 5
	if v := q.Get("max-depth"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10 {
			errs["max-depth"] = []string{"must be a number from 1 to 10"}
		}
		depth = n
	}
	if len(errs) > 0 {
		return httpjson.Invalid("Invalid query parameters.", errs)
	}
	return httpjson.Write(w, http.StatusOK, expand(seedTuples(), q.Get("namespace"), q.Get("object"), q.Get("relation"), depth))
}

func expand(ts []tuple, ns, obj, rel string, depth int) expandNode {
	n := expandNode{Type: "union", Tuple: &tuple{Namespace: ns, Object: obj, Relation: rel}}
	for _, t := range ts {
		if t.Namespace != ns || t.Object != obj || t.Relation != rel {
			continue
		}
		if s := t.SubjectSet; s != nil && s.Relation != "" && depth > 1 {
			n.Children = append(n.Children, expand(ts, s.Namespace, s.Object, s.Relation, depth-1))
			continue
		}
		leaf := t
		n.Children = append(n.Children, expandNode{Type: "leaf", Tuple: &leaf})
	}
	return n
}

// ketoModel answers like GET /api/keto/model for a tenant on Truss's
// default model (it has no saved version).
func (h *Handler) ketoModel(w http.ResponseWriter) error {
	return httpjson.Write(w, http.StatusOK, map[string]any{"version": 0, "opl": "", "namespaces": []string{},
		"default": true, "active": true, "created_at": time.Time{}})
}
