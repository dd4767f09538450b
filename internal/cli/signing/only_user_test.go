package signing_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestUserRevocationsPickTheOnlyUser: revocations add-user and delete-user with no user given
// act on the account's only user, as nsc does; an account with no user or with several still
// needs one named, and the refusal changes nothing.
func TestUserRevocationsPickTheOnlyUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if msg := e.MustFail("revocations", "add-user"); !strings.Contains(msg, "user name is required") {
		t.Errorf("no user: error %q", msg)
	}
	e.MustRun("add", "user", "U", "-a", "A")
	u := user(t, e, "A", "U")
	if st := e.MustRunStatus("revocations", "add-user"); !strings.Contains(st, u.Subject) {
		t.Errorf("add-user without a user:\n%s", st)
	}
	if !account(t, e, "A").IsClaimRevoked(u) {
		t.Fatal("the only user is not revoked")
	}
	e.MustRun("revocations", "delete-user")
	if ac := account(t, e, "A"); len(ac.Revocations) != 0 {
		t.Errorf("revocations left after delete-user: %v", ac.Revocations)
	}
	e.MustRun("add", "user", "V", "-a", "A")
	before := clitest.Snapshot(t, e.Home)
	if msg := e.MustFail("revocations", "add-user"); !strings.Contains(msg, "user name is required") || !strings.Contains(msg, "2 users") {
		t.Errorf("two users: error %q", msg)
	}
	if !maps.Equal(before, clitest.Snapshot(t, e.Home)) {
		t.Error("the refused revocation changed files")
	}
}
