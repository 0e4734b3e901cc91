package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	client "github.com/ory/client-go"
)

// BootstrapResult says what Bootstrap did; Password is set only when Truss
// generated it, so the caller can print it exactly once.
type BootstrapResult struct {
	Email      string
	IdentityID string
	Created    bool
	Password   string
}

// Bootstrap ensures the admin account of TRUSS_BOOTSTRAP_ADMIN_EMAIL exists
// in Kratos and is a Truss admin. It is idempotent: an existing account is
// promoted, never modified.
func (s *Service) Bootstrap(ctx context.Context) (BootstrapResult, error) {
	email := s.cfg.BootstrapAdmin.Email
	res := BootstrapResult{Email: email}
	if email == "" {
		return res, nil
	}
	ka := s.ory.KratosAdmin
	found, resp, err := ka.API.IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(email).Execute()
	if err != nil {
		return res, flowError(ka, err, resp)
	}
	if len(found) > 0 {
		res.IdentityID = found[0].Id
	} else {
		password := s.cfg.BootstrapAdmin.Password
		if password == "" {
			password = rand.Text()
			res.Password = password
		}
		body := client.NewCreateIdentityBody("default", map[string]any{"email": email, "name": "Admin"})
		body.Credentials = &client.IdentityWithCredentials{Password: &client.IdentityWithCredentialsPassword{
			Config: &client.IdentityWithCredentialsPasswordConfig{Password: &password}}}
		verified := client.NewVerifiableIdentityAddress("completed", email, true, "email")
		body.VerifiableAddresses = []client.VerifiableIdentityAddress{*verified}
		id, resp, err := ka.API.IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(*body).Execute()
		if err != nil {
			return res, flowError(ka, err, resp)
		}
		res.IdentityID, res.Created = id.Id, true
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO truss_internal.admins (identity_id) VALUES ($1) ON CONFLICT DO NOTHING`, res.IdentityID)
	return res, err
}

// BootstrapUntilDone retries Bootstrap until it succeeds or ctx ends: at
// start-up Kratos may still be coming up, and that must not stop Truss
// from serving.
func (s *Service) BootstrapUntilDone(ctx context.Context, done func(BootstrapResult)) {
	for delay := time.Second; ; delay = min(delay*2, 30*time.Second) {
		res, err := s.Bootstrap(ctx)
		if err == nil {
			done(res)
			return
		}
		s.log.Warn("bootstrap admin not ready yet; retrying", "email", res.Email, "error", fmt.Sprint(err), "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}
