package keto

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/keto/opl"
)

// Routes (internal/server/routes.go):
//
//	GET  /api/keto/model                              GetModel
//	PUT  /api/keto/model                              PutModel
//	POST /api/keto/model/check                        CheckModel
//	GET  /api/keto/model/versions                     ListModelVersions
//	GET  /api/keto/model/versions/{version}           GetModelVersion
//	POST /api/keto/model/versions/{version}/restore   RestoreModelVersion
//
// A tenant's custom model is OPL whose classes add namespaces to (or
// replace namespaces of) Truss's default model for that tenant alone. In
// Keto each class becomes "T<tenant id without dashes>_<class>", written
// into the tenant's section of KETO_NAMESPACES_FILE, which Keto reloads.

// ModelError is a problem in submitted OPL. Line counts from 1 and column
// from 0, as Keto reports them; source says who found it ("keto", or
// "truss" for Truss's own rules on names).
type ModelError struct {
	opl.Error
	Source string `json:"source"`
}

type modelCheck struct {
	Valid      bool         `json:"valid"`
	Errors     []ModelError `json:"errors"`
	Namespaces []string     `json:"namespaces"`
}

type modelResponse struct {
	ModelVersion
	// Loaded says whether Keto has loaded the model (it normally does
	// within a second; when false, it takes effect a moment later).
	Loaded bool `json:"loaded"`
}

// GetModel answers GET /api/keto/model: the active version (version 0 and
// "default": true for Truss's default model).
func (s *Service) GetModel(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	if sc.model.Version == 0 {
		return httpjson.Write(w, http.StatusOK, ModelVersion{Default: true, Active: true, OPL: ptr(""), Namespaces: []string{}})
	}
	v, err := s.getVersion(r.Context(), sc.tenant, sc.model.Version)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, v)
}

// CheckModel answers POST /api/keto/model/check: validates OPL (as PUT
// would) without saving it. 200 {"valid", "errors", "namespaces"}.
func (s *Service) CheckModel(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.scopeOf(r); err != nil {
		return err
	}
	src, err := readOPL(r)
	if err != nil {
		return err
	}
	doc, errs, err := s.validateOPL(r.Context(), src)
	if err != nil {
		return err
	}
	res := modelCheck{Valid: len(errs) == 0, Errors: errs, Namespaces: []string{}}
	if doc != nil && len(errs) == 0 {
		res.Namespaces = doc.Names()
	}
	return httpjson.Write(w, http.StatusOK, res)
}

// PutModel answers PUT /api/keto/model with OPL (text/plain, or JSON
// {"opl": "..."}); empty OPL returns to Truss's default model. Only the
// tenant's owners and admins may (Keto decides: see roles.go). Invalid OPL
// is a 422 whose details.errors carry Keto's line and column. A valid one
// becomes the next version and takes effect without restarting Keto.
func (s *Service) PutModel(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.modelWriter(r)
	if err != nil {
		return err
	}
	src, err := readOPL(r)
	if err != nil {
		return err
	}
	doc, errs, err := s.validateOPL(r.Context(), src)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidOPL(errs)
	}
	return s.activate(w, r, sc, src, doc, nil)
}

// ListModelVersions answers GET /api/keto/model/versions: the history,
// newest (active) first, without sources.
func (s *Service) ListModelVersions(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	vs, err := s.listVersions(r.Context(), sc.tenant)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []ModelVersion{}
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"versions": vs})
}

// GetModelVersion answers GET /api/keto/model/versions/{version}, source
// included.
func (s *Service) GetModelVersion(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.scopeOf(r)
	if err != nil {
		return err
	}
	n, err := versionParam(r)
	if err != nil {
		return err
	}
	v, err := s.getVersion(r.Context(), sc.tenant, n)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, v)
}

// RestoreModelVersion answers POST /api/keto/model/versions/{version}/restore:
// the old source, validated again, becomes a new version.
func (s *Service) RestoreModelVersion(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.modelWriter(r)
	if err != nil {
		return err
	}
	n, err := versionParam(r)
	if err != nil {
		return err
	}
	old, err := s.getVersion(r.Context(), sc.tenant, n)
	if err != nil {
		return err
	}
	doc, errs, err := s.validateOPL(r.Context(), *old.OPL)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalidOPL(errs)
	}
	return s.activate(w, r, sc, *old.OPL, doc, &n)
}

