package email

import (
	"context"
	"errors"

	"github.com/trussdev/truss/internal/health"
)

// HealthCheck is the smtp entry of GET /api/health: it connects to the
// server of the settings in effect (runtime settings included), speaks TLS
// first on implicit-TLS ports, waits for the greeting and quits, without
// logging in (a probe every few seconds must not trip a provider's AUTH
// rate limits). The report names the environment's server; it is disabled
// when SMTP_HOST is empty.
func (s *Service) HealthCheck() health.Check {
	env := fromConfig(s.cfg.SMTP)
	target := ""
	if env.Enabled() {
		target = env.Addr()
	}
	return health.SMTPCheck(target, !env.Enabled(), func(ctx context.Context) (string, error) {
		st, err := s.Settings(ctx)
		if err != nil {
			return "", err
		}
		if !st.Enabled() {
			return "", errors.New("email is disabled by the runtime SMTP settings")
		}
		_, err = s.dial(ctx, st, nil, true)
		return "", err
	})
}
