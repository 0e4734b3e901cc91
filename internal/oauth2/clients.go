package oauth2

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
)

const (
	defaultClientPageSize = 100
	maxClientPageSize     = 500
)

var (
	clientIDPattern  = regexp.MustCompile(`^[A-Za-z0-9._:~-]{1,255}$`)
	pageTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_\-=+/.]+$`)
)

// ClientList is the answer of GET /api/hydra/clients.
type ClientList struct {
	Clients       []rawClient `json:"clients"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

// ListClients answers GET /api/hydra/clients: the signed-in tenant's
// clients, in Hydra's client JSON (never a secret). page_size (1..500,
// default 100) and page_token (the previous answer's next_page_token)
// page through them.
func (h *Handlers) ListClients(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := url.Values{"owner": {p.TenantID}, "page_size": {strconv.Itoa(defaultClientPageSize)}}
	if s := r.URL.Query().Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxClientPageSize {
			return fieldError("page_size", "must be an integer from 1 to 500")
		}
		q.Set("page_size", s)
	}
	if t := r.URL.Query().Get("page_token"); t != "" {
		if len(t) > 2048 || !pageTokenPattern.MatchString(t) {
			return fieldError("page_token", "must be a next_page_token returned by this endpoint")
		}
		q.Set("page_token", t)
	}
	ep := h.Ory.HydraAdmin
	var found []rawClient
	_, hdr, rep, err := exchange(r.Context(), ep, http.MethodGet, "/admin/clients", q, nil, &found)
	if err != nil {
		return err
	}
	if rep != nil {
		if rep.Status == http.StatusBadRequest && q.Has("page_token") {
			return fieldError("page_token", "must be a next_page_token returned by this endpoint")
		}
		return unexpected(ep, rep)
	}
	out := ClientList{Clients: []rawClient{}, NextPageToken: nextPageToken(hdr)}
	for _, c := range found {
		if tenantOf(c) == p.TenantID { // Hydra filtered by owner; the metadata must agree
			out.Clients = append(out.Clients, present(c))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// CreateClient answers POST /api/hydra/clients: the body is Hydra's client
// JSON; the answer (201) is the client with its client_secret, shown this
// once (Hydra keeps only a hash).
func (h *Handlers) CreateClient(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var body rawClient
	if err := httpjson.Decode(r, &body); err != nil {
		return err
	}
	prepared, err := prepareClient(body, p, "")
	if err != nil {
		return err
	}
	var created rawClient
	if err := h.writeClient(r.Context(), http.MethodPost, "/admin/clients", prepared, &created); err != nil {
		return err
	}
	h.audit(r, "oauth2_client_create", clientID(created), nil)
	return writeJSON(w, http.StatusCreated, present(created))
}

// GetClient answers GET /api/hydra/clients/{id}.
func (h *Handlers) GetClient(w http.ResponseWriter, r *http.Request) error {
	c, err := h.ownClient(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, present(c))
}

// UpdateClient answers PUT /api/hydra/clients/{id}: replaces the client with
// the body (Hydra's PUT semantics: fields left out get their defaults). The
// secret is kept; rotate it with POST .../rotate-secret.
func (h *Handlers) UpdateClient(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	id := r.PathValue("id")
	var body rawClient
	if err := httpjson.Decode(r, &body); err != nil {
		return err
	}
	if _, err := h.ownClient(r.Context(), p, id); err != nil {
		return err
	}
	prepared, err := prepareClient(body, p, id)
	if err != nil {
		return err
	}
	var updated rawClient
	if err := h.writeClient(r.Context(), http.MethodPut, "/admin/clients/"+id, prepared, &updated); err != nil {
		return err
	}
	delete(updated, "client_secret")
	h.audit(r, "oauth2_client_update", id, nil)
	return writeJSON(w, http.StatusOK, present(updated))
}

// DeleteClient answers DELETE /api/hydra/clients/{id} (204). Hydra revokes
// the client's tokens with it.
func (h *Handlers) DeleteClient(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.ownClient(r.Context(), principal(r), id); err != nil {
		return err
	}
	ep := h.Ory.HydraAdmin
	_, rep, err := callReply(r.Context(), ep, http.MethodDelete, "/admin/clients/"+id, nil, nil, nil)
	if err != nil {
		return err
	}
	if rep != nil && rep.Status != http.StatusNotFound {
		return unexpected(ep, rep)
	}
	h.audit(r, "oauth2_client_delete", id, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RotateSecret answers POST /api/hydra/clients/{id}/rotate-secret: a new
// random secret replaces the old one at once and is returned this once, in
// the client's JSON. Public clients have no secret (400).
func (h *Handlers) RotateSecret(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	c, err := h.ownClient(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	var method string
	_ = json.Unmarshal(c["token_endpoint_auth_method"], &method)
	if method == "none" || method == "private_key_jwt" {
		return fieldError("token_endpoint_auth_method", "is "+method+": this client authenticates without a secret, there is none to rotate")
	}
	secret, err := newSecret()
	if err != nil {
		return err
	}
	for _, k := range readOnlyFields {
		if k != "client_id" {
			delete(c, k)
		}
	}
	c["client_secret"], _ = json.Marshal(secret)
	var updated rawClient
	if err := h.writeClient(r.Context(), http.MethodPut, "/admin/clients/"+id, c, &updated); err != nil {
		return err
	}
	updated["client_secret"], _ = json.Marshal(secret)
	h.audit(r, "oauth2_client_rotate_secret", id, nil)
	return writeJSON(w, http.StatusOK, present(updated))
}

// SetLifespans answers PUT /api/hydra/clients/{id}/lifespans: the client's
// token lifetimes per grant (Hydra's ten *_lifespan fields, durations such
// as "1h"; null or left out: the server default).
func (h *Handlers) SetLifespans(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var body rawClient
	if err := httpjson.Decode(r, &body); err != nil {
		return err
	}
	problems := clientProblems{}
	for k, v := range body {
		if !slices.Contains(lifespanFields, k) {
			problems.add(k, "is not a token lifespan field")
		} else if msg := lifespanProblem(v); msg != "" {
			problems.add(k, msg)
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	if _, err := h.ownClient(r.Context(), principal(r), id); err != nil {
		return err
	}
	var updated rawClient
	if err := h.writeClient(r.Context(), http.MethodPut, "/admin/clients/"+id+"/lifespans", body, &updated); err != nil {
		return err
	}
	h.audit(r, "oauth2_client_lifespans", id, nil)
	return writeJSON(w, http.StatusOK, present(updated))
}

// ownClient fetches a client of tenant p. Unknown ids and other tenants'
// clients are the same 404.
func (h *Handlers) ownClient(ctx context.Context, p *auth.Principal, id string) (rawClient, error) {
	if !validClientID(id) {
		return nil, clientNotFound()
	}
	ep := h.Ory.HydraAdmin
	var c rawClient
	_, rep, err := callReply(ctx, ep, http.MethodGet, "/admin/clients/"+id, nil, nil, &c)
	if err != nil {
		return nil, err
	}
	if rep != nil {
		if rep.Status == http.StatusNotFound || rep.Status == http.StatusUnauthorized {
			return nil, clientNotFound()
		}
		return nil, unexpected(ep, rep)
	}
	if tenantOf(c) != p.TenantID {
		return nil, clientNotFound()
	}
	return c, nil
}

// writeClient creates or updates a client in Hydra; Hydra's refusals of
// the client's content are 400s naming Hydra's reason.
func (h *Handlers) writeClient(ctx context.Context, method, path string, body, out any) error {
	ep := h.Ory.HydraAdmin
	_, rep, err := callReply(ctx, ep, method, path, nil, body, out)
	if err != nil {
		return err
	}
	if rep == nil {
		return nil
	}
	switch rep.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		msg := rep.Body.Description
		if msg == "" {
			msg = rep.Body.Error
		}
		return badRequest("invalid_client_metadata", "Ory Hydra refused the client: "+msg, nil)
	case http.StatusNotFound:
		return clientNotFound()
	case http.StatusConflict:
		return apierror.New(http.StatusConflict, "conflict", "A client with this id already exists.")
	}
	return unexpected(ep, rep)
}

func clientNotFound() *apierror.Error {
	return notFound("client_not_found", "No such OAuth2 client.").
		WithHint("GET /api/hydra/clients lists the clients of your tenant.")
}

func validClientID(id string) bool {
	return clientIDPattern.MatchString(id) && id != "." && id != ".."
}

// tenantOf is the tenant recorded in a client: metadata and owner must
// agree, or the client belongs to nobody (e.g. created outside Truss).
func tenantOf(c rawClient) string {
	var meta map[string]any
	var owner string
	_ = json.Unmarshal(c["metadata"], &meta)
	_ = json.Unmarshal(c["owner"], &owner)
	t, _ := meta[tenantKey].(string)
	if t == "" || t != owner {
		return ""
	}
	return t
}

func clientID(c rawClient) string {
	var id string
	_ = json.Unmarshal(c["client_id"], &id)
	return id
}

// present is a client as Truss shows it: Hydra's JSON without the dynamic
// registration credentials (Truss manages clients; those tokens would be a
// second way in).
func present(c rawClient) rawClient {
	delete(c, "registration_access_token")
	delete(c, "registration_client_uri")
	return c
}

// newSecret is a fresh client secret: 256 random bits, URL-safe.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// nextPageToken reads the page_token of a rel="next" Link header.
func nextPageToken(h http.Header) string {
	for _, link := range h.Values("Link") {
		for _, part := range strings.Split(link, ",") {
			if !strings.Contains(part, `rel="next"`) {
				continue
			}
			start, end := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
			if start < 0 || end <= start {
				continue
			}
			if u, err := url.Parse(part[start+1 : end]); err == nil {
				return u.Query().Get("page_token")
			}
		}
	}
	return ""
}

// ClientSummary is how a client is shown to end users (login, consent and
// consent-session screens): no configuration, no tenant.
type ClientSummary struct {
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
	ClientURI  string `json:"client_uri,omitempty"`
	LogoURI    string `json:"logo_uri,omitempty"`
	PolicyURI  string `json:"policy_uri,omitempty"`
	TosURI     string `json:"tos_uri,omitempty"`
}

func summarize(c *client.OAuth2Client) ClientSummary {
	if c == nil {
		return ClientSummary{}
	}
	return ClientSummary{ClientID: c.GetClientId(), ClientName: c.GetClientName(), ClientURI: c.GetClientUri(),
		LogoURI: c.GetLogoUri(), PolicyURI: c.GetPolicyUri(), TosURI: c.GetTosUri()}
}