// modelWriter is scopeOf for requests that change the model: custom models
// must be enabled and the caller must manage the tenant.
func (s *Service) modelWriter(r *http.Request) (*scope, error) {
	sc, err := s.scopeOf(r)
	if err != nil {
		return nil, err
	}
	if s.nsFile == nil {
		return nil, apierror.New(http.StatusServiceUnavailable, "keto_namespaces_file_not_configured",
			"Custom permission models are off on this server: Truss has no namespaces file to give Keto.").
			WithHint("Set KETO_NAMESPACES_FILE to the file keto.yml's namespaces.location names (writable by Truss), and KETO_OPL_URL.").
			WithDetails(map[string]any{"service": "keto", "env": "KETO_NAMESPACES_FILE"})
	}
	return sc, s.requireModelAdmin(r.Context(), sc)
}

// activate saves src as the tenant's next version, writes it into the
// namespaces file (inside the transaction: a failed write saves nothing)
// and waits for Keto to load it.
func (s *Service) activate(w http.ResponseWriter, r *http.Request, sc *scope, src string, doc *opl.Doc, restoredFrom *int) error {
	ctx := r.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var names []string
	if doc != nil {
		names = doc.Names()
	}
	version, err := insertVersion(ctx, tx, sc.tenant, src, names, sc.principal.IdentityID, restoredFrom)
	if err != nil {
		return err
	}
	m := buildModel(sc.tenant, version, src, doc)
	rev, err := s.nsFile.update(ctx, sc.tenant, m)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s.models.put(sc.tenant, m)
	s.log.Info("keto: tenant model changed", "tenant_id", sc.tenant, "version", version, "namespaces", names,
		"restored_from", restoredFrom, "file_revision", rev)
	loaded, err := s.waitLoaded(ctx, rev)
	if err != nil {
		return err
	}
	v, err := s.getVersion(ctx, sc.tenant, version)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !loaded {
		status = http.StatusAccepted
	}
	return httpjson.Write(w, status, modelResponse{ModelVersion: v, Loaded: loaded})
}

// validateOPL checks a tenant's OPL: Keto's syntax and type check first (on
// the tenant's text followed by the defaults it may refer to), then
// Truss's rules on names. Empty OPL is valid (the default model).
func (s *Service) validateOPL(ctx context.Context, src string) (*opl.Doc, []ModelError, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil, nil
	}
	pre, _ := opl.Parse(src)
	full, firstDefault := opl.ValidationSource(src, pre.Names())
	kerrs, err := s.checkSyntax(ctx, full)
	if err != nil {
		return nil, nil, err
	}
	end := opl.EndPosition(src)
	var errs []ModelError
	for _, e := range kerrs {
		if e.Start.Line >= firstDefault-1 {
			// Past the tenant's text (e.g. a missing "}" runs into the
			// appended defaults; Keto puts a token that starts a line at
			// the end of the line before, the blank separator line):
			// point at the end of the tenant's text.
			e.Message += " (at the end of your model)"
			e.Start, e.End = end, end
		}
		errs = append(errs, ModelError{Error: e, Source: "keto"})
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	doc, perrs := opl.Parse(src)
	perrs = append(perrs, opl.CheckTenantRules(doc)...)
	if len(perrs) == 0 && len(doc.Classes) == 0 {
		perrs = append(perrs, opl.Error{Message: "the model declares no namespace (class Name implements Namespace { ... })",
			Start: opl.Position{Line: 1}, End: end})
	}
	for _, e := range perrs {
		errs = append(errs, ModelError{Error: e, Source: "truss"})
	}
	return doc, errs, nil
}

func invalidOPL(errs []ModelError) error {
	first := errs[0]
	return apierror.New(http.StatusUnprocessableEntity, "invalid_opl",
		"The model is not valid OPL: line "+strconv.Itoa(first.Start.Line)+", column "+strconv.Itoa(first.Start.Column)+": "+first.Message+".").
		WithHint("details.errors lists every problem (line from 1, column from 0, as Ory Keto reports them); POST /api/keto/model/check validates without saving.").
		WithDetails(map[string]any{"errors": errs})
}

// readOPL reads the model from a text/plain body or JSON {"opl": "..."}.
func readOPL(r *http.Request) (string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var src string
	switch mt {
	case "text/plain":
		b, err := io.ReadAll(io.LimitReader(r.Body, opl.MaxSourceSize+1))
		if err != nil {
			return "", apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "The body could not be read.")
		}
		src = string(b)
	case "application/json":
		var body struct {
			OPL *string `json:"opl"`
		}
		if err := httpjson.Decode(r, &body); err != nil {
			return "", err
		}
		if body.OPL == nil {
			return "", badRequest("opl", "is required (an empty string returns to the default model)")
		}
		src = *body.OPL
	default:
		return "", apierror.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the model as text/plain, or as JSON {\"opl\": \"...\"}.")
	}
	if len(src) > opl.MaxSourceSize {
		return "", apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge, "A model may be at most 64 KiB of OPL.")
	}
	return src, nil
}

func versionParam(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		return 0, badRequest("version", "must be a positive integer")
	}
	return n, nil
}
