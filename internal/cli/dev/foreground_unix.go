//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package dev

import "golang.org/x/sys/unix"

// foreground says whether this process is in the terminal's foreground process group: a
// background job (`signet dev --ha &`) that reads its terminal is stopped by SIGTTIN.
func foreground(fd int) bool {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
