package oauth2

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
)

// tenantKey is the key of an OAuth2 client's metadata that records the
// Truss tenant owning it (Hydra's owner field holds the same id, so lists
// filter in Hydra; both are checked).
const tenantKey = "truss_tenant_id"

// rawClient is a client in Hydra's own JSON, kept as Hydra sent it.
type rawClient map[string]json.RawMessage

// Lifespan fields of a client (Hydra's per-client token lifetimes).
var lifespanFields = []string{
	"authorization_code_grant_access_token_lifespan",
	"authorization_code_grant_id_token_lifespan",
	"authorization_code_grant_refresh_token_lifespan",
	"client_credentials_grant_access_token_lifespan",
	"implicit_grant_access_token_lifespan",
	"implicit_grant_id_token_lifespan",
	"jwt_bearer_grant_access_token_lifespan",
	"refresh_token_grant_access_token_lifespan",
	"refresh_token_grant_id_token_lifespan",
	"refresh_token_grant_refresh_token_lifespan",
}

// writableFields are the fields of Hydra's client JSON a tenant may send.
var writableFields = append([]string{
	"access_token_strategy", "allowed_cors_origins", "audience", "backchannel_logout_session_required",
	"backchannel_logout_uri", "client_name", "client_secret", "client_uri", "contacts",
	"frontchannel_logout_session_required", "frontchannel_logout_uri", "grant_types", "jwks", "jwks_uri", "logo_uri",
	"metadata", "owner", "policy_uri", "post_logout_redirect_uris", "redirect_uris", "request_object_signing_alg",
	"request_uris", "response_types", "scope", "sector_identifier_uri", "skip_consent", "skip_logout_consent",
	"subject_type", "token_endpoint_auth_method", "token_endpoint_auth_signing_alg", "tos_uri",
	"userinfo_signed_response_alg",
}, lifespanFields...)

// readOnlyFields are accepted (so a client read with GET can be sent back
// with PUT) and dropped: Hydra sets them.
var readOnlyFields = []string{"client_id", "created_at", "updated_at", "client_secret_expires_at",
	"registration_access_token", "registration_client_uri"}

// Grant types and response types Truss lets clients use: the
// authorization code flow (with PKCE for public clients), refresh tokens and
// client credentials. The implicit flow and the password grant are not
// offered (OAuth 2.1 drops them; Hydra has no password grant).
var (
	allowedGrantTypes    = []string{"authorization_code", "refresh_token", "client_credentials"}
	allowedResponseTypes = []string{"code"}
	allowedAuthMethods   = []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
)

var lifespanPattern = regexp.MustCompile(`^([0-9]+(ns|us|µs|ms|s|m|h))+$`)

// clientInput are the fields Truss checks, decoded from the same body.
type clientInput struct {
	ClientID                *string         `json:"client_id"`
	ClientSecret            *string         `json:"client_secret"`
	RedirectURIs            []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris"`
	FrontchannelLogoutURI   *string         `json:"frontchannel_logout_uri"`
	BackchannelLogoutURI    *string         `json:"backchannel_logout_uri"`
	JwksURI                 *string         `json:"jwks_uri"`
	SectorIdentifierURI     *string         `json:"sector_identifier_uri"`
	RequestURIs             []string        `json:"request_uris"`
	AllowedCorsOrigins      []string        `json:"allowed_cors_origins"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types"`
	TokenEndpointAuthMethod *string         `json:"token_endpoint_auth_method"`
	SkipConsent             *bool           `json:"skip_consent"`
	Owner                   *string         `json:"owner"`
	Metadata                json.RawMessage `json:"metadata"`
}

// clientProblems collects the invalid fields of a client body.
type clientProblems map[string][]string

func (p clientProblems) add(field, problem string) { p[field] = append(p[field], problem) }

func (p clientProblems) err() error {
	if len(p) == 0 {
		return nil
	}
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	return badRequest("invalid_client_metadata", "Invalid OAuth2 client: "+names[0]+" "+p[names[0]][0]+".", p)
}

