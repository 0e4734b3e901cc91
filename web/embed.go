// Package web embeds the dashboard (a React + TypeScript + Vite app whose
// build lands in web/dist) into the truss binary. A checkout built without
// Node has no dist/index.html: Truss then serves a page that says how to
// build the dashboard, and the API works as usual.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Built reports whether the dashboard was built into this binary.
func Built() bool {
	_, err := fs.Stat(dist, "dist/index.html")
	return err == nil
}

// Handler serves the dashboard: static assets by path, index.html for every
// other path (client-side routing), or the "not built" page.
func Handler() http.Handler {
	if !Built() {
		return http.HandlerFunc(notBuilt)
	}
	sub, _ := fs.Sub(dist, "dist")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/")
		if path != "" {
			if _, err := fs.Stat(sub, path); err == nil {
				files.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, sub, "index.html")
	})
}

func notBuilt(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`<!doctype html><html><head><meta charset="utf-8"><title>Truss: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Truss is running; the dashboard was not built into this binary</h1>
<p>This binary was built without the web dashboard (no <code>web/dist</code>). The API works: try
<a href="/api/health"><code>/api/health</code></a>.</p>
<p>To include the dashboard, build it with Node.js and rebuild Truss:</p>
<pre>npm --prefix web ci &amp;&amp; npm --prefix web run build
go build -o bin/truss ./cmd/truss</pre>
<p><code>make dev</code> does both when npm is installed.</p>
</body></html>`))
}
