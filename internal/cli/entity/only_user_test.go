package entity_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestEditUserPicksTheOnlyUser: with the user left out, edit user edits the account's only
// user, as nsc does; an account with no user or with several still needs the name, and the
// refusal changes nothing.
func TestEditUserPicksTheOnlyUser(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	e.MustRun("add", "account", "A")
	if msg := e.MustFail("edit", "user", "--tag", "x:y"); !strings.Contains(msg, "user name is required") {
		t.Errorf("no user: error %q", msg)
	}
	e.MustRun("add", "user", "U")
	if st := e.MustRunStatus("edit", "user", "--tag", "x:y"); !strings.Contains(st, `edited user "U"`) {
		t.Errorf("edit user without a name:\n%s", st)
	}
	uc, _, err := openO(t, e).User("A", "U")
	if err != nil {
		t.Fatal(err)
	}
	if !uc.Tags.Contains("x:y") {
		t.Errorf("tags of U: %v", uc.Tags)
	}
	e.MustRun("add", "user", "V")
	before := clitest.Snapshot(t, e.Home)
	if msg := e.MustFail("edit", "user", "--tag", "a:b"); !strings.Contains(msg, "user name is required") || !strings.Contains(msg, "2 users") {
		t.Errorf("two users: error %q", msg)
	}
	if !maps.Equal(before, clitest.Snapshot(t, e.Home)) {
		t.Error("the refused edit changed files")
	}
}