// prepareClient validates a client body (Hydra's client JSON) from tenant p
// and returns what Truss sends to Hydra: read-only fields dropped, the
// tenant recorded in owner and metadata. id is the client's id on update
// ("" on create).
func prepareClient(body rawClient, p *auth.Principal, id string) (rawClient, error) {
	problems := clientProblems{}
	for k := range body {
		if !slices.Contains(writableFields, k) && !slices.Contains(readOnlyFields, k) {
			problems.add(k, "is not a field of Hydra's OAuth2 client")
		}
	}
	if err := problems.err(); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(body)
	var in clientInput
	if err := json.Unmarshal(raw, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, badRequest("invalid_client_metadata", fmt.Sprintf("Invalid OAuth2 client: %s must be %s.", te.Field, jsonType(te.Type.String())),
				map[string][]string{te.Field: {"must be " + jsonType(te.Type.String())}})
		}
		return nil, badRequest("invalid_client_metadata", "Invalid OAuth2 client: "+err.Error(), nil)
	}

	switch {
	case id == "" && in.ClientID != nil && *in.ClientID != "":
		problems.add("client_id", "is assigned by Hydra and cannot be chosen")
	case id != "" && in.ClientID != nil && *in.ClientID != "" && *in.ClientID != id:
		problems.add("client_id", "must be the id in the URL (a client's id cannot change)")
	}
	method := "client_secret_basic"
	if in.TokenEndpointAuthMethod != nil && *in.TokenEndpointAuthMethod != "" {
		method = *in.TokenEndpointAuthMethod
		if !slices.Contains(allowedAuthMethods, method) {
			problems.add("token_endpoint_auth_method", "must be one of "+strings.Join(allowedAuthMethods, ", "))
		}
	}
	if in.ClientSecret != nil && *in.ClientSecret != "" {
		switch {
		case id != "":
			problems.add("client_secret", "cannot be set by an update; use POST /api/hydra/clients/{id}/rotate-secret")
		case method == "none":
			problems.add("client_secret", "must be empty for a public client (token_endpoint_auth_method none)")
		case len(*in.ClientSecret) < 16:
			problems.add("client_secret", "must be at least 16 characters (leave it out to have one generated)")
		}
	}

	grants := in.GrantTypes
	if len(grants) == 0 {
		grants = []string{"authorization_code"} // Hydra's default
	}
	for _, g := range grants {
		if !slices.Contains(allowedGrantTypes, g) {
			problems.add("grant_types", fmt.Sprintf("%q is not supported; use %s", g, strings.Join(allowedGrantTypes, ", ")))
		}
	}
	if slices.Contains(grants, "refresh_token") && !slices.Contains(grants, "authorization_code") {
		problems.add("grant_types", "refresh_token needs authorization_code (refresh tokens come from the code flow)")
	}
	if slices.Contains(grants, "client_credentials") && method == "none" {
		problems.add("grant_types", "client_credentials needs a confidential client (token_endpoint_auth_method other than none)")
	}
	if slices.Contains(grants, "authorization_code") && len(in.RedirectURIs) == 0 {
		problems.add("redirect_uris", "must list at least one URI for the authorization_code grant")
	}
	for _, rt := range in.ResponseTypes {
		if !slices.Contains(allowedResponseTypes, rt) {
			problems.add("response_types", fmt.Sprintf("%q is not supported; use code (the implicit and hybrid flows are not offered)", rt))
		}
	}

	for i, u := range in.RedirectURIs {
		if msg := browserURIProblem(u); msg != "" {
			problems.add(fmt.Sprintf("redirect_uris[%d]", i), msg)
		}
	}
	for i, u := range in.PostLogoutRedirectURIs {
		if msg := browserURIProblem(u); msg != "" {
			problems.add(fmt.Sprintf("post_logout_redirect_uris[%d]", i), msg)
		}
	}
	if in.FrontchannelLogoutURI != nil && *in.FrontchannelLogoutURI != "" {
		if msg := browserURIProblem(*in.FrontchannelLogoutURI); msg != "" {
			problems.add("frontchannel_logout_uri", msg)
		}
	}
	for i, o := range in.AllowedCorsOrigins {
		if msg := originProblem(o); msg != "" {
			problems.add(fmt.Sprintf("allowed_cors_origins[%d]", i), msg)
		}
	}
	fetched := map[string]*string{"backchannel_logout_uri": in.BackchannelLogoutURI, "jwks_uri": in.JwksURI,
		"sector_identifier_uri": in.SectorIdentifierURI}
	for field, u := range fetched {
		if u != nil && *u != "" {
			if msg := fetchedURIProblem(*u); msg != "" {
				problems.add(field, msg)
			}
		}
	}
	for i, u := range in.RequestURIs {
		if msg := fetchedURIProblem(u); msg != "" {
			problems.add(fmt.Sprintf("request_uris[%d]", i), msg)
		}
	}
	for _, f := range lifespanFields {
		if msg := lifespanProblem(body[f]); msg != "" {
			problems.add(f, msg)
		}
	}

	metadata := map[string]any{}
	if len(in.Metadata) > 0 && string(in.Metadata) != "null" {
		if err := json.Unmarshal(in.Metadata, &metadata); err != nil {
			problems.add("metadata", "must be a JSON object")
		}
	}
	if v, ok := metadata[tenantKey]; ok && v != p.TenantID {
		problems.add("metadata."+tenantKey, "is set by Truss to the tenant that owns the client")
	}
	if in.Owner != nil && *in.Owner != "" && *in.Owner != p.TenantID {
		problems.add("owner", "is set by Truss to the tenant that owns the client")
	}
	if err := problems.err(); err != nil {
		return nil, err
	}
	if in.SkipConsent != nil && *in.SkipConsent && !p.IsAdmin {
		return nil, apierror.New(http.StatusForbidden, apierror.CodeForbidden,
			"skip_consent: only Truss admins may create clients that skip the consent screen.").
			WithHint("A client that skips consent gets any signed-in user's identity and email without asking; leave skip_consent false.").
			WithDetails(map[string]any{"fields": map[string][]string{"skip_consent": {"needs a Truss admin"}}})
	}

	out := rawClient{}
	for k, v := range body {
		if slices.Contains(writableFields, k) {
			out[k] = v
		}
	}
	metadata[tenantKey] = p.TenantID
	out["metadata"], _ = json.Marshal(metadata)
	out["owner"], _ = json.Marshal(p.TenantID)
	return out, nil
}

