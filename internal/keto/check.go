package keto

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// Routes (internal/server/routes.go):
//
//	POST /api/keto/check        Check
//	POST /api/keto/batch-check  BatchCheck
//	GET  /api/keto/expand       Expand

// checkRequest is a tuple to check, with Keto's optional max_depth.
type checkRequest struct {
	Tuple
	MaxDepth *int `json:"max_depth,omitempty"`
}

type checkResult struct {
	Allowed bool   `json:"allowed"`
	Error   string `json:"error,omitempty"`
}

// Check answers POST /api/keto/check with 200 {"allowed": true|false}
// either way (Keto's GET /relation-tuples/check answers 403 when denied;
// Truss asks its /openapi variant, which answers 200).
func (s *Service) Check(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	var req checkRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	sc.validate(req.Tuple, forCheck, "", errs)
	checkDepth(req.MaxDepth, "max_depth", errs)
	if err := invalid(errs); err != nil {
		return err
	}
	allowed, err := s.check(r.Context(), sc, sc.toKeto(req.Tuple), req.MaxDepth)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, checkResult{Allowed: allowed})
}

func checkDepth(d *int, field string, errs fieldErrors) {
	if d != nil && (*d < 1 || *d > MaxMaxDepth) {
		errs.add(field, "must be from 1 to %d", MaxMaxDepth)
	}
}

// check asks Keto about one scoped tuple. sc may be nil for Truss's own
// (unscoped) checks.
func (s *Service) check(ctx context.Context, sc *scope, rel client.Relationship, maxDepth *int) (bool, error) {
	req := s.read.API.PermissionAPI.CheckPermission(ctx).Namespace(rel.Namespace).Object(rel.Object).Relation(rel.Relation)
	if rel.SubjectId != nil {
		req = req.SubjectId(*rel.SubjectId)
	}
	if ss := rel.SubjectSet; ss != nil {
		req = req.SubjectSetNamespace(ss.Namespace).SubjectSetObject(ss.Object).SubjectSetRelation(ss.Relation)
	}
	if maxDepth != nil {
		req = req.MaxDepth(int64(*maxDepth))
	}
	res, resp, err := req.Execute()
	if err := sc.fromKetoCall(s.read, err, resp); err != nil {
		return false, err
	}
	return res.Allowed, nil
}

type batchRequest struct {
	Tuples []checkRequest `json:"tuples"`
}

type batchResponse struct {
	Results []checkResult `json:"results"`
}

// BatchCheck answers POST /api/keto/batch-check {"tuples": [...]} (at most
// 50) with {"results": [{"allowed"}, ...]} in the same order. Keto v0.13
// has no batch API, so the checks run concurrently. An invalid tuple
// fails the whole request (400 naming tuples[i].field); Keto refusing one
// check gives that result an "error"; Keto down gives 503.
func (s *Service) BatchCheck(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	var req batchRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if len(req.Tuples) == 0 || len(req.Tuples) > MaxBatchCheck {
		return badRequest("tuples", "must hold 1 to %d tuples, got %d", MaxBatchCheck, len(req.Tuples))
	}
	errs := fieldErrors{}
	for i, t := range req.Tuples {
		at := "tuples[" + strconv.Itoa(i) + "]."
		sc.validate(t.Tuple, forCheck, at, errs)
		checkDepth(t.MaxDepth, at+"max_depth", errs)
	}
	if err := invalid(errs); err != nil {
		return err
	}
	results := make([]checkResult, len(req.Tuples))
	failures := make([]error, len(req.Tuples))
	var wg sync.WaitGroup
	sem := make(chan struct{}, batchConcurrency)
	for i, t := range req.Tuples {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			allowed, err := s.check(r.Context(), sc, sc.toKeto(t.Tuple), t.MaxDepth)
			results[i].Allowed = allowed
			if err != nil {
				failures[i] = err
				results[i].Error = apierror.As(err).Message
			}
		})
	}
	wg.Wait()
	for _, err := range failures {
		// A Keto outage fails the batch as a whole, like a single check.
		if err != nil && apierror.As(err).Status >= 500 {
			return err
		}
	}
	return httpjson.Write(w, http.StatusOK, batchResponse{Results: results})
}

