package apikey

import (
	"net/http"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
)

// createRequest is the body of POST /api/keys and POST /v1/keys.
type createRequest struct {
	KeyType Type   `json:"key_type"`
	Label   string `json:"label"`
}

// created is a key with its secret, returned once.
type created struct {
	Key
	Secret string `json:"key"`
}

// owner is who acts on keys: a dashboard principal or a service_role caller.
type owner struct {
	tenantID  string
	createdBy *string
	admin     bool // may create service_role keys
}

func dashboardOwner(r *http.Request) owner {
	p, _ := auth.FromContext(r.Context())
	id := p.IdentityID
	return owner{tenantID: p.TenantID, createdBy: &id, admin: p.IsAdmin}
}

func v1Owner(r *http.Request) owner {
	c, _ := FromContext(r.Context())
	// A service_role key may make service_role keys of its own tenant: it
	// already has every power they give.
	return owner{tenantID: c.TenantID, admin: c.Role == RoleServiceRole}
}

// Dashboard handlers (/api/keys, behind auth.Require).

// ListHandler answers GET /api/keys.
func (s *Service) ListHandler(w http.ResponseWriter, r *http.Request) error {
	return s.list(w, r, dashboardOwner(r))
}

// CreateHandler answers POST /api/keys.
func (s *Service) CreateHandler(w http.ResponseWriter, r *http.Request) error {
	return s.create(w, r, dashboardOwner(r))
}

// RevokeHandler answers DELETE /api/keys/{id}.
func (s *Service) RevokeHandler(w http.ResponseWriter, r *http.Request) error {
	return s.revoke(w, r, dashboardOwner(r))
}

// RotateHandler answers POST /api/keys/{id}/rotate.
func (s *Service) RotateHandler(w http.ResponseWriter, r *http.Request) error {
	return s.rotate(w, r, dashboardOwner(r))
}

// /v1/keys handlers (behind RequireService).

// V1List answers GET /v1/keys.
func (s *Service) V1List(w http.ResponseWriter, r *http.Request) error {
	return s.list(w, r, v1Owner(r))
}

// V1Create answers POST /v1/keys.
func (s *Service) V1Create(w http.ResponseWriter, r *http.Request) error {
	return s.create(w, r, v1Owner(r))
}

// V1Revoke answers DELETE /v1/keys/{id}.
func (s *Service) V1Revoke(w http.ResponseWriter, r *http.Request) error {
	return s.revoke(w, r, v1Owner(r))
}

// V1Rotate answers POST /v1/keys/{id}/rotate.
func (s *Service) V1Rotate(w http.ResponseWriter, r *http.Request) error {
	return s.rotate(w, r, v1Owner(r))
}

func (s *Service) list(w http.ResponseWriter, r *http.Request, o owner) error {
	keys, err := s.List(r.Context(), o.tenantID)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"keys": keys})
}

func (s *Service) create(w http.ResponseWriter, r *http.Request, o owner) error {
	var req createRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	req.Label = strings.TrimSpace(req.Label)
	fields := map[string][]string{}
	if req.KeyType != Anon && req.KeyType != ServiceRole {
		fields["key_type"] = []string{`must be "anon" or "service_role"`}
	}
	if len(req.Label) > 200 {
		fields["label"] = []string{"at most 200 characters"}
	}
	if len(fields) > 0 {
		return httpjson.Invalid("The key cannot be created.", fields)
	}
	if req.KeyType == ServiceRole && !o.admin {
		return errServiceKeyForbidden()
	}
	k, secret, err := s.Create(r.Context(), o.tenantID, o.createdBy, req.KeyType, req.Label)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusCreated, created{Key: k, Secret: secret})
}

func errServiceKeyForbidden() *apierror.Error {
	return apierror.New(http.StatusForbidden, apierror.CodeForbidden, "Only Truss admins may create or rotate service_role keys.").
		WithHint("service_role bypasses row-level security on the whole database; ask an admin, or use an anon key.")
}

func validID(id string) error {
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		return apierror.New(http.StatusBadRequest, apierror.CodeBadRequest, "The key id must be a UUID.")
	}
	return nil
}

func (s *Service) revoke(w http.ResponseWriter, r *http.Request, o owner) error {
	id := r.PathValue("id")
	if err := validID(id); err != nil {
		return err
	}
	k, err := s.Revoke(r.Context(), o.tenantID, id)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, k)
}

func (s *Service) rotate(w http.ResponseWriter, r *http.Request, o owner) error {
	id := r.PathValue("id")
	if err := validID(id); err != nil {
		return err
	}
	old, err := s.Get(r.Context(), o.tenantID, id)
	if err != nil {
		return err
	}
	if old.KeyType == ServiceRole && !o.admin {
		return errServiceKeyForbidden()
	}
	k, secret, err := s.Rotate(r.Context(), o.tenantID, id, o.createdBy)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusCreated, created{Key: k, Secret: secret})
}