// browserURIProblem checks a URI a browser is sent to: absolute https, or
// http on the loopback host (native and development apps).
func browserURIProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "must be an absolute URL such as https://app.example.com/callback"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not contain a fragment (#)"
	case u.User != nil:
		return "must not contain a user name or password"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && isLoopbackName(u.Hostname()):
		return ""
	}
	return "must be an https:// URL (http:// is allowed only for localhost and 127.0.0.1)"
}

// originProblem checks a CORS origin (scheme://host[:port], nothing else).
func originProblem(raw string) string {
	if msg := browserURIProblem(raw); msg != "" {
		return msg
	}
	u, _ := url.Parse(raw)
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "must be an origin (scheme://host[:port]) without a path or query"
	}
	return ""
}

// fetchedURIProblem checks a URI Hydra itself fetches or posts to (JWKS,
// sector identifier, request objects, back-channel logout): https on a
// public host, so a tenant cannot point Hydra at Truss's internal network.
func fetchedURIProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "must be an absolute https:// URL"
	case u.Scheme != "https":
		return "must be an https:// URL (Ory Hydra fetches it)"
	case u.User != nil:
		return "must not contain a user name or password"
	}
	host := u.Hostname()
	if isLoopbackName(host) || strings.HasSuffix(host, ".localhost") || !strings.Contains(host, ".") && net.ParseIP(host) == nil {
		return "must be on a public host (Ory Hydra fetches it)"
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
			return "must be on a public host (Ory Hydra fetches it)"
		}
	}
	return ""
}

func isLoopbackName(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// lifespanProblem checks a token lifespan: null, or a duration such as
// "1h30m" (Hydra's format).
func lifespanProblem(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "must be a duration string such as \"1h\" or null"
	}
	if s == "" {
		return ""
	}
	d, err := time.ParseDuration(s)
	if !lifespanPattern.MatchString(s) || err != nil || d <= 0 {
		return "must be a positive duration such as \"1h\", \"30m\" or \"720h\""
	}
	return ""
}

// jsonType names a Go type the way a JSON client thinks of it.
func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array of " + jsonType(goType[2:]) + "s"
	case goType == "string", goType == "*string":
		return "string"
	case goType == "bool", goType == "*bool":
		return "boolean"
	case strings.HasPrefix(goType, "map"):
		return "an object"
	}
	return goType
}
