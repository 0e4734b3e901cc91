package dashboardtest

import (
	"testing"

	"github.com/trussdev/truss/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
