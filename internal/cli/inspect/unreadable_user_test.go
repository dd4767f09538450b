package inspect_test

import (
	"os"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/store"
)

// One unreadable user JWT does not hide the account's other users: list users names the bad
// file on stderr and lists the rest, fails only with --strict, and validate reports it.
func TestListUsersSkipsAnUnreadableUserJWT(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "user", "good", "-a", "O")
	e.MustRun("add", "user", "broken", "-a", "O")
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	bad := s.UserPath("O", "broken")
	if err := os.WriteFile(bad, []byte("not a jwt"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.Run("list", "users", "-a", "O", "--json")
	if r.Error != nil {
		t.Fatalf("list users failed for the whole account: %v", r.Error)
	}
	for _, want := range []string{`"good"`, `"O"`} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("list users lacks %s:\n%s", want, r.Out)
		}
	}
	if strings.Contains(r.Out, "broken") {
		t.Errorf("the unreadable user is listed on stdout:\n%s", r.Out)
	}
	if !strings.Contains(r.Err, "broken") || !strings.Contains(r.Err, bad) {
		t.Errorf("stderr does not name the unreadable file %s:\n%s", bad, r.Err)
	}
	if r := e.Run("list", "users", "-a", "O", "--strict"); r.Error == nil || !strings.Contains(r.Error.Error(), "broken") {
		t.Errorf("--strict: %v", r.Error)
	}
	r = e.Run("validate", "-a", "O")
	if !strings.Contains(r.Out+r.Err+errText(r.Error), "broken") {
		t.Errorf("validate does not report the unreadable user:\n%s\n%s\n%v", r.Out, r.Err, r.Error)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
