package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

var corsDashboardCheck = Check{
	ID:      "cors.dashboard_origin",
	Title:   "The dashboard's origin may call the API",
	Symptom: "The browser blocks the API's responses (CORS error in the console) and the session cookie is never stored.",
	Fix:     "Add the dashboard's origin (scheme://host[:port], no path) to CORS_ALLOWED_ORIGINS.",
	Run: func(_ context.Context, env *Env, c Check) []Result {
		dash := strings.ToLower(env.Dashboard.Scheme + "://" + env.Dashboard.Host)
		api := strings.ToLower(env.Cfg.PublicURL.Scheme + "://" + env.Cfg.PublicURL.Host)
		if dash == api {
			return []Result{c.result(OK, "the dashboard is served from the API's origin "+api+": no CORS needed")}
		}
		if slices.Contains(env.Cfg.CORSOrigins, dash) {
			return []Result{c.result(OK, "CORS_ALLOWED_ORIGINS includes the dashboard's origin "+dash)}
		}
		return []Result{c.resultFix(Fail, fmt.Sprintf("the dashboard's origin %s is not in CORS_ALLOWED_ORIGINS (%s)", dash, listOrNone(env.Cfg.CORSOrigins)),
			"Add it: CORS_ALLOWED_ORIGINS="+strings.Join(append(slices.Clone(env.Cfg.CORSOrigins), dash), ","))}
	},
}

var corsEntriesCheck = Check{
	ID:      "cors.entries",
	Title:   "CORS entries are exact origins",
	Symptom: "An origin listed in CORS_ALLOWED_ORIGINS is still refused: browsers send the bare origin, never a path, a trailing slash or a wildcard.",
	Fix:     "Write each entry as scheme://host[:port], e.g. https://app.example.com; Truss refuses `*` because credentials are sent.",
	Run: func(_ context.Context, env *Env, c Check) []Result {
		raw, _ := env.Raw("CORS_ALLOWED_ORIGINS")
		var notes []string
		for _, e := range strings.Split(raw, ",") {
			e = strings.TrimSpace(e)
			if strings.HasSuffix(e, "/") {
				notes = append(notes, fmt.Sprintf("%q has a trailing slash (Truss trims it; a proxy or Kratos comparing exactly will not)", e))
			}
			if e != strings.ToLower(e) {
				notes = append(notes, fmt.Sprintf("%q has upper-case letters (browsers send lower case)", e))
			}
		}
		if len(notes) > 0 {
			return []Result{c.result(Warn, strings.Join(notes, "; "))}
		}
		return []Result{c.result(OK, "entries: "+listOrNone(env.Cfg.CORSOrigins))}
	},
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "empty"
	}
	return strings.Join(l, ", ")
}
