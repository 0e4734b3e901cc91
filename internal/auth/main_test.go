package auth_test

import (
	"crypto/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// apiError is the API's error envelope.
type apiError testenv.APIError

type principal struct {
	IdentityID string `json:"identity_id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	TenantID   string `json:"tenant_id"`
	IsAdmin    bool   `json:"is_admin"`
	IsDemo     bool   `json:"is_demo"`
	AAL        string `json:"aal"`
}

func uniqueEmail() string { return "u-" + strings.ToLower(rand.Text()[:10]) + "@example.com" }

const password = testenv.Password

// sixDigits finds the one-time code in Kratos's emails.
var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)
