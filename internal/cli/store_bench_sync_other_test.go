//go:build !unix

package cli_test

// flushFilesystems is a no-op where sync(2) is not available.
func flushFilesystems() {}
