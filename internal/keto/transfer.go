package keto

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
)

// Routes (internal/server/routes.go):
//
//	POST /api/keto/relation-tuples/import  Import
//	GET  /api/keto/relation-tuples/export  Export

type importRequest struct {
	RelationTuples []Tuple `json:"relation_tuples"`
}

type importResult struct {
	Imported int `json:"imported"`
	Existing int `json:"existing"`
}

// Import answers POST /api/keto/relation-tuples/import {"relation_tuples":
// [...]} (at most 500, the shape export produces). All or nothing: every
// tuple is validated first (400 naming relation_tuples[i].field), then the
// new ones are written in one Keto transaction (PATCH
// /admin/relation-tuples). Tuples that already exist are counted, not
// duplicated.
func (s *Service) Import(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	var req importRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if len(req.RelationTuples) == 0 || len(req.RelationTuples) > MaxImport {
		return badRequest("relation_tuples", "must hold 1 to %d tuples, got %d", MaxImport, len(req.RelationTuples))
	}
	errs := fieldErrors{}
	for i, t := range req.RelationTuples {
		sc.validate(t, forWrite, "relation_tuples["+strconv.Itoa(i)+"].", errs)
	}
	if err := invalid(errs); err != nil {
		return err
	}
	unique := dedupe(sc, req.RelationTuples)
	exists := make([]bool, len(unique))
	failures := make([]error, len(unique))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, t := range unique {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			exists[i], failures[i] = s.exists(r.Context(), sc, sc.toKeto(t))
		})
	}
	wg.Wait()
	var fresh []Tuple
	for i, t := range unique {
		if failures[i] != nil {
			return failures[i]
		}
		if !exists[i] {
			fresh = append(fresh, t)
		}
	}
	if err := s.patch(r.Context(), sc, fresh, nil); err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, importResult{Imported: len(fresh), Existing: len(req.RelationTuples) - len(fresh)})
}

// dedupe drops repeated tuples, keeping the first.
func dedupe(sc *scope, in []Tuple) []Tuple {
	seen := map[string]bool{}
	var out []Tuple
	for _, t := range in {
		rel := sc.toKeto(t)
		key := rel.Namespace + "\x00" + rel.Object + "\x00" + rel.Relation + "\x00"
		if rel.SubjectId != nil {
			key += "id\x00" + *rel.SubjectId
		} else {
			key += "set\x00" + rel.SubjectSet.Namespace + "\x00" + rel.SubjectSet.Object + "\x00" + rel.SubjectSet.Relation
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	return out
}

// Export answers GET /api/keto/relation-tuples/export[?namespace=...]
// with every tuple of the tenant, {"relation_tuples": [...]}, the body
// Import takes (in parts of 500). Beyond 10000 tuples it refuses: use the
// paginated list.
func (s *Service) Export(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	f, err := sc.parseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	tuples, next, err := s.scan(r.Context(), sc, sc.scopedQuery(f), MaxExport+1, "", 1<<20, 1000)
	if err != nil {
		return err
	}
	if len(tuples) > MaxExport || next != "" {
		return apierror.New(http.StatusUnprocessableEntity, "too_many_tuples",
			"This tenant has more than 10000 matching tuples: too many for one export.").
			WithHint("Export one namespace at a time (?namespace=...), or page through GET /api/keto/relation-tuples.")
	}
	return httpjson.Write(w, http.StatusOK, tuplePage{RelationTuples: tuples})
}
