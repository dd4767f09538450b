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
