package doctor

import (
	"os"
	"strings"
	"testing"
)

// TestTroubleshootingGuideMatchesChecks keeps docs/troubleshooting.md equal
// to what the checks say. UPDATE_DOCS=1 rewrites it.
func TestTroubleshootingGuideMatchesChecks(t *testing.T) {
	const path = "../../docs/troubleshooting.md"
	want := Guide()
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run UPDATE_DOCS=1 go test ./internal/doctor/ -run TestTroubleshootingGuide)", err)
	}
	if string(got) != want {
		t.Fatal("docs/troubleshooting.md is out of date: run UPDATE_DOCS=1 go test ./internal/doctor/ -run TestTroubleshootingGuide")
	}
	for _, c := range Checks {
		if c.ID == "" || c.Title == "" || c.Symptom == "" || c.Fix == "" {
			t.Errorf("check %q lacks an id, title, symptom or fix", c.ID)
		}
	}
	// The commands and variables self-hosters know must all be in the guide.
	for _, s := range []string{"CSRF_COOKIE_DOMAIN", "CORS_ALLOWED_ORIGINS", "credentials: 'include'", "SMTP_PORT=587",
		"docker compose up -d kratos keto hydra", "docker logs truss-kratos-1 --tail 50", "docker compose exec kratos kratos migrate sql -e --yes",
		"curl -f http://localhost:4433/health/alive", "KETO_WRITE_URL", "HYDRA_ADMIN_URL", "SameSite=None"} {
		if !strings.Contains(want, s) {
			t.Errorf("guide lacks %q", s)
		}
	}
}
