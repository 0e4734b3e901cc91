// Package httpjson reads JSON request bodies strictly and writes JSON
// responses, turning every malformed body into the API's one error shape.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
)

// Decode reads one JSON object into v. It requires Content-Type
// application/json (which also forces browsers to preflight cross-origin
// posts), rejects unknown fields and trailing data, and maps the body limit
// to 413.
func Decode(r *http.Request, v any) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return apierror.New(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"The request body must be JSON.").WithHint("Send Content-Type: application/json.")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON, "The body must contain a single JSON object.")
	}
	return nil
}

func decodeError(err error) *apierror.Error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge,
			fmt.Sprintf("The body is larger than %d bytes.", tooBig.Limit))
	case errors.Is(err, io.EOF):
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON, "The body is empty; a JSON object is expected.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON, "The body is not valid JSON.")
	case errors.As(err, &typeErr):
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON,
			fmt.Sprintf("Field %q must be of type %s.", typeErr.Field, typeErr.Type)).
			WithDetails(map[string]any{"fields": map[string][]string{typeErr.Field: {"must be " + typeErr.Type.String()}}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON, fmt.Sprintf("Unknown field %q.", field)).
			WithDetails(map[string]any{"fields": map[string][]string{field: {"unknown field"}}})
	}
	return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON, "The body could not be read as JSON.")
}

// Write sends v as JSON with the given status.
func Write(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// Invalid is a 422 with per-field messages.
func Invalid(message string, fields map[string][]string) *apierror.Error {
	return apierror.New(http.StatusUnprocessableEntity, "validation_failed", message).
		WithDetails(map[string]any{"fields": fields})
}
