package keto

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/keto/opl"
	"github.com/trussdev/truss/internal/ory"
)

// invalid is the 400 for malformed tuples and queries; its message names
// the fields, details.fields says what is wrong with each.
func invalid(errs fieldErrors) error {
	if len(errs) == 0 {
		return nil
	}
	fields := make([]string, 0, len(errs))
	for f := range errs {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	msg := "Invalid field " + fields[0] + ": " + errs[fields[0]][0] + "."
	if len(fields) > 1 {
		msg = "Invalid fields " + strings.Join(fields, ", ") + "; " + fields[0] + ": " + errs[fields[0]][0] + "."
	}
	return apierror.New(http.StatusBadRequest, "invalid_tuple", msg).
		WithHint("Tuples use Keto's shape: namespace, object, relation, and subject_id or subject_set {namespace, object, relation}; GET /api/keto/namespaces lists the namespaces and relations.").
		WithDetails(map[string]any{"fields": map[string][]string(errs)})
}

func badRequest(field, format string, args ...any) error {
	fe := fieldErrors{}
	fe.add(field, format, args...)
	return invalid(fe)
}

// fromKetoCall turns the outcome of a Keto SDK call into an API error: 503
// or 502 naming the endpoint when Keto itself failed, and for a 4xx, Keto's
// reason with the tenant's internal names stripped.
func (sc *scope) fromKetoCall(ep *ory.Endpoint, err error, resp *http.Response) error {
	if e := ep.Check(err, resp); e != nil {
		return e
	}
	if err == nil {
		return nil
	}
	if resp == nil || resp.StatusCode < 400 {
		return err
	}
	reason := ketoReason(err)
	if sc != nil {
		reason = strings.ReplaceAll(reason, sc.prefix, "")
		reason = strings.ReplaceAll(reason, opl.TenantNamespacePrefix(sc.tenant), "")
	}
	if resp.StatusCode == http.StatusNotFound {
		return apierror.New(http.StatusNotFound, "keto_not_found", "Ory Keto: "+reason)
	}
	return apierror.New(http.StatusBadRequest, "keto_rejected", "Ory Keto refused the request: "+reason)
}

// ketoReason reads Keto's error body: {"error": {"reason", "message"}} or
// {"message"}.
func ketoReason(err error) string {
	var oe *client.GenericOpenAPIError
	if !errors.As(err, &oe) {
		return "unexpected answer"
	}
	var body struct {
		Error *struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(oe.Body(), &body) != nil {
		return "unexpected answer"
	}
	switch {
	case body.Error != nil && body.Error.Reason != "":
		return body.Error.Reason
	case body.Error != nil:
		return body.Error.Message
	case body.Message != "":
		return body.Message
	}
	return "unexpected answer"
}
