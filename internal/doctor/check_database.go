package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/trussdev/truss/internal/database"
)

var databaseCheck = Check{
	ID:      "database.migrations",
	Title:   "PostgreSQL is reachable and Truss's schema is current",
	Symptom: "Truss exits at start-up with a database error, or endpoints answer 500 after an upgrade.",
	Fix:     "Check DATABASE_URL, then apply pending migrations with `truss migrate up` (or `docker compose run --rm truss migrate up`).",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		if env.Pool == nil {
			return []Result{c.resultFix(Fail, "cannot connect with DATABASE_URL", "Check DATABASE_URL (host, port, user, password, database) and that PostgreSQL runs.")}
		}
		ms, err := database.Status(ctx, env.Pool)
		if err != nil {
			return []Result{c.result(Fail, "reading migration status: "+err.Error())}
		}
		var pending []string
		for _, m := range ms {
			if !m.Applied {
				pending = append(pending, m.Name)
			}
		}
		if len(pending) > 0 {
			return []Result{c.result(Fail, "pending migrations: "+strings.Join(pending, ", "))}
		}
		return []Result{c.result(OK, fmt.Sprintf("%d migrations applied in schema %s", len(ms), database.Schema))}
	},
}

var clockCheck = Check{
	ID:      "time.skew",
	Title:   "This machine's clock agrees with the database's",
	Symptom: "TOTP codes are always refused, or sessions and tokens expire at once or too late.",
	Fix:     "Synchronise the clocks (systemd-timesyncd, chrony or ntpd) on the Truss host and the database host.",
	Run: func(ctx context.Context, env *Env, c Check) []Result {
		if env.Pool == nil {
			return []Result{c.result(Warn, "no database connection: clock not compared")}
		}
		var dbNow time.Time
		if err := env.Pool.QueryRow(ctx, "SELECT now()").Scan(&dbNow); err != nil {
			return []Result{c.result(Warn, "SELECT now(): "+err.Error())}
		}
		skew := env.Now().Sub(dbNow)
		if skew < 0 {
			skew = -skew
		}
		ev := fmt.Sprintf("clock differs from PostgreSQL's by %s", skew.Round(time.Millisecond))
		switch {
		case skew > 30*time.Second:
			return []Result{c.result(Fail, ev+" (TOTP allows about 30 s)")}
		case skew > 5*time.Second:
			return []Result{c.result(Warn, ev)}
		}
		return []Result{c.result(OK, ev)}
	},
}

var secretsCheck = Check{
	ID:      "secrets.strength",
	Title:   "No default or short secrets",
	Symptom: "Anyone who reads the docs can sign in as the admin.",
	Fix:     "Use a long random TRUSS_BOOTSTRAP_ADMIN_PASSWORD (or leave it empty to get a generated one) and change it after the first sign-in.",
	Run: func(_ context.Context, env *Env, c Check) []Result {
		pw := env.Cfg.BootstrapAdmin.Password
		weak := map[string]bool{"admin": true, "password": true, "changeme": true, "truss": true, "12345678": true}
		switch {
		case pw != "" && (weak[strings.ToLower(pw)] || len(pw) < 12):
			return []Result{c.result(Warn, "TRUSS_BOOTSTRAP_ADMIN_PASSWORD is short or a well-known default")}
		case env.Cfg.SMTP.Pass != "" && env.Cfg.SMTP.Port == 25:
			return []Result{c.resultFix(Warn, "SMTP credentials are configured for port 25, where they may travel unencrypted",
				"Use port 587 with STARTTLS for authenticated submission.")}
		}
		return []Result{c.result(OK, "no default or short secret found in Truss's configuration")}
	},
}
