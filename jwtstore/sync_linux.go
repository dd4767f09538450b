package jwtstore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// platformSync returns syncfs(2) on the store's folder: one call makes every write of the file
// system durable, whatever the number of files and folders of the round. Where syncfs is
// refused, it falls back to an fsync of each file and folder.
func platformSync(root string) (syncFunc, func() error, error) {
	f, err := os.Open(root)
	if err != nil {
		return nil, nil, err
	}
	fd := int(f.Fd())
	each := syncEach(root)
	return func(files, dirs []string) error {
		err := unix.Syncfs(fd)
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return each(files, dirs)
		}
		return err
	}, f.Close, nil
}

// walSupported: the write-ahead log is used (flock keeps a second writer of the folder out of it).
const walSupported = true

// fdatasync makes a file's data durable, and of its metadata only what reading the data needs
// (its size when it grew): for the write-ahead log, overwritten in place, no journal commit.
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// tryLock takes an exclusive lock on f without waiting; false when another open file holds it.
// The lock goes with the file's close.
func tryLock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case !errors.Is(err, unix.EINTR):
			return false, err
		}
	}
}
