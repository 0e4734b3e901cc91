package oauth2_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestClientLifecycle: create, list, get, update (PUT keeps the secret),
// token lifespans, delete.
func TestClientLifecycle(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	u := s.newUser()
	c := u.client(map[string]any{"client_name": "App", "redirect_uris": []string{"https://app.example.com/cb", "http://localhost:3000/cb"},
		"grant_types": []string{"authorization_code", "refresh_token", "client_credentials"}, "scope": "openid offline_access",
		"metadata": map[string]any{"team": "web"}, "client_secret": "a-chosen-secret-of-enough-length"})
	id := str(c, "client_id")
	if str(c, "client_secret") != "a-chosen-secret-of-enough-length" {
		t.Fatalf("create: %v", c)
	}
	meta, _ := c["metadata"].(map[string]any)
	if meta["team"] != "web" || meta["truss_tenant_id"] != u.p.TenantID || c["owner"] != u.p.TenantID {
		t.Fatalf("metadata %v, owner %v: want the caller's and the tenant %s", meta, c["owner"], u.p.TenantID)
	}

	var list struct {
		Clients []map[string]any `json:"clients"`
	}
	u.Do("GET", "/api/hydra/clients", nil, &list)
	if len(list.Clients) != 1 || str(list.Clients[0], "client_id") != id {
		t.Fatalf("list: %v", list.Clients)
	}
	if _, ok := list.Clients[0]["client_secret"]; ok {
		t.Fatal("list shows a secret")
	}

	// PUT the client as GET returned it, with changes: Hydra's PUT semantics.
	var got map[string]any
	u.Do("GET", "/api/hydra/clients/"+id, nil, &got)
	got["client_name"] = "App v2"
	got["redirect_uris"] = []string{"https://app.example.com/callback"}
	var put map[string]any
	if resp := u.Do("PUT", "/api/hydra/clients/"+id, got, &put); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %v", resp.StatusCode, put)
	}
	if put["client_name"] != "App v2" || put["client_secret"] != nil {
		t.Fatalf("PUT answered %v", put)
	}
	if _, status := s.token(id, "a-chosen-secret-of-enough-length", url.Values{"grant_type": {"client_credentials"}}); status != 200 {
		t.Fatalf("the secret does not work after PUT: %d", status)
	}

	// Per-client token lifespans.
	var ls map[string]any
	if resp := u.Do("PUT", "/api/hydra/clients/"+id+"/lifespans",
		map[string]any{"client_credentials_grant_access_token_lifespan": "90s", "authorization_code_grant_refresh_token_lifespan": "720h"}, &ls); resp.StatusCode != 200 {
		t.Fatalf("lifespans: %d %v", resp.StatusCode, ls)
	}
	if ls["client_credentials_grant_access_token_lifespan"] != "1m30s" && ls["client_credentials_grant_access_token_lifespan"] != "90s" {
		t.Errorf("lifespan = %v", ls["client_credentials_grant_access_token_lifespan"])
	}
	tr, _ := s.token(id, "a-chosen-secret-of-enough-length", url.Values{"grant_type": {"client_credentials"}})
	if tr.ExpiresIn > 90 || tr.ExpiresIn < 60 {
		t.Errorf("expires_in = %d, want the 90s lifespan", tr.ExpiresIn)
	}
	u.expectError("PUT", "/api/hydra/clients/"+id+"/lifespans", map[string]any{"client_credentials_grant_access_token_lifespan": "forever"}, 400, "invalid_client_metadata")
	u.expectError("PUT", "/api/hydra/clients/"+id+"/lifespans", map[string]any{"client_name": "x"}, 400, "invalid_client_metadata")

	if resp := u.Do("DELETE", "/api/hydra/clients/"+id, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	// Every change is in the audit log, with tenant and client.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var actions []string
	rows, _ := conn.Query(ctx, `SELECT action FROM truss_internal.audit_events WHERE subject = $1 AND tenant_id = $2 AND actor_id = $3 ORDER BY id`,
		id, u.p.TenantID, u.p.IdentityID)
	actions, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"oauth2_client_create", "oauth2_client_update", "oauth2_client_lifespans", "oauth2_client_delete"}; !slices.Equal(actions, want) {
		t.Errorf("audit events %v, want %v", actions, want)
	}
	u.expectError("GET", "/api/hydra/clients/"+id, nil, 404, "client_not_found")
	u.expectError("DELETE", "/api/hydra/clients/"+id, nil, 404, "client_not_found")
	if _, status := s.token(id, "a-chosen-secret-of-enough-length", url.Values{"grant_type": {"client_credentials"}}); status != 401 {
		t.Errorf("a deleted client still gets tokens: %d", status)
	}
}

