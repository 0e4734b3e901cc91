package demo

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/auth"
	"github.com/trussdev/truss/internal/httpjson"
)

// api answers GET /demo/api/<path> from the demo tenant's data. It mirrors
// the shapes of the real endpoints the dashboard reads; it never calls
// internal/auth or Kratos.
func (h *Handler) api(w http.ResponseWriter, r *http.Request, path string) error {
	switch path {
	case "/auth/login":
		return httpjson.Write(w, http.StatusOK, map[string]any{"methods": []string{}, "registration_open": false,
			"csrf_header": "X-CSRF-Token", "demo": true})
	case "/auth/register":
		return httpjson.Write(w, http.StatusOK, map[string]any{"open": false, "fields": []string{}, "demo": true})
	case "/health", "/health/live":
		if h.opts.Health == nil {
			return apierror.NotFound()
		}
		h.opts.Health.ServeHTTP(w, r)
		return nil
	case "/auth/session":
		// Entering the demo: a visitor without a (valid) demo cookie gets one.
		if !h.validCookie(r) {
			h.setCookie(w)
		}
		p, err := h.principal(r)
		if err != nil {
			return err
		}
		return httpjson.Write(w, http.StatusOK, p)
	}
	if !h.validCookie(r) {
		return apierror.Unauthorized("No demo session: open /demo/ to start one.")
	}
	data := seed(h.opts.Now())
	switch {
	case path == "/auth/settings":
		return httpjson.Write(w, http.StatusOK, map[string]any{"email": Email, "name": "Demo Admin",
			"fields": []string{"email", "name", "password"}})
	case path == "/auth/mfa/status":
		return httpjson.Write(w, http.StatusOK, map[string]any{"aal": "aal1", "totp": false,
			"recovery_codes": map[string]any{"enabled": false, "remaining": 0},
			"webauthn":       map[string]any{"supported": false, "enrolled": false},
			"methods":        []string{"totp", "lookup_secret"}})
	case path == "/keto/namespaces":
		return h.ketoNamespaces(w)
	case path == "/keto/relation-tuples":
		return h.ketoTuples(w, r)
	case path == CheckPath && r.Method == http.MethodPost:
		return h.ketoCheck(w, r)
	case path == "/keto/expand":
		return h.ketoExpand(w, r)
	case path == "/keto/model":
		return h.ketoModel(w)
	case path == "/keto/model/versions":
		return httpjson.Write(w, http.StatusOK, map[string]any{"versions": []any{}})
	case path == "/hydra/clients":
		return h.clients(w, r)
	case path == "/keys":
		return h.keys(w, r)
	case path == "/settings/smtp":
		return h.smtpSettings(w)
	case path == "/email/outbox":
		return h.outbox(w, r)
	case path == "/auth/sessions":
		return h.mySessions(w, data)
	case path == "/admin/identities":
		return h.listUsers(w, r, data)
	case strings.HasPrefix(path, "/admin/identities/"):
		id, sub, _ := strings.Cut(strings.TrimPrefix(path, "/admin/identities/"), "/")
		u, ok := data.find(id)
		if !ok {
			return apierror.New(http.StatusNotFound, "identity_not_found", "No identity has this id.")
		}
		switch sub {
		case "":
			return httpjson.Write(w, http.StatusOK, u)
		case "sessions":
			s := data.sessions[u.ID]
			if s == nil {
				s = []seedSession{}
			}
			return httpjson.Write(w, http.StatusOK, map[string]any{"sessions": s})
		case "logins":
			l := data.logins[u.ID]
			if l == nil {
				l = []seedLogin{}
			}
			return httpjson.Write(w, http.StatusOK, map[string]any{"identity_id": u.ID, "email": u.Email, "logins": l})
		}
	}
	return apierror.New(http.StatusNotFound, apierror.CodeNotFound, "The demo does not have this endpoint.").
		WithHint("The demo shows accounts, users, permissions, OAuth2 clients, API keys, email and system health with example data.")
}

// principal is the demo identity: an admin of the demo tenant, is_demo.
func (h *Handler) principal(r *http.Request) (*auth.Principal, error) {
	tid, err := h.tenantID(r.Context())
	if err != nil {
		return nil, err
	}
	return &auth.Principal{IdentityID: IdentityID, Email: Email, Name: "Demo Admin", TenantID: tid, IsAdmin: true,
		IsDemo: true, SessionID: "demo", AAL: "aal1", ExpiresAt: h.opts.Now().Add(cookieMaxAge).UTC()}, nil
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, data seedData) error {
	q := r.URL.Query()
	search := strings.ToLower(strings.TrimSpace(q.Get("search")))
	email := strings.ToLower(strings.TrimSpace(q.Get("email")))
	size := 50
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			return httpjson.Invalid("Invalid query parameters.", map[string][]string{"page_size": {"must be a number from 1 to 250"}})
		}
		size = n
	}
	start, _ := strconv.Atoi(q.Get("page_token"))
	out := []seedUser{}
	for _, u := range data.users {
		if (email == "" || u.Email == email) && strings.HasPrefix(u.Email, search) {
			out = append(out, u)
		}
	}
	next := ""
	if start > len(out) {
		start = len(out)
	}
	out = out[start:]
	if len(out) > size {
		out, next = out[:size], strconv.Itoa(start+size)
	}
	return httpjson.Write(w, http.StatusOK, map[string]any{"identities": out, "next_page_token": next})
}
