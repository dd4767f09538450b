package signing_test

import (
	"strings"
	"testing"
)

func TestRotateCountsOneReissuedUserInTheSingular(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRunStatus("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "solo", "--allow-sub", "q.>")
	e.MustRun("add", "user", "only", "-a", "A", "-K", "solo")
	out := e.MustRunStatus("rotate", "signing-key", "-a", "A", "--old", "solo")
	if !strings.Contains(out, "re-issued 1 user\n") {
		t.Errorf("rotate with one user signed by the old key: %q, want `re-issued 1 user`", out)
	}
}
