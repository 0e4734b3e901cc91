//go:build !unix

package keto

// lockFile is a no-op where flock does not exist: there, only one Truss
// process may write the namespaces file (the in-process mutex still holds).
func lockFile(string) (func(), error) { return func() {}, nil }
