//go:build unix

package cli_test

import "syscall"

// flushFilesystems writes the benchmark store's files to disk, so that the first fsyncs of the
// measured commands do not pay for flushing hundreds of megabytes the fixture left dirty.
func flushFilesystems() { syscall.Sync() }
