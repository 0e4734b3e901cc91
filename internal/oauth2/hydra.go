package oauth2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/ory"
)

// hydraError is the body of Hydra's 4xx answers (and of its 410 "already
// handled" answers, which carry redirect_to).
type hydraError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	RedirectTo  string `json:"redirect_to"`
}

// reply is a non-2xx answer of Hydra that says something about the request
// (a 4xx); 5xx and unreachable servers are API errors already.
type reply struct {
	Status int
	Body   hydraError
}

// callReply sends a request to one of Hydra's APIs. A JSON body is sent
// when body is non-nil (url.Values are sent as a form). A 2xx JSON answer is
// decoded into out (when non-nil); a 4xx answer is returned as *reply with
// Hydra's error body. Errors are API errors naming Hydra and its variable
// (503 unreachable or timed out, 502 invalid answer).
func callReply(ctx context.Context, ep *ory.Endpoint, method, path string, query url.Values, body, out any) (int, *reply, error) {
	status, _, rep, err := exchange(ctx, ep, method, path, query, body, out)
	return status, rep, err
}

// exchange is callReply that also returns the answer's headers.
func exchange(ctx context.Context, ep *ory.Endpoint, method, path string, query url.Values, body, out any) (int, http.Header, *reply, error) {
	if err := ep.Require(); err != nil {
		return 0, nil, nil, err
	}
	u := ep.URL.JoinPath(path)
	u.RawQuery = query.Encode()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, err
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	return do(ep, req, out)
}

// do runs a prepared request (see exchange).
func do(ep *ory.Endpoint, req *http.Request, out any) (int, http.Header, *reply, error) {
	resp, err := ep.HTTP.Do(req)
	if apiErr := ep.Check(err, resp); apiErr != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return 0, nil, nil, apiErr
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, nil, nil, ep.Check(err, nil)
	}
	if resp.StatusCode >= 300 {
		rep := &reply{Status: resp.StatusCode}
		_ = json.Unmarshal(raw, &rep.Body)
		return resp.StatusCode, resp.Header, rep, nil
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, nil, nil, ep.Check(fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err), resp)
		}
	}
	return resp.StatusCode, resp.Header, nil, nil
}

// unexpected is the 502 for a Hydra answer Truss has no meaning for (e.g. a
// 4xx to a request Truss built itself): Hydra and Truss disagree, or the
// URL is not Hydra's.
func unexpected(ep *ory.Endpoint, rep *reply) error {
	msg := "no answer"
	if rep != nil {
		msg = fmt.Sprintf("%d %s: %s", rep.Status, rep.Body.Error, rep.Body.Description)
	}
	return ep.Check(fmt.Errorf("unexpected answer %s", msg),
		&http.Response{StatusCode: http.StatusBadGateway, Status: "502 unexpected answer (" + msg + ")"})
}

// writeJSON sends v as JSON (no-store: OAuth2 answers carry secrets).
func writeJSON(w http.ResponseWriter, status int, v any) error { return httpjson.Write(w, status, v) }

// badRequest is a 400 naming the fields at fault.
func badRequest(code, message string, fields map[string][]string) *apierror.Error {
	e := apierror.New(http.StatusBadRequest, code, message)
	if len(fields) > 0 {
		e = e.WithDetails(map[string]any{"fields": fields})
	}
	return e
}

// fieldError is a 400 invalid_request naming one field.
func fieldError(field, problem string) *apierror.Error {
	return badRequest("invalid_request", field+": "+problem, map[string][]string{field: {problem}})
}

// notFound is the 404 of an unknown (or another tenant's) resource.
func notFound(code, message string) *apierror.Error {
	return apierror.New(http.StatusNotFound, code, message)
}
