//go:build !linux

package jwtstore

import "os"

// platformSync returns an fsync of each file and folder of the round.
func platformSync(root string) (syncFunc, func() error, error) {
	return syncEach(root), func() error { return nil }, nil
}

// fdatasync is a full fsync where fdatasync is not at hand.
func fdatasync(f *os.File) error { return f.Sync() }

// walSupported: without flock here, two writable stores on one folder could share a log; the
// store syncs every round instead (syncEach), as it did before the log.
const walSupported = false

func tryLock(f *os.File) (bool, error) { return false, nil }
