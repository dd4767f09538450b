package inspect_test

import (
	"testing"

	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestListUsersOfAnAccountMakesItCurrentAsNscDoes: `list users -a A` leaves A the current
// account (nsc saves it), so a following command without -a acts on A.
func TestListUsersOfAnAccountMakesItCurrentAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // operator O with SYS and O (one user each)
	e.MustRun("add", "account", "B")
	e.MustRun("select", "account", "O")
	e.MustRun("list", "users", "-a", "B")
	e.MustRun("add", "user", "z")
	if !hasUser(t, e, "B", "z") || hasUser(t, e, "O", "z") {
		t.Errorf("after list users -a B, add user z went elsewhere than B")
	}
	// Without -a, the current account stays.
	e.MustRun("select", "account", "O")
	e.MustRun("list", "users")
	e.MustRun("add", "user", "y")
	if !hasUser(t, e, "O", "y") {
		t.Errorf("list users without -a changed the current account")
	}
}

func hasUser(t *testing.T, e *clitest.Env, account, user string) bool {
	t.Helper()
	return openStore(t, e, "O").HasUser(account, user)
}
