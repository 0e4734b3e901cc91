package cli

import (
	"fmt"
	"io"
	"runtime"

	"github.com/trussdev/truss/internal/devstack"
	"github.com/trussdev/truss/internal/version"
)

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version", "Prints the Truss version, the Go version it was built with and the pinned servers of `truss dev`.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "truss %s (%s)\n", version.Version, runtime.Version())
	for _, t := range devstack.Tools {
		fmt.Fprintf(stdout, "  %-8s %s\n", t.Name, t.Version)
	}
	return nil
}
