package auth

// Admin endpoints on identities (/api/admin/identities/*). Every handler
// here is wired behind RequireAdmin in internal/server/routes.go, answers
// errors in the API's one shape, and records an audit event with the admin
// as actor_id and the identity (its id; its email when no id exists yet) as
// subject. Kratos is driven through its admin API; Truss never passes a
// client's raw input to Kratos unvalidated: ids must be UUIDs (422
// otherwise) and an unknown id is 404 identity_not_found.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/ory"
)

// Limits of the admin identity endpoints.
const (
	adminDefaultPageSize = 50
	adminMaxPageSize     = 250
	adminMaxSearch       = 320
	adminMinPassword     = 8  // characters, as Kratos's self-service policy
	adminMaxPassword     = 72 // bytes: bcrypt (Kratos's hasher) refuses longer
	adminMaxName         = 200
	// identitySchemaID is the identity schema of Truss's Kratos (dev and
	// deploy/ory/kratos use the same one).
	identitySchemaID = "default"
)

// AdminIdentity is an identity as the admin API shows it (never credentials).
type AdminIdentity struct {
	ID             string     `json:"id"`
	Email          string     `json:"email"`
	Name           string     `json:"name,omitempty"`
	State          string     `json:"state"`
	EmailVerified  bool       `json:"email_verified"`
	IsAdmin        bool       `json:"is_admin"`
	CreatedAt      *time.Time `json:"created_at,omitempty"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
	StateChangedAt *time.Time `json:"state_changed_at,omitempty"`
}

// AdminIdentityList answers GET /api/admin/identities.
type AdminIdentityList struct {
	Identities    []AdminIdentity `json:"identities"`
	NextPageToken string          `json:"next_page_token,omitempty"`
}

// AdminCreateIdentityRequest is the body of POST /api/admin/identities and
// one row of POST /api/admin/identities/import.
type AdminCreateIdentityRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
}

// AdminStateRequest is the body of PATCH /api/admin/identities/{id}/state.
type AdminStateRequest struct {
	State string `json:"state"`
}

// AdminPasswordRequest is the body of POST /api/admin/identities/{id}/reset-password.
type AdminPasswordRequest struct {
	Password string `json:"password"`
}

// AdminRecoveryRequest is the optional body of POST /api/admin/identities/{id}/recovery-link.
type AdminRecoveryRequest struct {
	ExpiresIn string `json:"expires_in"`
}

// AdminRecoveryLink answers POST /api/admin/identities/{id}/recovery-link.
type AdminRecoveryLink struct {
	FlowID       string    `json:"flow_id"`
	RecoveryCode string    `json:"recovery_code"`
	RecoveryLink string    `json:"recovery_link"`
	ExpiresAt    time.Time `json:"expires_at"`
	CompleteWith string    `json:"complete_with"`
}

// AdminListIdentities answers GET /api/admin/identities.
//
// Query parameters:
//   - email: exact match on the login identifier (Kratos credentials_identifier;
//     case-insensitive, as Kratos stores identifiers in lower case).
//   - search: prefix match on the login identifier (Kratos v1.3's
//     preview_credentials_identifier_similar, which is LIKE 'search%' on the
//     lower-cased identifier: "ada" finds ada@example.com, "example.com" does
//     not). Kratos marks that parameter experimental; Truss pins Kratos v1.3.1.
//     At most 320 characters; email and search are mutually exclusive.
//   - page_size: 1..250, default 50.
//   - page_token: the next_page_token of the previous page (opaque; at most 512
//     characters). Pages are ordered by identity id (Kratos keyset pagination).
//
// Answer: {"identities": [...], "next_page_token": "..."}; next_page_token is
// absent on the last page.
func (s *Service) AdminListIdentities(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	email, search := strings.TrimSpace(q.Get("email")), strings.TrimSpace(q.Get("search"))
	fields := map[string][]string{}
	size, sizeErr := pageSize(q.Get("page_size"))
	if sizeErr != "" {
		fields["page_size"] = []string{sizeErr}
	}
	token := q.Get("page_token")
	if token != "" && !pageTokenPattern.MatchString(token) {
		fields["page_token"] = []string{"must be a next_page_token returned by this endpoint"}
	}
	if len(search) > adminMaxSearch {
		fields["search"] = []string{"must be at most 320 characters"}
	}
	if len(email) > adminMaxSearch {
		fields["email"] = []string{"must be at most 320 characters"}
	}
	if email != "" && search != "" {
		fields["search"] = []string{"cannot be combined with email"}
	}
	if len(fields) > 0 {
		return httpjson.Invalid("Invalid query parameters.", fields)
	}
	ka := s.ory.KratosAdmin
	req := ka.API.IdentityAPI.ListIdentities(r.Context()).PageSize(int64(size))
	if token != "" {
		req = req.PageToken(token)
	}
	if email != "" {
		req = req.CredentialsIdentifier(email)
	}
	if search != "" {
		req = req.PreviewCredentialsIdentifierSimilar(search)
	}
	found, resp, err := req.Execute()
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusBadRequest && token != "" {
			// The only input Kratos can refuse here is the page token.
			err = httpjson.Invalid("Invalid page_token.", map[string][]string{
				"page_token": {"must be a next_page_token returned by this endpoint"}})
		} else {
			err = adminKratosError(ka, err, resp, nil)
		}
		s.adminAudit(r, "admin_identity_list", err, "", map[string]any{"search": search, "email": email})
		return err
	}
	out := AdminIdentityList{Identities: make([]AdminIdentity, 0, len(found)), NextPageToken: nextPageToken(resp)}
	for i := range found {
		out.Identities = append(out.Identities, toAdminIdentity(&found[i]))
	}
	if err := s.markAdmins(r.Context(), out.Identities); err != nil {
		return err
	}
	s.adminAudit(r, "admin_identity_list", nil, "", map[string]any{"search": search, "email": email, "count": len(found)})
	return httpjson.Write(w, http.StatusOK, out)
}

// AdminGetIdentity answers GET /api/admin/identities/{id} with the identity.
func (s *Service) AdminGetIdentity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ident, err := s.getIdentity(r.Context(), id)
	s.adminAudit(r, "admin_identity_get", err, id, nil)
	if err != nil {
		return err
	}
	out := []AdminIdentity{toAdminIdentity(ident)}
	if err := s.markAdmins(r.Context(), out); err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, out[0])
}

// AdminCreateIdentity answers POST /api/admin/identities with
// {"email", "name"?, "password"?}: 201 and the identity, 409 account_exists
// when an account with that email exists.
//
// Choices: the email is created verified (the admin vouches for it, as for
// the bootstrap admin; Kratos's admin API sends no verification email).
// Without a password the account cannot sign in until the user recovers it
// (POST .../recovery-link) or an admin sets one (POST .../reset-password).
// Limits: email a valid address of at most 254 characters; name at most 200
// characters; password 8 characters to 72 bytes and not the email (Kratos's
// admin API applies no password policy itself, so Truss does).
func (s *Service) AdminCreateIdentity(w http.ResponseWriter, r *http.Request) error {
	var req AdminCreateIdentityRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if fields := req.normalize(); len(fields) > 0 {
		return httpjson.Invalid("Some fields are invalid.", fields)
	}
	ident, err := s.createIdentity(r.Context(), req)
	if err != nil {
		s.adminAudit(r, "admin_identity_create", err, req.Email, map[string]any{"email": req.Email})
		return err
	}
	s.adminAudit(r, "admin_identity_create", nil, ident.Id, map[string]any{"email": req.Email, "password_set": req.Password != ""})
	return httpjson.Write(w, http.StatusCreated, toAdminIdentity(ident))
}

// AdminDeleteIdentity answers DELETE /api/admin/identities/{id} with 204: it
// revokes the identity's sessions, deletes it in Kratos (irreversible), drops
// its cached sessions on this instance (other instances: within
// SESSION_CACHE_TTL, though Kratos refuses them at once) and its Truss admin
// grant. An admin cannot delete their own identity (409 cannot_modify_self).
// Its tenant's data in Truss is kept.
func (s *Service) AdminDeleteIdentity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := refuseSelf(r, id, "delete"); err != nil {
		return err
	}
	ident, err := s.getIdentity(r.Context(), id)
	if err != nil {
		s.adminAudit(r, "admin_identity_delete", err, id, nil)
		return err
	}
	email, _ := traitsOf(ident.Traits)
	err = s.revokeAllSessions(r.Context(), id)
	if err == nil {
		ka := s.ory.KratosAdmin
		resp, derr := ka.API.IdentityAPI.DeleteIdentity(r.Context(), id).Execute()
		if derr != nil {
			err = adminKratosError(ka, derr, resp, identityNotFound())
		}
	}
	s.cache.deleteIdentity(id)
	if err == nil {
		_, err = s.pool.Exec(r.Context(), `DELETE FROM truss_internal.admins WHERE identity_id = $1`, id)
	}
	s.adminAudit(r, "admin_identity_delete", err, id, map[string]any{"email": email})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// AdminSetIdentityState answers PATCH /api/admin/identities/{id}/state with
// {"state": "active"|"inactive"} and the updated identity.
//
// "inactive" takes effect at once: Kratos refuses the identity's sessions and
// logins, Truss revokes all its sessions (so reactivating does not revive
// them) and drops them from this instance's cache; other Truss instances
// stop accepting them within SESSION_CACHE_TTL. An admin cannot deactivate
// their own identity (409 cannot_modify_self).
func (s *Service) AdminSetIdentityState(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req AdminStateRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.State != "active" && req.State != "inactive" {
		return httpjson.Invalid("Invalid state.", map[string][]string{"state": {`must be "active" or "inactive"`}})
	}
	if req.State == "inactive" {
		if err := refuseSelf(r, id, "deactivate"); err != nil {
			return err
		}
	}
	ka := s.ory.KratosAdmin
	patch := client.NewJsonPatch("replace", "/state")
	patch.Value = req.State
	ident, resp, err := ka.API.IdentityAPI.PatchIdentity(r.Context(), id).JsonPatch([]client.JsonPatch{*patch}).Execute()
	if err != nil {
		err = adminKratosError(ka, err, resp, identityNotFound())
	} else if req.State == "inactive" {
		err = s.revokeAllSessions(r.Context(), id)
	}
	if req.State == "inactive" {
		s.cache.deleteIdentity(id)
	}
	s.adminAudit(r, "admin_identity_state", err, id, map[string]any{"state": req.State})
	if err != nil {
		return err
	}
	out := []AdminIdentity{toAdminIdentity(ident)}
	if err := s.markAdmins(r.Context(), out); err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, out[0])
}

// AdminResetPassword answers POST /api/admin/identities/{id}/reset-password
// with {"password"} and 204. The password replaces the identity's password
// credential (other credentials, e.g. TOTP, are kept; an identity without a
// password gets one). Afterwards every session of the identity is revoked
// (in Kratos, and in this instance's cache at once), so whoever held the old
// password is signed out. Limits: 8 characters to 72 bytes, not the email.
//
// Kratos v1.3 sets credentials only with a full update (PUT), so Truss reads
// the identity and writes back its traits, state and metadata unchanged.
func (s *Service) AdminResetPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req AdminPasswordRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.Password == "" {
		return httpjson.Invalid("A new password is required.", map[string][]string{"password": {"is required"}})
	}
	ident, err := s.getIdentity(r.Context(), id)
	if err != nil {
		s.adminAudit(r, "admin_password_reset", err, id, nil)
		return err
	}
	email, _ := traitsOf(ident.Traits)
	if msgs := passwordProblems(req.Password, email); len(msgs) > 0 {
		return httpjson.Invalid("The password is not acceptable.", map[string][]string{"password": msgs})
	}
	traits, _ := ident.Traits.(map[string]any)
	body := client.NewUpdateIdentityBody(ident.SchemaId, ident.GetState(), traits)
	if ident.MetadataPublic != nil {
		body.MetadataPublic = ident.MetadataPublic
	}
	if ident.MetadataAdmin != nil {
		body.MetadataAdmin = ident.MetadataAdmin
	}
	body.Credentials = &client.IdentityWithCredentials{Password: &client.IdentityWithCredentialsPassword{
		Config: &client.IdentityWithCredentialsPasswordConfig{Password: &req.Password}}}
	ka := s.ory.KratosAdmin
	_, resp, err := ka.API.IdentityAPI.UpdateIdentity(r.Context(), id).UpdateIdentityBody(*body).Execute()
	if err != nil {
		err = adminKratosError(ka, err, resp, identityNotFound())
	} else {
		err = s.revokeAllSessions(r.Context(), id)
	}
	s.cache.deleteIdentity(id)
	s.adminAudit(r, "admin_password_reset", err, id, map[string]any{"email": email})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// AdminCreateRecoveryLink answers POST /api/admin/identities/{id}/recovery-link
// (body optional: {"expires_in": "30m"}, a duration from 1m to 24h, default
// 1h) with 201 and a one-time recovery code for the identity, made by Kratos's
// CreateRecoveryCodeForIdentity as an API flow:
// {"flow_id", "recovery_code", "recovery_link", "expires_at", "complete_with"}.
// The user completes it with POST /api/auth/recovery {"flow_id", "code"},
// which signs them in, then sets a password with POST /api/auth/settings.
// recovery_link is Kratos's link to the recovery UI
// (selfservice.flows.recovery.ui_url) with the flow id; the code is entered
// there. Truss sends no email: the admin hands the code over. The code is a
// credential: it is never logged or audited.
func (s *Service) AdminCreateRecoveryLink(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req AdminRecoveryRequest
	if r.ContentLength != 0 {
		if err := httpjson.Decode(r, &req); err != nil {
			return err
		}
	}
	expiresIn := time.Hour
	if req.ExpiresIn != "" {
		d, perr := time.ParseDuration(req.ExpiresIn)
		if perr != nil || d < time.Minute || d > 24*time.Hour {
			return httpjson.Invalid("Invalid expires_in.", map[string][]string{
				"expires_in": {`must be a duration from 1m to 24h, e.g. "30m" or "2h"`}})
		}
		expiresIn = d
	}
	ka := s.ory.KratosAdmin
	body := client.NewCreateRecoveryCodeForIdentityBody(id)
	exp, flowType := expiresIn.String(), "api"
	body.ExpiresIn, body.FlowType = &exp, &flowType
	rc, resp, err := ka.API.IdentityAPI.CreateRecoveryCodeForIdentity(r.Context()).CreateRecoveryCodeForIdentityBody(*body).Execute()
	if err != nil {
		err = adminKratosError(ka, err, resp, identityNotFound())
		s.adminAudit(r, "admin_recovery_link", err, id, nil)
		return err
	}
	out := AdminRecoveryLink{RecoveryCode: rc.RecoveryCode, RecoveryLink: rc.RecoveryLink,
		ExpiresAt: time.Now().Add(expiresIn).UTC(), CompleteWith: `POST /api/auth/recovery {"flow_id","code"}`}
	if rc.ExpiresAt != nil {
		out.ExpiresAt = *rc.ExpiresAt
	}
	if u, perr := url.Parse(rc.RecoveryLink); perr == nil {
		out.FlowID = u.Query().Get("flow")
	}
	s.adminAudit(r, "admin_recovery_link", nil, id, map[string]any{"expires_in": expiresIn.String()})
	return httpjson.Write(w, http.StatusCreated, out)
}

// --- shared helpers -------------------------------------------------------

var pageTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_\-=+/.]{1,512}$`)

