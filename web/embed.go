// Package web embeds the dashboard (a React + TypeScript + Vite app whose
// build lands in web/dist) into the truss binary. A checkout built without
// Node has no dist/index.html: Truss then serves a page that says how to
// build the dashboard, and the API works as usual.
package web

import (
	"bytes"
	"embed"
	"encoding/json"
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

// RuntimeConfig is the dashboard's run-time configuration, injected into
// index.html as window.__TRUSS__ (web/src/config.ts reads it). A dashboard
// deployed on another origin sets the same global in its own index.html, or
// is built with VITE_API_URL.
type RuntimeConfig struct {
	// APIURL is prepended to /api/... (empty: VITE_API_URL from the build, else the page's own origin).
	APIURL string `json:"apiUrl,omitempty"`
	// BasePath is the path prefix the app is mounted under ("" or "/demo").
	BasePath string `json:"basePath,omitempty"`
	// Demo runs the app as the read-only demo.
	Demo bool `json:"demo"`
}

// configMarker is the comment in index.html replaced by the config script.
const configMarker = "<!--truss:config-->"

// Index returns index.html with cfg injected, or false when the dashboard
// was not built into this binary.
func Index(cfg RuntimeConfig) ([]byte, bool) {
	raw, err := fs.ReadFile(dist, "dist/index.html")
	if err != nil {
		return nil, false
	}
	js, _ := json.Marshal(cfg) // escapes <, > and &: safe inside <script>
	script := []byte("<script>window.__TRUSS__=" + string(js) + "</script>")
	if !bytes.Contains(raw, []byte(configMarker)) {
		return bytes.Replace(raw, []byte("</head>"), append(script, []byte("</head>")...), 1), true
	}
	return bytes.Replace(raw, []byte(configMarker), script, 1), true
}

// Handler serves the dashboard at /: static assets by path, index.html for
// every other path (client-side routing), or the "not built" page.
func Handler() http.Handler { return HandlerWith(RuntimeConfig{}) }

// HandlerWith is Handler with a runtime configuration injected into
// index.html, e.g. the API's URL when the dashboard is served from another
// origin than the API.
func HandlerWith(cfg RuntimeConfig) http.Handler {
	if !Built() {
		return http.HandlerFunc(notBuilt)
	}
	sub, _ := fs.Sub(dist, "dist")
	files := http.FileServerFS(sub)
	index := App(cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/")
		if path != "" && path != "index.html" {
			if st, err := fs.Stat(sub, path); err == nil && !st.IsDir() {
				if strings.HasPrefix(path, "assets/") {
					// Vite puts a content hash in every asset name.
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		index.ServeHTTP(w, r)
	})
}

// App serves index.html with cfg injected for every request (the app routes
// on the client; its assets are under /assets/, served by Handler).
func App(cfg RuntimeConfig) http.Handler {
	page, ok := Index(cfg)
	if !ok {
		return http.HandlerFunc(notBuilt)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(page)
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
