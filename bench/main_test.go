//go:build bench

// Package bench holds Truss's benchmarks. They run against the real stack
// (`make bench`), apart from the tests, and report ratios against a
// baseline measured in the same run: these machines are noisy, so absolute
// numbers from different runs are not comparable.
package bench

import (
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
