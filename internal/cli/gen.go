package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/trussdev/truss/internal/config"
	"github.com/trussdev/truss/internal/database"
	"github.com/trussdev/truss/internal/dbapi"
)

func runGen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen", "gen types typescript", `
Prints the TypeScript types of the database API's tables, views, functions and
enums (the schemas of DB_API_SCHEMAS in DATABASE_URL's database), in the shape
supabase-js and @supabase/postgrest-js take:

  truss gen types typescript > database.types.ts

  import type { Database } from './database.types'
  const db = new PostgrestClient<Database>(url + '/v1/db', { headers: { apikey } })`, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 || fs.Arg(0) != "types" || fs.Arg(1) != "typescript" {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := database.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	sc, err := dbapi.LoadSchema(ctx, pool, cfg.DBAPI.Schemas)
	if err != nil {
		return fmt.Errorf("reading the schema: %w", err)
	}
	_, err = io.WriteString(stdout, dbapi.TypeScript(sc, cfg.DBAPI.Schemas))
	return err
}
