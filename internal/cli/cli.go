// Package cli implements the truss command's subcommands. Each one parses
// its flags, reads the configuration and hands over to a feature package.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/trussdev/truss/internal/config"
)

type command struct {
	name  string
	short string
	run   func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "Serve the API and dashboard, using the services configured in the environment (production).", runServe},
		{"dev", "Start the whole stack locally (PostgreSQL, Kratos, Keto, Hydra, Mailpit) and serve Truss on it.", runDev},
		{"migrate", "Apply (up) or list (status) Truss's database migrations.", runMigrate},
		{"doctor", "Diagnose this installation: cookies, CORS, proxy, Ory, SMTP, database, clock; each with its fix.", runDoctor},
		{"gen", "Print the TypeScript types of the database API (gen types typescript) for supabase-js / postgrest-js.", runGen},
		{"version", "Print the Truss version and the pinned Ory versions.", runVersion},
	}
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")

// exitError carries a specific exit code (truss dev --exec passes on the
// command's).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the truss command and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		var ee exitError
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, errUsage):
			return 2
		}
		if es, ok := config.AsErrors(err); ok {
			fmt.Fprintln(stderr, "truss:", es.Error())
			fmt.Fprintln(stderr, "See the configuration table in the README for every variable and its default.")
			return 1
		}
		fmt.Fprintln(stderr, "truss:", err)
		return 1
	}
	fmt.Fprintf(stderr, "truss: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "truss: a self-hosted backend platform on PostgreSQL and the Ory stack.")
	fmt.Fprintln(w, "\nUsage: truss <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w, "\nRun `truss <command> --help` for a command's flags. Configuration comes from environment\n"+
		"variables (API_PORT, DATABASE_URL, KRATOS_PUBLIC_URL, ...): see the README's configuration table.")
}

// newFlagSet builds a subcommand's flag set with a help text that explains it.
func newFlagSet(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: truss %s\n\n%s\n", synopsis, strings.TrimSpace(description))
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
