package auth

// Multi-factor authentication on Kratos's TOTP and lookup_secret (recovery
// code) methods, driven through native settings flows with the caller's
// session token:
//
//	GET    /api/auth/mfa/status                 what is enrolled, the session's AAL
//	POST   /api/auth/mfa/totp/setup             new secret + otpauth:// URI (a settings flow)
//	POST   /api/auth/mfa/totp/verify            {"flow_id","code"}: enrol the app
//	DELETE /api/auth/mfa/totp                   remove the app
//	POST   /api/auth/mfa/recovery-codes         new codes (not active until confirmed)
//	POST   /api/auth/mfa/recovery-codes/confirm {"flow_id"}: activate them
//	DELETE /api/auth/mfa/recovery-codes         remove them
//
// Kratos enforces the rest: settings changes need a privileged session
// (signed in within selfservice.flows.settings.privileged_session_max_age,
// else 403 reauthentication_required), and once a second factor exists an
// aal1 session is refused (403 mfa_required) until POST /api/auth/login
// completes it with {"totp_code"} or {"recovery_code"}.
//
// WebAuthn and passkeys are reported, not offered: Kratos v1.3.1 runs them in
// browser flows only (its webauthn and passkey strategies skip API flows),
// and Truss drives API flows exclusively.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	client "github.com/ory/client-go"

	"github.com/trussdev/truss/internal/apierror"
	"github.com/trussdev/truss/internal/httpjson"
	"github.com/trussdev/truss/internal/ory"
)

// mfaTOTPIssuer names Truss in authenticator apps (Kratos's totp.config.issuer
// in the dev stack is the same).
const mfaTOTPIssuer = "Truss"

// Kratos UI node names the MFA endpoints read.
const (
	mfaNodeTOTPSecret  = "totp_secret_key"
	mfaNodeTOTPQR      = "totp_qr"
	mfaNodeLookupCodes = "lookup_secret_codes"
)

// MFAState answers GET /api/auth/mfa/status and every MFA change.
type MFAState struct {
	// AAL is the current session's assurance level: aal1 (password) or
	// aal2 (a second factor was used or enrolled in this session).
	AAL           string                `json:"aal"`
	TOTP          bool                  `json:"totp"`
	RecoveryCodes MFARecoveryCodesState `json:"recovery_codes"`
	WebAuthn      MFAWebAuthnState      `json:"webauthn"`
	// Methods are the second factors Truss can enrol and complete.
	Methods []string `json:"methods"`
}

// MFARecoveryCodesState says whether recovery codes are active and how many
// are left unused.
type MFARecoveryCodesState struct {
	Enabled   bool `json:"enabled"`
	Remaining int  `json:"remaining"`
}

// MFAWebAuthnState reports security keys and passkeys. Supported is false:
// Kratos runs WebAuthn in browser flows only, Truss in API flows. Enrolled
// is true when the account has WebAuthn or passkey credentials anyway
// (added outside Truss); such an account cannot complete its second factor
// through Truss.
type MFAWebAuthnState struct {
	Supported bool `json:"supported"`
	Enrolled  bool `json:"enrolled"`
}

// MFATOTPSetup answers POST /api/auth/mfa/totp/setup. Secret and URI are shown
// once; the app is enrolled only after POST /api/auth/mfa/totp/verify with
// FlowID and a code from the app.
type MFATOTPSetup struct {
	FlowID    string    `json:"flow_id"`
	Secret    string    `json:"secret"`
	URI       string    `json:"uri"`
	QR        string    `json:"qr,omitempty"` // data:image/png URL from Kratos
	ExpiresAt time.Time `json:"expires_at"`
}

// MFATOTPVerifyRequest is the body of POST /api/auth/mfa/totp/verify.
type MFATOTPVerifyRequest struct {
	FlowID string `json:"flow_id"`
	Code   string `json:"code"`
}

