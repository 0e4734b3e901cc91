package deploy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCourierTemplatesMatchDev: production mails look like the dev ones.
func TestCourierTemplatesMatchDev(t *testing.T) {
	dev, err := filepath.Glob("../internal/devstack/templates/courier/*")
	if err != nil || len(dev) == 0 {
		t.Fatalf("no dev courier templates: %v", err)
	}
	prod, _ := filepath.Glob("ory/kratos/courier/*")
	if len(prod) != len(dev) {
		t.Errorf("deploy has %d courier templates, dev has %d: copy internal/devstack/templates/courier/* to deploy/ory/kratos/courier/", len(prod), len(dev))
	}
	for _, f := range dev {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join("ory/kratos/courier", filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("deploy/ory/kratos/courier/%s differs from the dev template", filepath.Base(f))
		}
	}
}