// TestCrossTenantClients: tenant B, hostile, aims every client endpoint at
// tenant A's client and token. Every attempt is refused and A's client and
// token are unchanged.
func TestCrossTenantClients(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	a, b := s.newUser(), s.newUser()
	c := a.client(map[string]any{"client_name": "A's app", "grant_types": []string{"client_credentials"}})
	id, secret := str(c, "client_id"), str(c, "client_secret")
	tr, status := s.token(id, secret, url.Values{"grant_type": {"client_credentials"}})
	if status != 200 {
		t.Fatalf("token: %d", status)
	}
	bClient := b.client(map[string]any{"client_name": "B's app", "grant_types": []string{"client_credentials"}})

	var list struct {
		Clients []map[string]any `json:"clients"`
	}
	b.Do("GET", "/api/hydra/clients", nil, &list)
	if len(list.Clients) != 1 || str(list.Clients[0], "client_id") != str(bClient, "client_id") {
		t.Fatalf("B lists %v, want only its own client", list.Clients)
	}
	b.Do("GET", "/api/hydra/clients?page_size=500", nil, &list)
	for _, cl := range list.Clients {
		if str(cl, "client_id") == id {
			t.Fatal("B's list contains A's client")
		}
	}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/hydra/clients/" + id, nil},
		{"PUT", "/api/hydra/clients/" + id, map[string]any{"client_name": "pwned", "grant_types": []string{"client_credentials"}}},
		{"DELETE", "/api/hydra/clients/" + id, nil},
		{"POST", "/api/hydra/clients/" + id + "/rotate-secret", nil},
		{"PUT", "/api/hydra/clients/" + id + "/lifespans", map[string]any{"client_credentials_grant_access_token_lifespan": "1s"}},
		{"DELETE", "/api/hydra/clients/" + id + "/tokens", nil},
		{"GET", "/api/hydra/clients/..%2F..%2Fclients", nil},
	} {
		b.expectError(tc.method, tc.path, tc.body, 404, "client_not_found")
	}
	var in map[string]any
	b.Do("POST", "/api/hydra/introspect", map[string]any{"token": tr.AccessToken}, &in)
	if in["active"] != false || len(in) != 1 {
		t.Fatalf("B introspects A's token: %v", in)
	}
	var rv map[string]any
	b.Do("POST", "/api/hydra/revoke", map[string]any{"token": tr.AccessToken, "client_secret": secret}, &rv)
	if rv["revoked"] != false {
		t.Fatalf("B revoked A's token: %v", rv)
	}
	// B cannot claim A's tenant in a client's owner or metadata.
	for field, body := range map[string]map[string]any{
		"metadata.truss_tenant_id": {"grant_types": []string{"client_credentials"}, "metadata": map[string]any{"truss_tenant_id": a.p.TenantID}},
		"owner":                    {"grant_types": []string{"client_credentials"}, "owner": a.p.TenantID},
	} {
		e := b.expectError("POST", "/api/hydra/clients", body, 400, "invalid_client_metadata")
		if _, ok := e.fields()[field]; !ok {
			t.Errorf("error does not name %s: %+v", field, e.Error)
		}
	}

	// A's client and token are intact.
	var got map[string]any
	if resp := a.Do("GET", "/api/hydra/clients/"+id, nil, &got); resp.StatusCode != 200 || got["client_name"] != "A's app" {
		t.Fatalf("A's client after the attacks: %d %v", resp.StatusCode, got)
	}
	a.Do("POST", "/api/hydra/introspect", map[string]any{"token": tr.AccessToken}, &in)
	if in["active"] != true {
		t.Fatalf("A's token after the attacks: %v", in)
	}
	if _, status := s.token(id, secret, url.Values{"grant_type": {"client_credentials"}}); status != 200 {
		t.Fatalf("A's secret after the attacks: %d", status)
	}
}

