package inspect_test

import (
	"strings"
	"testing"
)

// TestValidateFailsOnAUserNotYetValid: as nsc, an entity outside its validity (here a user whose
// start is a week ahead) is an error of validate, which exits non-zero naming it.
func TestValidateFailsOnAUserNotYetValid(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // operator O with SYS and O (one user each)
	e.MustRun("add", "user", "later", "-a", "O", "--start", "1w")
	msg := e.MustFail("validate", "-a", "O")
	r := e.Run("validate", "-a", "O")
	if !strings.Contains(r.Out+r.Err+msg, "not yet valid") {
		t.Errorf("validate does not name the issue:\n%s%s%s", r.Out, r.Err, msg)
	}
	e.MustRun("edit", "user", "later", "-a", "O", "--start", "0")
	e.MustRun("validate", "-a", "O")
}