// ExpandNode is Keto's expand tree, in the tenant's names.
type ExpandNode struct {
	Type     string       `json:"type"`
	Tuple    *Tuple       `json:"tuple,omitempty"`
	Children []ExpandNode `json:"children,omitempty"`
}

// Expand answers GET /api/keto/expand?namespace&object&relation&max-depth
// (default 5, at most 10; Keto's limit.max_read_depth may cap it lower)
// with the tree of subjects that have relation on the object.
func (s *Service) Expand(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	errs := fieldErrors{}
	for k := range q {
		if k != qNamespace && k != qObject && k != qRelation && k != "max-depth" {
			errs.add(k, "unknown query parameter; allowed: namespace, object, relation, max-depth")
		}
	}
	t := Tuple{Namespace: q.Get(qNamespace), Object: q.Get(qObject), Relation: q.Get(qRelation)}
	sc.validateTarget(t, forCheck, "", errs)
	depth := DefaultMaxDepth
	if v := q.Get("max-depth"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		checkDepth(&n, "max-depth", errs)
		depth = n
	}
	if err := invalid(errs); err != nil {
		return err
	}
	rel := sc.toKeto(t)
	tree, resp, err := s.read.API.PermissionAPI.ExpandPermissions(r.Context()).
		Namespace(rel.Namespace).Object(rel.Object).Relation(rel.Relation).MaxDepth(int64(depth)).Execute()
	if err != nil && resp != nil && resp.StatusCode == http.StatusOK && ketoReason(err) == "no relation tuple found" {
		// Keto v0.13 answers "nothing to expand" as 200 with an error body.
		resp.StatusCode = http.StatusNotFound
	}
	if err := sc.fromKetoCall(s.read, err, resp); err != nil {
		if e := apierror.As(err); e.Status == http.StatusNotFound {
			return apierror.New(http.StatusNotFound, "keto_not_found",
				fmt.Sprintf("No tuple has relation %q on %s:%s.", t.Relation, t.Namespace, t.Object)).
				WithHint("Expand follows stored relations, not computed permissions: expand a relation such as " + strings.Join(sc.model.byName[t.Namespace].class.RelationNames(), ", ") + ".")
		}
		return err
	}
	node, ok := sc.expandNode(*tree)
	if !ok {
		return apierror.New(http.StatusNotFound, "keto_not_found", "Nothing to expand.")
	}
	return httpjson.Write(w, http.StatusOK, node)
}

// expandNode maps a Keto expand tree back to the tenant's names, leaving
// out anything that is not the tenant's (there should be nothing: every
// subject set the tenant wrote points into its own space).
func (sc *scope) expandNode(n client.ExpandedPermissionTree) (ExpandNode, bool) {
	out := ExpandNode{Type: n.Type}
	if n.Tuple != nil {
		t, ok := sc.expandTuple(*n.Tuple)
		if !ok {
			return out, false
		}
		out.Tuple = &t
	}
	for _, c := range n.Children {
		if child, ok := sc.expandNode(c); ok {
			out.Children = append(out.Children, child)
		}
	}
	return out, true
}

// expandTuple is fromKeto for expand's tuples, whose namespace, object and
// relation may be empty (leaves carry only a subject).
func (sc *scope) expandTuple(r client.Relationship) (Tuple, bool) {
	t := Tuple{Relation: r.Relation, SubjectID: r.SubjectId}
	if r.Namespace != "" {
		ns, ok := sc.model.byKeto[r.Namespace]
		if !ok {
			return t, false
		}
		t.Namespace = ns.visible
	}
	if r.Object != "" {
		obj, ok := strings.CutPrefix(r.Object, sc.prefix)
		if !ok {
			return t, false
		}
		t.Object = obj
	}
	if ss := r.SubjectSet; ss != nil {
		ns, ok1 := sc.model.byKeto[ss.Namespace]
		obj, ok2 := strings.CutPrefix(ss.Object, sc.prefix)
		if !ok1 || !ok2 {
			return t, false
		}
		t.SubjectSet = &SubjectSet{Namespace: ns.visible, Object: obj, Relation: ss.Relation}
	}
	return t, true
}
