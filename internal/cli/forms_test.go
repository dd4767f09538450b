package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// The subject of a command (what it works on) is taken as the argument or as its flag alike,
// as nsc does (`describe account A`, `describe account -n A`), and in the forms people type
// that nsc lacks: `describe jwt FILE`, `init O`, `edit account -a A`.
func TestSubjectIsTakenAsArgumentOrFlagAlike(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	// init O and init -n O make the same chain.
	e.MustRun("init", "O")
	e.MustRun("init", "-n", "P")
	for _, op := range []string{"O", "P"} {
		if _, err := os.Stat(filepath.Join(e.StoresDir(), op, "accounts", op, op+".jwt")); err != nil {
			t.Errorf("init %s: %v", op, err)
		}
	}
	e.MustRun("select", "operator", "O")

	tok := e.MustRun("describe", "account", "O", "--raw")
	file := filepath.Join(e.Home, "a.jwt")
	if err := os.WriteFile(file, []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	byArg, byFlag := e.MustRun("describe", "jwt", file), e.MustRun("describe", "jwt", "-f", file)
	if byArg != byFlag || !strings.Contains(byArg, "Account") {
		t.Errorf("describe jwt FILE and -f FILE differ:\n%s\n%s", byArg, byFlag)
	}

	// edit account: the argument, -n and -a name the account.
	e.MustRun("add", "account", "B")
	for i, args := range [][]string{
		{"edit", "account", "B", "--conns", "1"},
		{"edit", "account", "-n", "B", "--conns", "2"},
		{"edit", "account", "-a", "B", "--conns", "3"},
		{"edit", "account", "--account", "B", "--conns", "4"},
	} {
		e.MustRun(args...)
		if got := e.MustRun("describe", "account", "B", "--field", "nats.limits.conn"); strings.TrimSpace(got) != string(rune('1'+i)) {
			t.Errorf("%v: conn limit %s", args, got)
		}
	}
	// describe account and delete account take -a too; describe user and generate creds take
	// the user as the argument.
	if a, b := e.MustRun("describe", "account", "-a", "B"), e.MustRun("describe", "account", "B"); a != b {
		t.Errorf("describe account -a B differs from describe account B")
	}
	e.MustRun("add", "user", "u", "-a", "B")
	if a, b := e.MustRun("generate", "creds", "u", "-a", "B"), e.MustRun("generate", "creds", "-n", "u", "-a", "B"); a != b || !strings.Contains(a, "NATS USER JWT") {
		t.Errorf("generate creds u and -n u differ:\n%s\n%s", a, b)
	}
	// edit signing-key takes the key as the argument, as nsc does, or --sk.
	e.MustRun("edit", "signing-key", "generate", "-a", "B", "--role", "svc", "--allow-sub", "q")
	e.MustRun("edit", "signing-key", "svc", "-a", "B", "--description", "by role")
	if d := e.MustRun("describe", "account", "B"); !strings.Contains(d, "by role") {
		t.Errorf("edit signing-key svc did not edit the key of role svc:\n%s", d)
	}
	e.MustRun("delete", "account", "-a", "B")
	if r := e.Run("describe", "account", "B"); r.Error == nil {
		t.Error("delete account -a B left B")
	}
	e.MustRun("delete", "operator", "-n", "P", "--force")
	if _, err := os.Stat(filepath.Join(e.StoresDir(), "P")); !os.IsNotExist(err) {
		t.Errorf("delete operator -n P: %v", err)
	}
}

func TestSubjectGivenTwiceDifferentlyIsRefused(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "O")
	e.MustRun("add", "account", "B")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"edit", "account", "B", "-a", "O", "--conns", "1"}, `account given twice, argument "B" and -a "O"`},
		{[]string{"edit", "account", "-n", "B", "-a", "O", "--conns", "1"}, `account given twice, -n "B" and -a "O"`},
		{[]string{"describe", "account", "B", "-n", "O"}, "given twice"},
		{[]string{"describe", "jwt", "x", "-f", "y"}, "given twice"},
		{[]string{"init", "O2", "-n", "O3"}, "given twice"},
		// Two words are two arguments: the error says to quote a name with spaces.
		{[]string{"add", "account", "my", "team"}, "quote a name with spaces"},
	} {
		if msg := e.MustFail(c.args...); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %q, want %q", c.args, msg, c.want)
		}
	}
	// The same value twice is no conflict.
	e.MustRun("edit", "account", "B", "-a", "B", "--conns", "5")
}
