// Package version holds the Truss version, set at build time with
// -ldflags "-X github.com/trussdev/truss/internal/version.Version=v1.2.3".
package version

// Version of this build.
var Version = "dev"
