package devstack

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
)

// Secrets of a development stack, generated on first start and kept in
// secrets.json (mode 0600) so sessions and data survive restarts.
type Secrets struct {
	PostgresPassword string `json:"postgres_password"`
	KratosCookie     string `json:"kratos_cookie"`
	KratosCipher     string `json:"kratos_cipher"` // exactly 32 characters, as Kratos requires
	HydraSystem      string `json:"hydra_system"`
	// AdminPassword is the dev bootstrap admin's, shown by truss dev.
	AdminPassword string `json:"admin_password"`
	// TrussSecretKey is TRUSS_SECRET_KEY (encrypts the SMTP password an
	// admin stores at run time).
	TrussSecretKey string `json:"truss_secret_key"`
}

func loadSecrets(path string) (Secrets, error) {
	var s Secrets
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &s); err == nil && s.PostgresPassword != "" && len(s.KratosCipher) == 32 {
			if s.AdminPassword != "" && s.TrussSecretKey != "" {
				return s, nil
			}
			// secrets.json of an older truss dev
			if s.AdminPassword == "" {
				s.AdminPassword = rand.Text()
			}
			if s.TrussSecretKey == "" {
				s.TrussSecretKey = rand.Text() + rand.Text()
			}
			return s, writeSecrets(path, s)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	s = Secrets{PostgresPassword: rand.Text(), KratosCookie: rand.Text(), KratosCipher: rand.Text()[:26] + rand.Text()[:6],
		HydraSystem: rand.Text(), AdminPassword: rand.Text(), TrussSecretKey: rand.Text() + rand.Text()}
	return s, writeSecrets(path, s)
}

func writeSecrets(path string, s Secrets) error {
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(path, b, 0o600)
}

// AdminPassword is the development admin's password (kept in secrets.json).
func (s *Stack) AdminPassword() string { return s.secrets.AdminPassword }
