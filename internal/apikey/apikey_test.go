package apikey_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type keyJSON struct {
	ID         string     `json:"id"`
	KeyType    string     `json:"key_type"`
	Label      string     `json:"label"`
	Prefix     string     `json:"prefix"`
	Key        string     `json:"key"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func v1(t *testing.T, base, method, path, key string, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("x-api-key", key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

func signUp(t *testing.T, base string) *testenv.Browser {
	b := testenv.NewBrowser(t, base)
	b.Do("GET", "/api/auth/login", nil, nil)
	email := "k-" + strings.ToLower(rand.Text()[:10]) + "@example.com"
	if resp := b.Do("POST", "/api/auth/register", map[string]any{"email": email, "password": "a long passphrase 12345"}, nil); resp.StatusCode != 200 {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	return b
}

func TestKeyLifecycle(t *testing.T) {
	srv, cfg := testenv.Server(t, map[string]string{"TRUSS_AUTH_REQUIRED": "true"})
	_ = cfg
	b := signUp(t, srv.URL)
	// Not signed in: 401; without CSRF header: 403.
	if resp := testenv.NewBrowser(t, srv.URL).Do("GET", "/api/keys", nil, nil); resp.StatusCode != 401 {
		t.Errorf("anonymous list: %d", resp.StatusCode)
	}
	// A non-admin may create anon keys, not service_role keys.
	var k keyJSON
	if resp := b.Do("POST", "/api/keys", map[string]any{"key_type": "anon", "label": "web app"}, &k); resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if !strings.HasPrefix(k.Key, "truss_pk_") || len(k.Key) != 35 || !strings.HasPrefix(k.Key, k.Prefix) || k.Label != "web app" {
		t.Fatalf("created key: %+v", k)
	}
	if resp := b.Do("POST", "/api/keys", map[string]any{"key_type": "service_role"}, nil); resp.StatusCode != 403 {
		t.Errorf("non-admin service_role key: %d", resp.StatusCode)
	}
	if resp := b.Do("POST", "/api/keys", map[string]any{"key_type": "root"}, nil); resp.StatusCode != 422 {
		t.Errorf("bad key_type: %d", resp.StatusCode)
	}
	// Listed by prefix and label, never with the secret.
	var list struct {
		Keys []json.RawMessage `json:"keys"`
	}
	b.Do("GET", "/api/keys", nil, &list)
	if len(list.Keys) != 1 || strings.Contains(string(list.Keys[0]), k.Key) || !strings.Contains(string(list.Keys[0]), k.Prefix) {
		t.Fatalf("list: %s", list.Keys)
	}
	// The key works on /v1 (a 404 for an unknown table proves it passed auth).
	if resp, body := v1(t, srv.URL, "GET", "/v1/db/nothing", k.Key, ""); resp.StatusCode != 404 {
		t.Fatalf("use: %d %s", resp.StatusCode, body)
	}
	// last_used_at is recorded (in the background).
	deadline := time.Now().Add(3 * time.Second)
	for {
		var l struct{ Keys []keyJSON }
		b.Do("GET", "/api/keys", nil, &l)
		if l.Keys[0].LastUsedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("last_used_at never set")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Rotate: the new key works, the old one stops at once.
	var rotated keyJSON
	if resp := b.Do("POST", "/api/keys/"+k.ID+"/rotate", nil, &rotated); resp.StatusCode != 201 || rotated.Key == "" || rotated.Key == k.Key {
		t.Fatalf("rotate: %d %+v", resp.StatusCode, rotated)
	}
	if resp, _ := v1(t, srv.URL, "GET", "/v1/db/nothing", k.Key, ""); resp.StatusCode != 401 {
		t.Errorf("old key after rotation: %d", resp.StatusCode)
	}
	if resp, _ := v1(t, srv.URL, "GET", "/v1/db/nothing", rotated.Key, ""); resp.StatusCode != 404 {
		t.Errorf("rotated key: %d", resp.StatusCode)
	}
	if resp := b.Do("POST", "/api/keys/"+k.ID+"/rotate", nil, nil); resp.StatusCode != 409 {
		t.Errorf("rotating a revoked key: %d", resp.StatusCode)
	}
	// Revoke: immediate, even though the key was just cached.
	if resp := b.Do("DELETE", "/api/keys/"+rotated.ID, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := v1(t, srv.URL, "GET", "/v1/db/nothing", rotated.Key, ""); resp.StatusCode != 401 {
		t.Errorf("revoked key: %d", resp.StatusCode)
	}
	// Another account cannot see or revoke this tenant's keys.
	other := signUp(t, srv.URL)
	if resp := other.Do("DELETE", "/api/keys/"+k.ID, nil, nil); resp.StatusCode != 404 {
		t.Errorf("other tenant revoke: %d", resp.StatusCode)
	}
	var ol struct{ Keys []keyJSON }
	other.Do("GET", "/api/keys", nil, &ol)
	if len(ol.Keys) != 0 {
		t.Errorf("other tenant sees %d keys", len(ol.Keys))
	}
	if resp := b.Do("DELETE", "/api/keys/not-a-uuid", nil, nil); resp.StatusCode != 400 {
		t.Errorf("bad id: %d", resp.StatusCode)
	}
}

func TestV1KeysAndRateLimit(t *testing.T) {
	// TRUSS_AUTH_REQUIRED=false serves every request as the local admin.
	srv2, _ := testenv.Server(t, map[string]string{"API_KEY_RATE_LIMIT": "5", "TRUSS_AUTH_REQUIRED": "false"})
	b := testenv.NewBrowser(t, srv2.URL)
	b.Do("GET", "/api/keys", nil, nil) // CSRF cookie
	var sk keyJSON
	if resp := b.Do("POST", "/api/keys", map[string]any{"key_type": "service_role", "label": "server"}, &sk); resp.StatusCode != 201 ||
		!strings.HasPrefix(sk.Key, "truss_sk_") {
		t.Fatalf("admin service_role key: %d %+v", resp.StatusCode, sk)
	}
	// /v1/keys with the service_role key.
	resp, body := v1(t, srv2.URL, "POST", "/v1/keys", sk.Key, `{"key_type":"anon","label":"from v1"}`)
	var ak keyJSON
	_ = json.Unmarshal(body, &ak)
	if resp.StatusCode != 201 || !strings.HasPrefix(ak.Key, "truss_pk_") {
		t.Fatalf("v1 create: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-RateLimit-Limit") != "5" || resp.Header.Get("X-RateLimit-Remaining") != "4" || resp.Header.Get("X-RateLimit-Reset") == "" {
		t.Errorf("rate limit headers: %v", resp.Header)
	}
	if resp, body := v1(t, srv2.URL, "GET", "/v1/keys", ak.Key, ""); resp.StatusCode != 403 {
		t.Errorf("anon key on /v1/keys: %d %s", resp.StatusCode, body)
	}
	for range 4 {
		v1(t, srv2.URL, "GET", "/v1/keys", sk.Key, "")
	}
	resp, body = v1(t, srv2.URL, "GET", "/v1/keys", sk.Key, "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over the limit: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// Limits are per key: the anon key still has its budget.
	if resp, _ := v1(t, srv2.URL, "GET", "/v1/db/nothing", ak.Key, ""); resp.StatusCode != 404 {
		t.Errorf("other key limited too: %d", resp.StatusCode)
	}
	_ = context.Background()
}
