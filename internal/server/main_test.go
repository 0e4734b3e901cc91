package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// apiError is the API's error envelope.
type apiError testenv.APIError

type healthReport struct {
	Status       string   `json:"status"`
	Failing      []string `json:"failing"`
	Error        *struct{ Code, Message string }
	Dependencies map[string]struct {
		Status    string  `json:"status"`
		Required  bool    `json:"required"`
		LatencyMS float64 `json:"latency_ms"`
		Version   string  `json:"version"`
		Error     string  `json:"error"`
	} `json:"dependencies"`
}

// get performs a request and decodes a JSON body into out.
func do(t *testing.T, req *http.Request, out any) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: status %d, body is not JSON: %v\n%s", req.Method, req.URL, resp.StatusCode, err, body)
		}
	}
	return resp
}

func get(t *testing.T, url string, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return do(t, req, out)
}