// TestClientBadInput: every invalid client is a 400 naming the field.
func TestClientBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	u := s.newUser()
	cb := []string{"https://app.example.com/cb"}
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"http redirect to a remote host", map[string]any{"redirect_uris": []string{"http://app.example.com/cb"}}, "redirect_uris[0]"},
		{"relative redirect", map[string]any{"redirect_uris": []string{"/cb"}}, "redirect_uris[0]"},
		{"custom scheme", map[string]any{"redirect_uris": []string{"myapp://cb"}}, "redirect_uris[0]"},
		{"javascript", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "redirect_uris[0]"},
		{"fragment", map[string]any{"redirect_uris": []string{"https://app.example.com/cb#x"}}, "redirect_uris[0]"},
		{"credentials in redirect", map[string]any{"redirect_uris": []string{"https://u:p@app.example.com/cb"}}, "redirect_uris[0]"},
		{"second redirect bad", map[string]any{"redirect_uris": []string{"https://ok.example.com/cb", "http://10.0.0.1/cb"}}, "redirect_uris[1]"},
		{"http post-logout redirect", map[string]any{"redirect_uris": cb, "post_logout_redirect_uris": []string{"http://evil.example.com/"}}, "post_logout_redirect_uris[0]"},
		{"redirect_uris not a list", map[string]any{"redirect_uris": "https://app.example.com/cb"}, "redirect_uris"},
		{"code grant without redirect", map[string]any{"grant_types": []string{"authorization_code"}}, "redirect_uris"},
		{"password grant", map[string]any{"redirect_uris": cb, "grant_types": []string{"password"}}, "grant_types"},
		{"implicit grant", map[string]any{"redirect_uris": cb, "grant_types": []string{"implicit"}}, "grant_types"},
		{"refresh alone", map[string]any{"grant_types": []string{"refresh_token"}}, "grant_types"},
		{"public client credentials", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "none"}, "grant_types"},
		{"token response type", map[string]any{"redirect_uris": cb, "response_types": []string{"token"}}, "response_types"},
		{"unknown auth method", map[string]any{"redirect_uris": cb, "token_endpoint_auth_method": "magic"}, "token_endpoint_auth_method"},
		{"public client with secret", map[string]any{"redirect_uris": cb, "token_endpoint_auth_method": "none", "client_secret": "0123456789abcdef0123"}, "client_secret"},
		{"short secret", map[string]any{"redirect_uris": cb, "client_secret": "short"}, "client_secret"},
		{"chosen client_id", map[string]any{"redirect_uris": cb, "client_id": "my-id"}, "client_id"},
		{"unknown field", map[string]any{"redirect_uris": cb, "colour": "blue"}, "colour"},
		{"bad lifespan", map[string]any{"redirect_uris": cb, "authorization_code_grant_access_token_lifespan": "1 day"}, "authorization_code_grant_access_token_lifespan"},
		{"negative lifespan", map[string]any{"redirect_uris": cb, "client_credentials_grant_access_token_lifespan": "-1h"}, "client_credentials_grant_access_token_lifespan"},
		{"metadata not an object", map[string]any{"redirect_uris": cb, "metadata": "x"}, "metadata"},
		{"jwks_uri on loopback", map[string]any{"redirect_uris": cb, "jwks_uri": "https://127.0.0.1/jwks"}, "jwks_uri"},
		{"backchannel over http", map[string]any{"redirect_uris": cb, "backchannel_logout_uri": "http://app.example.com/bc"}, "backchannel_logout_uri"},
		{"cors origin with path", map[string]any{"redirect_uris": cb, "allowed_cors_origins": []string{"https://app.example.com/x"}}, "allowed_cors_origins[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := u.expectError("POST", "/api/hydra/clients", tc.body, 400, "invalid_client_metadata")
			if _, ok := e.fields()[tc.field]; !ok {
				t.Errorf("error names %v, want %s (%s)", keys(e.fields()), tc.field, e.Error.Message)
			}
			if !strings.Contains(e.Error.Message, tc.field) {
				t.Errorf("message %q does not name %s", e.Error.Message, tc.field)
			}
		})
	}
	// The loopback exceptions are accepted.
	for _, ok := range []string{"http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "https://app.example.com/cb?x=1"} {
		c := u.client(map[string]any{"redirect_uris": []string{ok}})
		if uris, _ := c["redirect_uris"].([]any); !slices.Contains(uris, any(ok)) {
			t.Errorf("created %v for %s", c["redirect_uris"], ok)
		}
	}
	// Updates follow the same rules, and cannot change the id or the secret.
	c := u.client(map[string]any{"redirect_uris": cb})
	id := str(c, "client_id")
	for field, body := range map[string]map[string]any{
		"redirect_uris[0]": {"redirect_uris": []string{"http://evil.example.com"}},
		"client_id":        {"redirect_uris": cb, "client_id": "other"},
		"client_secret":    {"redirect_uris": cb, "client_secret": "0123456789abcdef0123"},
	} {
		e := u.expectError("PUT", "/api/hydra/clients/"+id, body, 400, "invalid_client_metadata")
		if _, ok := e.fields()[field]; !ok {
			t.Errorf("PUT error names %v, want %s", keys(e.fields()), field)
		}
	}
	u.expectError("GET", "/api/hydra/clients?page_size=0", nil, 400, "invalid_request")
	u.expectError("GET", "/api/hydra/clients?page_token=%00", nil, 400, "invalid_request")
	u.expectError("POST", "/api/hydra/introspect", map[string]any{}, 400, "invalid_request")
	if resp := u.Do("POST", "/api/hydra/clients/"+id+"/rotate-secret", nil, nil); resp.StatusCode != 200 {
		t.Errorf("rotate a confidential client: %d", resp.StatusCode)
	}
	pub := u.client(map[string]any{"redirect_uris": cb, "token_endpoint_auth_method": "none"})
	u.expectError("POST", "/api/hydra/clients/"+str(pub, "client_id")+"/rotate-secret", nil, 400, "invalid_request")
}

