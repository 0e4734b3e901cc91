package demo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/apikey"
)

func demoRequest(t *testing.T, h *Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.AddCookie(&http.Cookie{Name: CookieName, Value: h.newToken()})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON: %v", method, path, w.Code, w.Body.String(), err)
	}
	return w.Code, out
}

func TestCheckAnswersFromTheSeed(t *testing.T) {
	h := New(Options{})
	for _, c := range []struct {
		body    string
		allowed bool
	}{
		{`{"namespace":"Organization","object":"acme","relation":"owners","subject_id":"demo@example.com"}`, true},
		{`{"namespace":"Organization","object":"acme","relation":"view","subject_id":"barbara@example.com"}`, true},
		{`{"namespace":"Organization","object":"acme","relation":"edit","subject_id":"barbara@example.com"}`, false},
		// editors is Organization:acme#members; grace is one.
		{`{"namespace":"Project","object":"apollo","relation":"edit","subject_id":"grace@example.com"}`, true},
		// the organization's managers manage its projects.
		{`{"namespace":"Project","object":"gemini","relation":"manage","subject_id":"katherine@example.com"}`, true},
		{`{"namespace":"Project","object":"gemini","relation":"delete","subject_id":"katherine@example.com"}`, false},
		// Globex's hyperion: Acme's members may view it, not edit it.
		{`{"namespace":"Project","object":"hyperion","relation":"view","subject_id":"ada@example.com"}`, true},
		{`{"namespace":"Project","object":"hyperion","relation":"edit","subject_id":"ada@example.com"}`, false},
		{`{"namespace":"Project","object":"hyperion","relation":"delete","subject_id":"grace@example.com"}`, true},
		{`{"namespace":"Project","object":"apollo","relation":"editors","subject_set":{"namespace":"Organization","object":"acme","relation":"members"}}`, true},
		{`{"namespace":"Project","object":"nope","relation":"view","subject_id":"ada@example.com"}`, false},
	} {
		code, out := demoRequest(t, h, http.MethodPost, "/demo/api/keto/check", c.body)
		if code != http.StatusOK || out["allowed"] != c.allowed {
			t.Errorf("check %s answered %d %v, want allowed=%v", c.body, code, out, c.allowed)
		}
	}
	code, out := demoRequest(t, h, http.MethodPost, "/demo/api/keto/check", `{"namespace":"TrussTenant","object":"x","relation":"view","subject_id":"a"}`)
	if code != http.StatusUnprocessableEntity {
		t.Errorf("a check on TrussTenant answered %d %v, want 422", code, out)
	}
}

func TestOnlyTheCheckMayPost(t *testing.T) {
	h := New(Options{})
	for _, c := range []struct{ method, path string }{
		{http.MethodPut, "/demo/api/keto/relation-tuples"},
		{http.MethodDelete, "/demo/api/keto/relation-tuples"},
		{http.MethodPost, "/demo/api/keto/relation-tuples/import"},
		{http.MethodPost, "/demo/api/keto/check/"},
		{http.MethodPost, "/demo/api/keto/model/check"},
		{http.MethodPut, "/demo/api/keto/check"},
		{http.MethodPost, "/demo/api/hydra/clients"},
		{http.MethodPost, "/demo/api/keys"},
		{http.MethodDelete, "/demo/api/keys/5c0e7a31-6d2b-4f8e-9a14-0000000de701"},
		{http.MethodPost, "/demo/api/keys/5c0e7a31-6d2b-4f8e-9a14-0000000de701/rotate"},
		{http.MethodPost, "/demo/api/settings/smtp/test"},
		{http.MethodPut, "/demo/api/settings/smtp"},
		{http.MethodDelete, "/demo/api/auth/sessions"},
		{http.MethodPost, "/demo/keto/check"},
	} {
		code, out := demoRequest(t, h, c.method, c.path, `{}`)
		if e, _ := out["error"].(map[string]any); code != http.StatusForbidden || e["code"] != CodeReadOnly {
			t.Errorf("%s %s answered %d %v, want 403 %s", c.method, c.path, code, out, CodeReadOnly)
		}
	}
}

