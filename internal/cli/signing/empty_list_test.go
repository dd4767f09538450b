package signing_test

import (
	"strings"
	"testing"
)

// With nothing revoked, the revocation lists print no rows on stdout and say so on stderr, so
// that `signet revocations list-users | wc -l` counts revocations.
func TestEmptyRevocationListsSayItOnStderr(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"revocations", "list-users", "-a", "A"}, `account "A" has no revoked users`},
		{[]string{"revocations", "list-activations", "-a", "A"}, `account "A" has no revoked activations`},
	} {
		r := e.Run(c.args...)
		if r.Error != nil || r.Out != "" || !strings.Contains(r.Err, "[INFO] "+c.want) {
			t.Errorf("%v: %v\nstdout %q\nstderr %q", c.args, r.Error, r.Out, r.Err)
		}
	}
}
