package keto

import (
	"context"
	"net/http"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/keto/opl"
)

// checkSyntax asks Keto's OPL API whether src is a valid namespace
// configuration, and returns its errors (none: valid).
func (s *Service) checkSyntax(ctx context.Context, src string) ([]opl.Error, error) {
	if !s.opl.Enabled() {
		return nil, apierror.New(http.StatusServiceUnavailable, "keto_opl_not_configured",
			"Custom permission models are off: Truss has no Ory Keto OPL API to validate them with.").
			WithHint("Set KETO_OPL_URL to Keto's OPL API (serve.opl in keto.yml, port 4469 by default).").
			WithDetails(map[string]any{"service": "keto", "env": "KETO_OPL_URL"})
	}
	res, resp, err := s.opl.API.RelationshipAPI.CheckOplSyntax(ctx).Body(src).Execute()
	if e := s.opl.Check(err, resp); e != nil {
		return nil, e
	}
	if err != nil || res == nil {
		return nil, &apierror.Error{Status: http.StatusBadGateway, Code: "keto_bad_gateway",
			Message: "Ory Keto's OPL API refused the syntax check.", Hint: "Check that KETO_OPL_URL points to Keto's OPL API.",
			Details: map[string]any{"service": "keto", "api": "opl", "env": "KETO_OPL_URL"}, Cause: err}
	}
	out := make([]opl.Error, 0, len(res.Errors))
	for _, e := range res.Errors {
		out = append(out, opl.Error{Message: e.GetMessage(), Start: position(e.Start), End: position(e.End)})
	}
	return out, nil
}

func position(p interface {
	GetLine() int64
	GetColumn() int64
}) opl.Position {
	return opl.Position{Line: int(p.GetLine()), Column: int(p.GetColumn())}
}
