package keto

// LockNamespacesFile lets tests edit the shared namespaces file the way
// Truss does.
func LockNamespacesFile(path string) (func(), error) { return lockFile(path + ".lock") }