// TestUnknownChallenges: made-up, missing and foreign challenges.
func TestUnknownChallenges(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	u := s.newUser()
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"GET", "/api/hydra/bridge/login?login_challenge=nope", nil, 404, "challenge_not_found"},
		{"GET", "/api/hydra/bridge/consent?consent_challenge=nope", nil, 404, "challenge_not_found"},
		{"GET", "/api/hydra/bridge/logout?logout_challenge=nope", nil, 404, "challenge_not_found"},
		{"GET", "/api/hydra/bridge/login", nil, 400, "invalid_request"},
		{"GET", "/api/hydra/bridge/consent?login_challenge=x", nil, 400, "invalid_request"},
		{"GET", "/api/hydra/login?login_challenge=" + strings.Repeat("a", 9000), nil, 404, "challenge_not_found"},
		{"GET", "/api/hydra/consent?consent_challenge=nope", nil, 404, "challenge_not_found"},
		{"POST", "/api/hydra/consent/accept", map[string]any{"consent_challenge": "nope"}, 404, "challenge_not_found"},
		{"POST", "/api/hydra/consent/reject", map[string]any{"consent_challenge": "nope"}, 404, "challenge_not_found"},
		{"POST", "/api/hydra/consent/accept", map[string]any{}, 400, "invalid_request"},
		{"POST", "/api/hydra/logout/accept", map[string]any{"logout_challenge": "nope"}, 404, "challenge_not_found"},
		{"POST", "/api/hydra/logout/reject", map[string]any{"logout_challenge": "nope"}, 404, "challenge_not_found"},
	} {
		u.expectError(tc.method, tc.path, tc.body, tc.status, tc.code)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
