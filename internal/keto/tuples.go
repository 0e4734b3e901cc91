package keto

import (
	"context"
	"net/http"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// Routes (internal/server/routes.go):
//
//	GET    /api/keto/relation-tuples   ListTuples
//	PUT    /api/keto/relation-tuples   PutTuple
//	DELETE /api/keto/relation-tuples   DeleteTuples

// tuplePage is Keto's list shape.
type tuplePage struct {
	RelationTuples []Tuple `json:"relation_tuples"`
	NextPageToken  string  `json:"next_page_token"`
}

// ListTuples answers GET /api/keto/relation-tuples with Keto's filters
// (namespace, object, relation, subject_id, subject_set.*) and pagination
// (page_size, page_token). A page may hold fewer than page_size tuples while
// next_page_token is set: follow it until it is empty.
func (s *Service) ListTuples(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := sc.parseFilter(q, qPageSize, qPageToken)
	if err != nil {
		return err
	}
	size, err := parsePageSize(q)
	if err != nil {
		return err
	}
	tuples, next, err := s.scan(r.Context(), sc, sc.scopedQuery(f), size, q.Get(qPageToken), scanPagesPerCall, 0)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, tuplePage{RelationTuples: tuples, NextPageToken: next})
}

// PutTuple answers PUT /api/keto/relation-tuples: 201 with the tuple when
// it was created, 200 when it already existed (Keto itself would store a
// duplicate).
func (s *Service) PutTuple(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	var t Tuple
	if err := httpjson.Decode(r, &t); err != nil {
		return err
	}
	errs := fieldErrors{}
	sc.validate(t, forWrite, "", errs)
	if err := invalid(errs); err != nil {
		return err
	}
	rel := sc.toKeto(t)
	exists, err := s.exists(r.Context(), sc, rel)
	if err != nil {
		return err
	}
	if exists {
		return httpjson.Write(w, http.StatusOK, t)
	}
	body := client.CreateRelationshipBody{Namespace: &rel.Namespace, Object: &rel.Object, Relation: &rel.Relation,
		SubjectId: rel.SubjectId, SubjectSet: rel.SubjectSet}
	_, resp, err := s.write.API.RelationshipAPI.CreateRelationship(r.Context()).CreateRelationshipBody(body).Execute()
	if err := sc.fromKetoCall(s.write, err, resp); err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusCreated, t)
}

// exists reports whether Keto holds rel exactly.
func (s *Service) exists(ctx context.Context, sc *scope, rel client.Relationship) (bool, error) {
	k := ketoQuery{namespace: &rel.Namespace, object: &rel.Object, relation: &rel.Relation, subjectID: rel.SubjectId, subjectSet: rel.SubjectSet}
	page, _, err := s.listPage(ctx, sc, k, 1, "")
	return len(page) > 0, err
}

// DeleteTuples answers DELETE /api/keto/relation-tuples: every tuple of the
// tenant matching the filters (namespace required, as in Keto) goes, in one
// transaction. 204 either way.
func (s *Service) DeleteTuples(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	f, err := sc.parseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	if f.Namespace == "" {
		return badRequest(qNamespace, "is required to delete")
	}
	k := sc.scopedQuery(f)
	if k.exact() {
		// Keto's own delete by query, confined to the tenant by the
		// prefixed object or subject set.
		req := s.write.API.RelationshipAPI.DeleteRelationships(r.Context()).Namespace(*k.namespace)
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
		resp, err := req.Execute()
		if err := sc.fromKetoCall(s.write, err, resp); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// Without an object Keto would delete every tenant's matches: find the
	// tenant's own and delete exactly those.
	const maxDelete = 1000
	tuples, next, err := s.scan(r.Context(), sc, k, maxDelete+1, "", 1<<20, 1000)
	if err != nil {
		return err
	}
	if len(tuples) > maxDelete || next != "" {
		return apierror.New(http.StatusBadRequest, "too_many_tuples",
			"More than 1000 tuples match; delete them in parts.").WithHint("Add object (or a subject) to the filter.")
	}
	if err := s.patch(r.Context(), sc, nil, tuples); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// patch inserts and deletes tuples in one Keto transaction (PATCH
// /admin/relation-tuples): all of them or none.
func (s *Service) patch(ctx context.Context, sc *scope, insert, del []Tuple) error {
	ins := make([]client.Relationship, len(insert))
	for i, t := range insert {
		ins[i] = sc.toKeto(t)
	}
	dels := make([]client.Relationship, len(del))
	for i, t := range del {
		dels[i] = sc.toKeto(t)
	}
	return s.patchRaw(ctx, sc, ins, dels)
}

// patchRaw is patch for tuples already in Keto's names.
func (s *Service) patchRaw(ctx context.Context, sc *scope, insert, del []client.Relationship) error {
	if len(insert)+len(del) == 0 {
		return nil
	}
	deltas := make([]client.RelationshipPatch, 0, len(insert)+len(del))
	for i := range insert {
		deltas = append(deltas, client.RelationshipPatch{Action: ptr("insert"), RelationTuple: &insert[i]})
	}
	for i := range del {
		deltas = append(deltas, client.RelationshipPatch{Action: ptr("delete"), RelationTuple: &del[i]})
	}
	resp, err := s.write.API.RelationshipAPI.PatchRelationships(ctx).RelationshipPatch(deltas).Execute()
	return sc.fromKetoCall(s.write, err, resp)
}
