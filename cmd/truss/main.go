// Command truss is the Truss server: a self-hosted backend platform on
// PostgreSQL and the Ory stack. Run `truss --help` for its subcommands.
package main

import (
	"os"

	"github.com/trussdev/truss/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