func pageSize(raw string) (int, string) {
	if raw == "" {
		return adminDefaultPageSize, ""
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > adminMaxPageSize {
		return 0, "must be a number from 1 to 250"
	}
	return n, ""
}

// nextPageToken reads the page_token of the rel="next" link of a Kratos
// paginated answer ("" on the last page).
func nextPageToken(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	for _, link := range strings.Split(resp.Header.Get("Link"), ",") {
		target, params, ok := strings.Cut(link, ";")
		if !ok || !strings.Contains(params, `rel="next"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err == nil {
			return u.Query().Get("page_token")
		}
	}
	return ""
}

// pathID reads a path value that must be a UUID, lower-cased (Kratos's form,
// which the session cache and the audit log compare against).
func pathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !uuidPattern.MatchString(v) {
		return "", httpjson.Invalid("Invalid "+name+" in the path.", map[string][]string{name: {"must be a UUID"}})
	}
	return strings.ToLower(v), nil
}

func identityNotFound() *apierror.Error {
	return apierror.New(http.StatusNotFound, "identity_not_found", "No identity has this id.").
		WithHint("List identities with GET /api/admin/identities.")
}

func refuseSelf(r *http.Request, id, what string) error {
	if p, _ := FromContext(r.Context()); p != nil && p.IdentityID == id {
		return apierror.New(http.StatusConflict, "cannot_modify_self", "Admins cannot "+what+" their own identity.").
			WithHint("Ask another admin to do it, so the server is never left without an admin by mistake.")
	}
	return nil
}

// adminKratosError maps a failed Kratos admin call: service failures as
// everywhere (503/502), 404 to notFound, 409 to account_exists, anything else
// as flowError does (Kratos's message as 400 request_refused).
func adminKratosError(ep *ory.Endpoint, err error, resp *http.Response, notFound *apierror.Error) error {
	if apiErr := ep.Check(err, resp); apiErr != nil {
		return apiErr
	}
	switch {
	case resp != nil && resp.StatusCode == http.StatusNotFound && notFound != nil:
		return notFound
	case resp != nil && resp.StatusCode == http.StatusConflict:
		return apierror.New(http.StatusConflict, "account_exists", "An account with this email already exists.").
			WithHint("Search it with GET /api/admin/identities?email=...")
	}
	return flowError(ep, err, resp)
}

func (s *Service) getIdentity(ctx context.Context, id string) (*client.Identity, error) {
	ka := s.ory.KratosAdmin
	ident, resp, err := ka.API.IdentityAPI.GetIdentity(ctx, id).Execute()
	if err != nil {
		return nil, adminKratosError(ka, err, resp, identityNotFound())
	}
	return ident, nil
}

// createIdentity creates one (validated) identity with a verified email. A
// Kratos create is atomic: it either exists afterwards or nothing does.
func (s *Service) createIdentity(ctx context.Context, req AdminCreateIdentityRequest) (*client.Identity, error) {
	traits := map[string]any{"email": req.Email}
	if req.Name != "" {
		traits["name"] = req.Name
	}
	body := client.NewCreateIdentityBody(identitySchemaID, traits)
	state := "active"
	body.State = &state
	if req.Password != "" {
		body.Credentials = &client.IdentityWithCredentials{Password: &client.IdentityWithCredentialsPassword{
			Config: &client.IdentityWithCredentialsPasswordConfig{Password: &req.Password}}}
	}
	verified := client.NewVerifiableIdentityAddress("completed", strings.ToLower(req.Email), true, "email")
	body.VerifiableAddresses = []client.VerifiableIdentityAddress{*verified}
	ka := s.ory.KratosAdmin
	ident, resp, err := ka.API.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(*body).Execute()
	if err != nil {
		return nil, adminKratosError(ka, err, resp, nil)
	}
	return ident, nil
}

// revokeAllSessions deletes every Kratos session of an identity. Kratos
// answers 404 when there was none, which is success here.
func (s *Service) revokeAllSessions(ctx context.Context, id string) error {
	ka := s.ory.KratosAdmin
	resp, err := ka.API.IdentityAPI.DeleteIdentitySessions(ctx, id).Execute()
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return adminKratosError(ka, err, resp, nil)
	}
	return nil
}

// normalize trims the request and returns per-field problems.
func (req *AdminCreateIdentityRequest) normalize() map[string][]string {
	req.Email, req.Name = strings.TrimSpace(req.Email), strings.TrimSpace(req.Name)
	fields := map[string][]string{}
	switch {
	case req.Email == "":
		fields["email"] = []string{"is required"}
	case !validEmail(req.Email):
		fields["email"] = []string{"must be an email address"}
	}
	if utf8.RuneCountInString(req.Name) > adminMaxName {
		fields["name"] = []string{"must be at most 200 characters"}
	}
	if req.Password != "" {
		if msgs := passwordProblems(req.Password, req.Email); len(msgs) > 0 {
			fields["password"] = msgs
		}
	}
	return fields
}

// validEmail accepts a bare address (no display name) that Kratos's
// "format": "email" also accepts: at most 254 characters, a local part of at
// most 64, a host name as domain.
func validEmail(e string) bool {
	if len(e) > 254 {
		return false
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e {
		return false
	}
	at := strings.LastIndexByte(e, '@')
	local, domain := e[:at], e[at+1:]
	if len(local) == 0 || len(local) > 64 || len(domain) == 0 || len(domain) > 253 {
		return false
	}
	for label := range strings.SplitSeq(domain, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

func passwordProblems(password, email string) []string {
	switch {
	case utf8.RuneCountInString(password) < adminMinPassword:
		return []string{"must be at least 8 characters"}
	case len(password) > adminMaxPassword:
		return []string{"must be at most 72 bytes"}
	case email != "" && strings.EqualFold(strings.TrimSpace(password), email):
		return []string{"must not be the email address"}
	}
	return nil
}

func toAdminIdentity(ident *client.Identity) AdminIdentity {
	email, name := traitsOf(ident.Traits)
	out := AdminIdentity{ID: ident.Id, Email: email, Name: name, State: "active",
		CreatedAt: ident.CreatedAt, UpdatedAt: ident.UpdatedAt, StateChangedAt: ident.StateChangedAt}
	if ident.State != nil {
		out.State = *ident.State
	}
	for _, a := range ident.VerifiableAddresses {
		if strings.EqualFold(a.Value, email) && a.Verified {
			out.EmailVerified = true
		}
	}
	return out
}

// markAdmins sets IsAdmin from TRUSS_ADMIN_IDENTITY_IDS and the admins table
// (one query for the whole page).
func (s *Service) markAdmins(ctx context.Context, ids []AdminIdentity) error {
	if len(ids) == 0 {
		return nil
	}
	all := make([]string, len(ids))
	for i := range ids {
		all[i] = ids[i].ID
	}
	rows, err := s.pool.Query(ctx, `SELECT identity_id::text FROM truss_internal.admins WHERE identity_id = ANY($1::uuid[])`, all)
	if err != nil {
		return err
	}
	defer rows.Close()
	admins := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		admins[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range ids {
		ids[i].IsAdmin = admins[ids[i].ID] || s.isConfiguredAdmin(ids[i].ID)
	}
	return nil
}

// adminAudit records an admin action: the calling admin as actor, success
// when err is nil, else the error code as details.reason.
func (s *Service) adminAudit(r *http.Request, action string, err error, subject string, details map[string]any) {
	actor := ""
	if p, _ := FromContext(r.Context()); p != nil {
		actor = p.IdentityID
	}
	if details == nil {
		details = map[string]any{}
	}
	if err != nil {
		details["reason"] = apierror.As(err).Code
	}
	s.audit(r, action, err == nil, actor, subject, details)
}

// decodeJSONArray is httpjson.Decode for a top-level array (the import
// body): same media-type check, strictness and error shape.
func decodeJSONArray[T any](r *http.Request, v *[]T) error {
	var raw json.RawMessage
	if err := httpjson.Decode(r, &raw); err != nil {
		return err
	}
	trimmed := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(trimmed, "[") {
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON, "The body must be a JSON array of rows.").
			WithHint(`Send [{"email": "...", "name": "...", "password": "..."}, ...].`)
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		msg := "The body could not be read as rows."
		if errors.As(err, &typeErr) {
			msg = "Field " + strconv.Quote(typeErr.Field) + " must be of type " + typeErr.Type.String() + "."
		} else if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			msg = "Unknown field " + f + "."
		}
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalidJSON, msg)
	}
	return nil
}
