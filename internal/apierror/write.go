package apierror

import (
	"encoding/json"
	"net/http"
)

type envelope struct {
	Error body `json:"error"`
}

type body struct {
	*Error
	RequestID string `json:"request_id,omitempty"`
}

// Write sends e as the JSON error envelope.
func Write(w http.ResponseWriter, e *Error, requestID string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(envelope{Error: body{Error: e, RequestID: requestID}})
}
