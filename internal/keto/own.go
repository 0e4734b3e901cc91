package keto

import (
	"context"
	"fmt"
	"strings"

	client "github.com/ory/client-go"
)

// Truss's own objects (internal/orgs): the organizations and projects
// Truss itself keeps live in Keto's default Organization and Project
// namespaces, so Truss's own OPL (default.keto.ts) decides, never a
// tenant's custom model. Their objects are "truss:<tenant-id>:<id>": no
// tenant can spell that through /api/keto, where every object is
// "<tenant-id>:<name>" (a tenant id is a UUID, never "truss"), and
// fromKeto drops it from every list, export and expand. So neither another
// tenant nor the owning tenant's own /api/keto callers can read or forge
// the roles; only Truss writes them, through the methods below.

const ownObjectPrefix = "truss:"

var ownNamespaces = map[string]bool{"Organization": true, "Project": true}

// OwnTuple is one tuple of Truss's own objects, in Keto's names. Object
// and SubjectSet.Object are OwnObject names; a tuple has SubjectID or
// SubjectSet.
type OwnTuple struct {
	Namespace  string
	Object     string
	Relation   string
	SubjectID  string
	SubjectSet *SubjectSet
}

// OwnObject is the Keto object of Truss's own object id (an organization
// or project id) created in tenant.
func OwnObject(tenant, id string) string { return ownObjectPrefix + tenant + ":" + id }

// ParseOwnObject splits an OwnObject name; ok is false for anything else
// (a tenant's own objects in the same namespace).
func ParseOwnObject(object string) (tenant, id string, ok bool) {
	rest, ok := strings.CutPrefix(object, ownObjectPrefix)
	if !ok {
		return "", "", false
	}
	tenant, id, ok = strings.Cut(rest, ":")
	return tenant, id, ok && tenant != "" && id != ""
}

func checkOwn(namespace, object string) error {
	if !ownNamespaces[namespace] {
		return fmt.Errorf("keto: %q is not a namespace of Truss's own objects", namespace)
	}
	if _, _, ok := ParseOwnObject(object); !ok {
		return fmt.Errorf("keto: %q is not an object of Truss's own", object)
	}
	return nil
}

func (t OwnTuple) relationship() (client.Relationship, error) {
	if err := checkOwn(t.Namespace, t.Object); err != nil {
		return client.Relationship{}, err
	}
	r := client.Relationship{Namespace: t.Namespace, Object: t.Object, Relation: t.Relation}
	switch {
	case t.SubjectSet != nil && t.SubjectID == "":
		if err := checkOwn(t.SubjectSet.Namespace, t.SubjectSet.Object); err != nil {
			return r, err
		}
		r.SubjectSet = &client.SubjectSet{Namespace: t.SubjectSet.Namespace, Object: t.SubjectSet.Object, Relation: t.SubjectSet.Relation}
	case t.SubjectSet == nil && t.SubjectID != "":
		id := t.SubjectID
		r.SubjectId = &id
	default:
		return r, fmt.Errorf("keto: tuple %s:%s#%s needs exactly one subject", t.Namespace, t.Object, t.Relation)
	}
	return r, nil
}

// OwnCheck asks Keto whether subjectID has permission (or relation) on one
// of Truss's own objects.
func (s *Service) OwnCheck(ctx context.Context, namespace, object, permission, subjectID string) (bool, error) {
	if err := checkOwn(namespace, object); err != nil {
		return false, err
	}
	id := subjectID
	return s.check(ctx, nil, client.Relationship{Namespace: namespace, Object: object, Relation: permission, SubjectId: &id}, nil)
}

// OwnPatch inserts and deletes tuples of Truss's own objects in one Keto
// transaction.
func (s *Service) OwnPatch(ctx context.Context, insert, del []OwnTuple) error {
	ins := make([]client.Relationship, 0, len(insert))
	for _, t := range insert {
		r, err := t.relationship()
		if err != nil {
			return err
		}
		ins = append(ins, r)
	}
	dels := make([]client.Relationship, 0, len(del))
	for _, t := range del {
		r, err := t.relationship()
		if err != nil {
			return err
		}
		dels = append(dels, r)
	}
	return s.patchRaw(ctx, nil, ins, dels)
}

// OwnFilter selects tuples of Truss's own objects: Namespace is required,
// the other fields are optional ("" matches any).
type OwnFilter struct {
	Namespace string
	Object    string
	Relation  string
	SubjectID string
}

// maxOwnList bounds one OwnList (a reverse lookup by subject reads every
// tuple of that subject in the namespace, tenants' own included).
const maxOwnList = 10000

// OwnList returns every tuple of Truss's own objects matching f. Without
// an object it is a reverse lookup (e.g. "every organization this
// identity has a role in"): tenants' tuples with the same subject id are
// read and dropped.
func (s *Service) OwnList(ctx context.Context, f OwnFilter) ([]OwnTuple, error) {
	if !ownNamespaces[f.Namespace] {
		return nil, fmt.Errorf("keto: %q is not a namespace of Truss's own objects", f.Namespace)
	}
	k := ketoQuery{namespace: &f.Namespace}
	if f.Object != "" {
		if err := checkOwn(f.Namespace, f.Object); err != nil {
			return nil, err
		}
		k.object = &f.Object
	}
	if f.Relation != "" {
		k.relation = &f.Relation
	}
	if f.SubjectID != "" {
		k.subjectID = &f.SubjectID
	}
	var out []OwnTuple
	token, read := "", 0
	for {
		page, next, err := s.listPage(ctx, nil, k, MaxPageSize, token)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if _, _, ok := ParseOwnObject(r.Object); !ok {
				continue
			}
			t := OwnTuple{Namespace: r.Namespace, Object: r.Object, Relation: r.Relation}
			if r.SubjectId != nil {
				t.SubjectID = *r.SubjectId
			}
			if ss := r.SubjectSet; ss != nil {
				t.SubjectSet = &SubjectSet{Namespace: ss.Namespace, Object: ss.Object, Relation: ss.Relation}
			}
			out = append(out, t)
		}
		read += len(page)
		if next == "" {
			return out, nil
		}
		if read >= maxOwnList {
			return nil, fmt.Errorf("keto: more than %d tuples match %+v", maxOwnList, f)
		}
		token = next
	}
}