func TestSeededSections(t *testing.T) {
	h := New(Options{})
	code, out := demoRequest(t, h, http.MethodGet, "/demo/api/keto/relation-tuples?namespace=Project&page_size=3", "")
	tuples, _ := out["relation_tuples"].([]any)
	if code != http.StatusOK || len(tuples) != 3 || out["next_page_token"] != "3" {
		t.Fatalf("tuples answered %d %v", code, out)
	}
	code, out = demoRequest(t, h, http.MethodGet, "/demo/api/keto/relation-tuples?namespace=Project&page_size=3&page_token=6", "")
	if tuples, _ = out["relation_tuples"].([]any); code != http.StatusOK || len(tuples) != 2 || out["next_page_token"] != "" {
		t.Fatalf("the last page answered %d %v", code, out)
	}
	code, out = demoRequest(t, h, http.MethodGet, "/demo/api/keto/namespaces", "")
	var names []string
	ns, _ := out["namespaces"].([]any)
	for _, n := range ns {
		names = append(names, n.(map[string]any)["name"].(string))
	}
	if code != http.StatusOK || strings.Join(names, ",") != "User,Organization,Project" {
		t.Errorf("namespaces answered %d %v", code, out)
	}
	code, out = demoRequest(t, h, http.MethodGet, "/demo/api/keto/expand?namespace=Project&object=apollo&relation=editors", "")
	if b, _ := json.Marshal(out); code != http.StatusOK || !strings.Contains(string(b), "grace@example.com") {
		t.Errorf("expand answered %d %s", code, b)
	}

	code, out = demoRequest(t, h, http.MethodGet, "/demo/api/settings/smtp", "")
	if code != http.StatusOK || out["password_set"] != false || out["host"] == "" {
		t.Errorf("smtp settings answered %d %v", code, out)
	}
	if _, ok := out["password"]; ok {
		t.Errorf("smtp settings carry a password: %v", out)
	}
	code, out = demoRequest(t, h, http.MethodGet, "/demo/api/email/outbox?limit=2", "")
	msgs, _ := out["messages"].([]any)
	if code != http.StatusOK || len(msgs) != 2 || out["next_before"] != float64(4) {
		t.Errorf("outbox answered %d %v", code, out)
	}
	code, out = demoRequest(t, h, http.MethodGet, "/demo/api/email/outbox?status=failed", "")
	if msgs, _ = out["messages"].([]any); code != http.StatusOK || len(msgs) != 1 {
		t.Errorf("failed outbox answered %d %v", code, out)
	}
	code, out = demoRequest(t, h, http.MethodGet, "/demo/api/auth/sessions", "")
	ss, _ := out["sessions"].([]any)
	if code != http.StatusOK || len(ss) != 1 || ss[0].(map[string]any)["current"] != true {
		t.Errorf("sessions answered %d %v", code, out)
	}
}

func TestClientsHaveNoSecret(t *testing.T) {
	h := New(Options{})
	for _, c := range h.seedClients("t") {
		b, _ := json.Marshal(c)
		if strings.Contains(string(b), "secret\":") {
			t.Errorf("a demo client carries a secret: %s", b)
		}
	}
}

// TestKeysHaveNoSecret: the demo's API keys are listed like GET /api/keys
// (prefixes only, never a key), with an active and a revoked one.
func TestKeysHaveNoSecret(t *testing.T) {
	h := New(Options{})
	keys := h.seedKeys("t")
	active, revoked := 0, 0
	for _, k := range keys {
		b, _ := json.Marshal(k)
		if strings.Contains(string(b), `"key":`) || len(k.Prefix) != len(apikey.PrefixAnon)+6 {
			t.Errorf("a demo key carries a secret or a full key: %s", b)
		}
		if k.RevokedAt == nil {
			active++
		} else {
			revoked++
		}
	}
	if active == 0 || revoked == 0 {
		t.Errorf("the demo keys are %d active and %d revoked, want some of each", active, revoked)
	}
}
