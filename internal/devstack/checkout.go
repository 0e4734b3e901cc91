package devstack

import (
	"fmt"
	"os"
	"path/filepath"
)

// FindCheckout walks up from dir to the Truss checkout: the directory whose
// tools/ holds the servers' tool modules. truss dev builds the Ory servers
// from there, so it must run inside a checkout.
func FindCheckout(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "tools", "kratos", "go.mod")); err == nil {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("%s is not inside a Truss checkout (no tools/kratos/go.mod above it); "+
				"truss dev builds the Ory servers from the checkout's tools/ modules", abs)
		}
	}
}

// Dir is the stack's state directory.
func (s *Stack) Dir() string { return s.opts.Dir }