// MFARecoveryCodes answers POST /api/auth/mfa/recovery-codes. The codes
// replace any existing ones only after POST .../recovery-codes/confirm with
// FlowID.
type MFARecoveryCodes struct {
	FlowID    string    `json:"flow_id"`
	Codes     []string  `json:"codes"`
	Confirmed bool      `json:"confirmed"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MFARecoveryCodesConfirmRequest is the body of POST
// /api/auth/mfa/recovery-codes/confirm.
type MFARecoveryCodesConfirmRequest struct {
	FlowID string `json:"flow_id"`
}

var mfaSixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// MFAStatus answers GET /api/auth/mfa/status.
func (s *Service) MFAStatus(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	st, err := s.mfaState(r.Context(), p)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, st)
}

// TOTPSetupStart answers POST /api/auth/mfa/totp/setup: a settings flow whose
// fresh TOTP secret Kratos keeps until it is verified.
func (s *Service) TOTPSetupStart(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	if err := mfaDecodeEmpty(r); err != nil {
		return err
	}
	flow, err := s.newSettingsFlow(r, p)
	if err != nil {
		s.audit(r, "mfa_totp_setup", false, p.IdentityID, p.Email, map[string]any{"reason": apierror.As(err).Code})
		return err
	}
	secret := mfaNodeText(flow, mfaNodeTOTPSecret)
	if secret == "" {
		err := apierror.New(http.StatusBadGateway, "kratos_totp_disabled", "Kratos offered no TOTP secret: the totp method is not enabled.").
			WithHint("Enable selfservice.methods.totp in kratos.yml.")
		if mfaNode(flow, "totp_unlink") != nil {
			err = apierror.New(http.StatusConflict, "totp_already_enrolled", "An authenticator app is already set up for this account.").
				WithHint("DELETE /api/auth/mfa/totp first to replace it.")
		}
		s.audit(r, "mfa_totp_setup", false, p.IdentityID, p.Email, map[string]any{"reason": err.Code})
		return err
	}
	res := MFATOTPSetup{FlowID: flow.Id, Secret: secret, URI: mfaOTPAuthURI(mfaTOTPIssuer, p.Email, secret), ExpiresAt: flow.ExpiresAt}
	if n := mfaNode(flow, mfaNodeTOTPQR); n != nil && n.Attributes.UiNodeImageAttributes != nil {
		res.QR = n.Attributes.UiNodeImageAttributes.Src
	}
	s.audit(r, "mfa_totp_setup", true, p.IdentityID, p.Email, map[string]any{"flow_id": flow.Id})
	return httpjson.Write(w, http.StatusOK, res)
}

// TOTPVerify answers POST /api/auth/mfa/totp/verify: the code proves the app
// holds the secret, Kratos stores it and raises this session to aal2.
func (s *Service) TOTPVerify(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	var req MFATOTPVerifyRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	req.FlowID = strings.TrimSpace(req.FlowID)
	req.Code = strings.ReplaceAll(strings.TrimSpace(req.Code), " ", "")
	fields := map[string][]string{}
	if !uuidPattern.MatchString(req.FlowID) {
		fields["flow_id"] = []string{"must be the flow_id from POST /api/auth/mfa/totp/setup"}
	}
	if !mfaSixDigits.MatchString(req.Code) {
		fields["code"] = []string{"must be the 6-digit code shown by the authenticator app"}
	}
	if len(fields) > 0 {
		return httpjson.Invalid("Send {\"flow_id\", \"code\"}.", fields)
	}
	// With an app already enrolled Kratos would answer success and keep that
	// one, whatever secret this flow showed: say so instead.
	st, err := s.mfaState(r.Context(), p)
	if err != nil {
		return err
	}
	if st.TOTP {
		s.audit(r, "mfa_totp_enroll", false, p.IdentityID, p.Email, map[string]any{"reason": "totp_already_enrolled"})
		return apierror.New(http.StatusConflict, "totp_already_enrolled", "An authenticator app is already set up for this account.").
			WithHint("DELETE /api/auth/mfa/totp first to replace it, then set up again.")
	}
	m := client.NewUpdateSettingsFlowWithTotpMethod("totp")
	m.TotpCode = &req.Code
	if _, err := s.updateSettingsFlow(r, p, req.FlowID, client.UpdateSettingsFlowWithTotpMethodAsUpdateSettingsFlowBody(m)); err != nil {
		s.audit(r, "mfa_totp_enroll", false, p.IdentityID, p.Email, map[string]any{"reason": apierror.As(err).Code})
		return err
	}
	s.audit(r, "mfa_totp_enroll", true, p.IdentityID, p.Email, nil)
	return s.writeMFAState(w, r, p)
}

// TOTPRemove answers DELETE /api/auth/mfa/totp. Without an app it succeeds
// unchanged: the goal state is reached either way.
func (s *Service) TOTPRemove(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	st, err := s.mfaState(r.Context(), p)
	if err != nil {
		return err
	}
	if !st.TOTP {
		return httpjson.Write(w, http.StatusOK, st)
	}
	flow, err := s.newSettingsFlow(r, p)
	if err == nil {
		m := client.NewUpdateSettingsFlowWithTotpMethod("totp")
		m.TotpUnlink = client.PtrBool(true)
		_, err = s.updateSettingsFlow(r, p, flow.Id, client.UpdateSettingsFlowWithTotpMethodAsUpdateSettingsFlowBody(m))
	}
	if err != nil {
		s.audit(r, "mfa_totp_remove", false, p.IdentityID, p.Email, map[string]any{"reason": apierror.As(err).Code})
		return err
	}
	s.audit(r, "mfa_totp_remove", true, p.IdentityID, p.Email, nil)
	return s.writeMFAState(w, r, p)
}

// RecoveryCodesGenerate answers POST /api/auth/mfa/recovery-codes: Kratos
// generates a new set, held in the flow until confirmed.
func (s *Service) RecoveryCodesGenerate(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	if err := mfaDecodeEmpty(r); err != nil {
		return err
	}
	flow, err := s.newSettingsFlow(r, p)
	if err == nil {
		m := client.NewUpdateSettingsFlowWithLookupMethod("lookup_secret")
		m.LookupSecretRegenerate = client.PtrBool(true)
		flow, err = s.updateSettingsFlow(r, p, flow.Id, client.UpdateSettingsFlowWithLookupMethodAsUpdateSettingsFlowBody(m))
	}
	var codes []string
	if err == nil {
		if codes = mfaLookupCodes(flow); len(codes) == 0 {
			err = apierror.New(http.StatusBadGateway, "kratos_no_recovery_codes", "Kratos generated no recovery codes.").
				WithHint("Check that selfservice.methods.lookup_secret is enabled in kratos.yml.")
		}
	}
	if err != nil {
		s.audit(r, "mfa_recovery_codes_generate", false, p.IdentityID, p.Email, map[string]any{"reason": apierror.As(err).Code})
		return err
	}
	s.audit(r, "mfa_recovery_codes_generate", true, p.IdentityID, p.Email, map[string]any{"flow_id": flow.Id, "count": len(codes)})
	return httpjson.Write(w, http.StatusOK, MFARecoveryCodes{FlowID: flow.Id, Codes: codes, ExpiresAt: flow.ExpiresAt})
}

// RecoveryCodesConfirm answers POST /api/auth/mfa/recovery-codes/confirm:
// the generated codes replace any previous ones.
func (s *Service) RecoveryCodesConfirm(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	var req MFARecoveryCodesConfirmRequest
	if err := httpjson.Decode(r, &req); err != nil {
		return err
	}
	if req.FlowID = strings.TrimSpace(req.FlowID); !uuidPattern.MatchString(req.FlowID) {
		return httpjson.Invalid("Send {\"flow_id\"}.", map[string][]string{
			"flow_id": {"must be the flow_id from POST /api/auth/mfa/recovery-codes"}})
	}
	m := client.NewUpdateSettingsFlowWithLookupMethod("lookup_secret")
	m.LookupSecretConfirm = client.PtrBool(true)
	if _, err := s.updateSettingsFlow(r, p, req.FlowID, client.UpdateSettingsFlowWithLookupMethodAsUpdateSettingsFlowBody(m)); err != nil {
		s.audit(r, "mfa_recovery_codes_confirm", false, p.IdentityID, p.Email, map[string]any{"reason": apierror.As(err).Code})
		return err
	}
	s.audit(r, "mfa_recovery_codes_confirm", true, p.IdentityID, p.Email, nil)
	return s.writeMFAState(w, r, p)
}

// RecoveryCodesDisable answers DELETE /api/auth/mfa/recovery-codes. Without
// codes it succeeds unchanged.
func (s *Service) RecoveryCodesDisable(w http.ResponseWriter, r *http.Request) error {
	p, _ := FromContext(r.Context())
	st, err := s.mfaState(r.Context(), p)
	if err != nil {
		return err
	}
	if !st.RecoveryCodes.Enabled {
		return httpjson.Write(w, http.StatusOK, st)
	}
	flow, err := s.newSettingsFlow(r, p)
	if err == nil {
		m := client.NewUpdateSettingsFlowWithLookupMethod("lookup_secret")
		m.LookupSecretDisable = client.PtrBool(true)
		_, err = s.updateSettingsFlow(r, p, flow.Id, client.UpdateSettingsFlowWithLookupMethodAsUpdateSettingsFlowBody(m))
	}
	if err != nil {
		s.audit(r, "mfa_recovery_codes_disable", false, p.IdentityID, p.Email, map[string]any{"reason": apierror.As(err).Code})
		return err
	}
	s.audit(r, "mfa_recovery_codes_disable", true, p.IdentityID, p.Email, nil)
	return s.writeMFAState(w, r, p)
}

// mfaState reads the identity's credentials through the admin API: only it
// tells how many recovery codes are left.
func (s *Service) mfaState(ctx context.Context, p *Principal) (MFAState, error) {
	st := MFAState{AAL: p.AAL, Methods: []string{"totp", "recovery_codes"}}
	if p.token == "" { // TRUSS_AUTH_REQUIRED=false: no Kratos identity
		return st, nil
	}
	ka := s.ory.KratosAdmin
	id, resp, err := ka.API.IdentityAPI.GetIdentity(ctx, p.IdentityID).
		IncludeCredential([]string{"totp", "lookup_secret", "webauthn", "passkey"}).Execute()
	if err != nil {
		if ka.Check(err, resp) == nil && resp.StatusCode == http.StatusNotFound {
			return st, apierror.Unauthorized("The account of this session no longer exists.")
		}
		return st, flowError(ka, err, resp)
	}
	creds := id.GetCredentials()
	if c, ok := creds["totp"]; ok {
		u, _ := c.Config["totp_url"].(string)
		st.TOTP = u != ""
	}
	if c, ok := creds["lookup_secret"]; ok {
		var cfg struct {
			RecoveryCodes []struct {
				UsedAt *time.Time `json:"used_at"`
			} `json:"recovery_codes"`
		}
		if err := mfaRemarshal(c.Config, &cfg); err != nil {
			return st, err
		}
		st.RecoveryCodes.Enabled = len(cfg.RecoveryCodes) > 0
		for _, rc := range cfg.RecoveryCodes {
			if rc.UsedAt == nil || rc.UsedAt.IsZero() {
				st.RecoveryCodes.Remaining++
			}
		}
	}
	for _, t := range []string{"webauthn", "passkey"} {
		if c, ok := creds[t]; ok {
			keys, _ := c.Config["credentials"].([]any)
			st.WebAuthn.Enrolled = st.WebAuthn.Enrolled || len(keys) > 0
		}
	}
	return st, nil
}

// writeMFAState answers a successful change: the session's cached principal
// (and every other cached session of the identity, which may no longer
// satisfy Kratos's AAL rule) is dropped, the fresh one cached.
func (s *Service) writeMFAState(w http.ResponseWriter, r *http.Request, p *Principal) error {
	s.cache.deleteIdentity(p.IdentityID)
	fresh, err := s.whoami(r.Context(), p.token)
	if err != nil {
		return err
	}
	s.cache.put(cacheKey(p.token), fresh)
	st, err := s.mfaState(r.Context(), fresh)
	if err != nil {
		return err
	}
	return httpjson.Write(w, http.StatusOK, st)
}

func (s *Service) newSettingsFlow(r *http.Request, p *Principal) (*client.SettingsFlow, error) {
	if p.token == "" {
		return nil, apierror.Unauthorized("Multi-factor authentication needs a signed-in Kratos account.")
	}
	kp := s.ory.KratosPublic
	flow, resp, err := kp.API.FrontendAPI.CreateNativeSettingsFlow(r.Context()).XSessionToken(p.token).Execute()
	if err != nil {
		return nil, mfaFlowError(kp, err, resp)
	}
	return flow, nil
}

func (s *Service) updateSettingsFlow(r *http.Request, p *Principal, flowID string, body client.UpdateSettingsFlowBody) (*client.SettingsFlow, error) {
	if p.token == "" {
		return nil, apierror.Unauthorized("Multi-factor authentication needs a signed-in Kratos account.")
	}
	kp := s.ory.KratosPublic
	flow, resp, err := kp.API.FrontendAPI.UpdateSettingsFlow(r.Context()).Flow(flowID).XSessionToken(p.token).
		UpdateSettingsFlowBody(body).Execute()
	if err != nil {
		return nil, mfaFlowError(kp, err, resp)
	}
	return flow, nil
}

// mfaFlowError is flowError with the settings-flow answers of the MFA
// methods named: a wrong TOTP code is the client's input, not a sign-in
// failure (401 would tell clients the session is gone).
func mfaFlowError(ep *ory.Endpoint, err error, resp *http.Response) error {
	ferr := flowError(ep, err, resp)
	if e := apierror.As(ferr); e.Status >= 500 || e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return ferr
	}
	var gen *client.GenericOpenAPIError
	if !errors.As(err, &gen) {
		return ferr
	}
	var body kratosBody
	_ = json.Unmarshal(gen.Body(), &body)
	if body.UI == nil {
		return ferr
	}
	for _, n := range body.UI.Nodes {
		for _, m := range n.Messages {
			if m.ID == msgInvalidTOTP {
				return apierror.New(http.StatusUnprocessableEntity, "invalid_totp_code", "The code does not match the authenticator app's secret.").
					WithHint("Enter the current 6-digit code (codes change every 30 seconds; check the device's clock), or start again with POST /api/auth/mfa/totp/setup.").
					WithDetails(map[string]any{"fields": map[string][]string{"code": {m.Text}}})
			}
		}
	}
	return ferr
}

func mfaNode(flow *client.SettingsFlow, name string) *client.UiNode {
	if flow == nil {
		return nil
	}
	for i, n := range flow.Ui.Nodes {
		a := n.Attributes
		switch {
		case a.UiNodeTextAttributes != nil && a.UiNodeTextAttributes.Id == name,
			a.UiNodeImageAttributes != nil && a.UiNodeImageAttributes.Id == name,
			a.UiNodeInputAttributes != nil && a.UiNodeInputAttributes.Name == name:
			return &flow.Ui.Nodes[i]
		}
	}
	return nil
}

func mfaNodeText(flow *client.SettingsFlow, name string) string {
	if n := mfaNode(flow, name); n != nil && n.Attributes.UiNodeTextAttributes != nil {
		return strings.TrimSpace(n.Attributes.UiNodeTextAttributes.Text.Text)
	}
	return ""
}

// mfaLookupCodes reads the lookup_secret_codes node: one message per code in
// its context (used ones say "used"), and the codes joined by ", " as text.
func mfaLookupCodes(flow *client.SettingsFlow) []string {
	n := mfaNode(flow, mfaNodeLookupCodes)
	if n == nil || n.Attributes.UiNodeTextAttributes == nil {
		return nil
	}
	t := n.Attributes.UiNodeTextAttributes.Text
	var codes []string
	if secrets, ok := t.Context["secrets"].([]any); ok {
		for _, s := range secrets {
			m, _ := s.(map[string]any)
			ctx, _ := m["context"].(map[string]any)
			if c, _ := ctx["secret"].(string); c != "" {
				codes = append(codes, c)
			}
		}
		return codes
	}
	for c := range strings.SplitSeq(t.Text, ",") {
		if c = strings.TrimSpace(c); c != "" && c != "used" {
			codes = append(codes, c)
		}
	}
	return codes
}

// mfaOTPAuthURI is the Key URI authenticator apps import (the format of
// Google Authenticator's wiki, which Kratos's own key URL follows).
func mfaOTPAuthURI(issuer, account, secret string) string {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}

// mfaDecodeEmpty accepts an empty body or an empty JSON object on the POST
// endpoints that take no parameters.
func mfaDecodeEmpty(r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var none struct{}
	return httpjson.Decode(r, &none)
}

func mfaRemarshal(in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}
