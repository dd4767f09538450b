//go:build !linux

package accountserver

import "time"

// processCPU: CPU times are read from /proc and getrusage on Linux only; elsewhere the POST
// benchmark reports rates without them.
func processCPU(pid int) (time.Duration, bool) { return 0, false }
