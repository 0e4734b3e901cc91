package keto

import (
	"context"
	"net/url"
	"slices"
	"strconv"

	client "github.com/ory/client-go"
)

// Query parameter names, as Keto spells them.
const (
	qNamespace   = "namespace"
	qObject      = "object"
	qRelation    = "relation"
	qSubjectID   = "subject_id"
	qSetNS       = "subject_set.namespace"
	qSetObject   = "subject_set.object"
	qSetRelation = "subject_set.relation"
	qPageSize    = "page_size"
	qPageToken   = "page_token"
)

var filterKeys = []string{qNamespace, qObject, qRelation, qSubjectID, qSetNS, qSetObject, qSetRelation}

// parseFilter reads a tuple filter from query parameters (every field
// optional) and validates it; extra lists further allowed parameters.
func (sc *scope) parseFilter(q url.Values, extra ...string) (Tuple, error) {
	errs := fieldErrors{}
	for k := range q {
		if !slices.Contains(filterKeys, k) && !slices.Contains(extra, k) {
			errs.add(k, "unknown query parameter; allowed: %v", append(slices.Clone(filterKeys), extra...))
		}
	}
	t := Tuple{Namespace: q.Get(qNamespace), Object: q.Get(qObject), Relation: q.Get(qRelation)}
	if q.Has(qSubjectID) {
		id := q.Get(qSubjectID)
		t.SubjectID = &id
	}
	if q.Has(qSetNS) || q.Has(qSetObject) || q.Has(qSetRelation) {
		t.SubjectSet = &SubjectSet{Namespace: q.Get(qSetNS), Object: q.Get(qSetObject), Relation: q.Get(qSetRelation)}
	}
	sc.validate(t, forQuery, "", errs)
	return t, invalid(errs)
}

// ketoQuery is a scoped filter for Keto's list and delete APIs.
type ketoQuery struct {
	namespace, object, relation, subjectID *string
	subjectSet                             *client.SubjectSet
}

// scopedQuery maps a validated filter into the tenant's space.
func (sc *scope) scopedQuery(t Tuple) ketoQuery {
	var k ketoQuery
	if t.Namespace != "" {
		k.namespace = ptr(sc.ketoNamespace(t.Namespace))
	}
	if t.Object != "" {
		k.object = ptr(sc.prefix + t.Object)
	}
	if t.Relation != "" {
		k.relation = ptr(t.Relation)
	}
	k.subjectID = t.SubjectID
	if ss := t.SubjectSet; ss != nil {
		k.subjectSet = &client.SubjectSet{Namespace: sc.ketoNamespace(ss.Namespace), Object: sc.prefix + ss.Object, Relation: ss.Relation}
	}
	return k
}

// exact reports whether Keto's own filter already confines the query to
// the tenant (an object or a subject set, both prefixed), so no other
// tenant's tuple can match it.
func (k ketoQuery) exact() bool { return k.object != nil || k.subjectSet != nil }

func ptr[T any](v T) *T { return &v }

// listPage is one page of Keto's GET /relation-tuples.
func (s *Service) listPage(ctx context.Context, sc *scope, k ketoQuery, size int, token string) ([]client.Relationship, string, error) {
	req := s.read.API.RelationshipAPI.GetRelationships(ctx).PageSize(int64(size))
	if token != "" {
		req = req.PageToken(token)
	}
	if k.namespace != nil {
		req = req.Namespace(*k.namespace)
	}
	if k.object != nil {
		req = req.Object(*k.object)
	}
	if k.relation != nil {
		req = req.Relation(*k.relation)
	}
	if k.subjectID != nil {
		req = req.SubjectId(*k.subjectID)
	}
	if ss := k.subjectSet; ss != nil {
		req = req.SubjectSetNamespace(ss.Namespace).SubjectSetObject(ss.Object).SubjectSetRelation(ss.Relation)
	}
	res, resp, err := req.Execute()
	if err := sc.fromKetoCall(s.read, err, resp); err != nil {
		return nil, "", err
	}
	return res.RelationTuples, res.GetNextPageToken(), nil
}

// scan collects the tenant's tuples matching k from token on, until it has
// want of them, Keto has no more (next == ""), or it has asked Keto
// maxPages times. Keto cannot filter by object prefix, so a query without
// an object reads other tenants' tuples too and drops them: a page may then
// hold fewer than want tuples while next is still set. Each Keto page asks
// for at most the number still wanted, so no tuple is ever skipped.
func (s *Service) scan(ctx context.Context, sc *scope, k ketoQuery, want int, token string, maxPages int, pageCap int) ([]Tuple, string, error) {
	out := []Tuple{}
	for range maxPages {
		size := want - len(out)
		if pageCap > 0 {
			size = min(size, pageCap)
		}
		page, next, err := s.listPage(ctx, sc, k, size, token)
		if err != nil {
			return nil, "", err
		}
		for _, r := range page {
			if t, ok := sc.fromKeto(r); ok {
				out = append(out, t)
			}
		}
		token = next
		if token == "" || len(out) >= want {
			break
		}
	}
	return out, token, nil
}

func parsePageSize(q url.Values) (int, error) {
	v := q.Get(qPageSize)
	if v == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, badRequest(qPageSize, "must be an integer from 1 to %d", MaxPageSize)
	}
	return n, nil
}
