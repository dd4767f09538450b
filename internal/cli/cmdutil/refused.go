package cmdutil

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/signet-dev/signet/ops"
)

// Refused reports whether err means that nothing listens at the address tried (ops.Refused).
func Refused(err error) bool { return ops.Refused(err) }

// RefusedHint says what to do when nothing listens at rawURL: on this machine, where signet dev
// listens, start `signet dev`; elsewhere, check the server and the URL.
func RefusedHint(rawURL string) string {
	if isLocal(rawURL) {
		return fmt.Sprintf("nothing is listening at %s: start `signet dev`, or the server meant to be there", rawURL)
	}
	return fmt.Sprintf("nothing is listening at %s: check that its server runs and that the URL is right", rawURL)
}

// WithRefusedHint is err with RefusedHint(rawURL) appended when nothing listens at rawURL, else
// err as it is.
func WithRefusedHint(err error, rawURL string) error {
	if !Refused(err) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, RefusedHint(rawURL))
}

// isLocal reports whether the first URL of a comma-separated list names this machine.
func isLocal(rawURL string) bool {
	first, _, _ := strings.Cut(rawURL, ",")
	u, err := url.Parse(strings.TrimSpace(first))
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}
