package cli_test

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// groups lists the path of every command below the root that only groups subcommands.
func groups(t *testing.T) [][]string {
	t.Helper()
	root := cli.NewRootCmd(cmdutil.NewFactory(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, false))
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if !sub.HasSubCommands() {
				continue
			}
			p := append(append([]string{}, path...), sub.Name())
			out = append(out, p)
			walk(sub, p)
		}
	}
	walk(root, nil)
	return out
}

func TestMistypedSubcommandOfEveryGroupFailsWithSuggestion(t *testing.T) {
	t.Parallel()
	gs := groups(t)
	want := map[string]bool{"add": false, "edit": false, "describe": false, "list": false, "delete": false,
		"generate": false, "select": false, "revocations": false, "tool": false}
	for _, g := range gs {
		if _, ok := want[g[0]]; ok && len(g) == 1 {
			want[g[0]] = true
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("group %q not in the command tree", name)
		}
	}
	e := clitest.New(t, cli.NewRootCmd)
	root := cli.NewRootCmd(cmdutil.NewFactory(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, false))
	for _, g := range gs {
		group, _, err := root.Find(g)
		if err != nil {
			t.Fatal(err)
		}
		// A typo of the group's first subcommand: one letter dropped.
		first := group.Commands()[0].Name()
		typo := first[:len(first)-1]
		if isAlias(group, typo) {
			typo = first[1:] // nsc's singular aliases (list account) are commands, not typos
		}
		if typo == "" || group.Commands()[0].Hidden {
			continue
		}
		path := "signet " + strings.Join(g, " ")
		args := append(append([]string{}, g...), typo, "X")
		msg := e.MustFail(args...)
		if !strings.HasPrefix(msg, `unknown command "`+typo+`" for "`+path+`"`) || !strings.Contains(msg, "Did you mean this?\n\t"+first+"\n") {
			t.Errorf("%s %s X: error %q, want unknown command with a suggestion of %q", path, typo, msg, first)
		}
	}
	// The flags of the command meant do not hide the typo.
	msg := e.MustFail("add", "acount", "X", "-n", "Y", "--conns", "3")
	if !strings.HasPrefix(msg, `unknown command "acount" for "signet add"`) || !strings.Contains(msg, "\taccount\n") {
		t.Errorf("add acount X -n Y: %q", msg)
	}
	mustFailWith(t, e, `unknown command "profil" for "signet generate"`, "generate", "profil")
	// An unknown flag alone is still an unknown flag.
	mustFailWith(t, e, "unknown flag: --bogus", "add", "--bogus")
	// A bad flag of a command in a group, after the command's positional name, is reported as
	// that flag (not as an unknown command named after the positional).
	e.MustRun("init", "-n", "O")
	mustFailWith(t, e, "unknown flag: --bogus", "add", "user", "bob", "-a", "O", "--bogus")
	mustFailWith(t, e, `invalid argument "lots" for "--conns"`, "edit", "account", "O", "--conns", "lots")
}

// isAlias reports whether name is an alias of a subcommand of group.
func isAlias(group *cobra.Command, name string) bool {
	for _, c := range group.Commands() {
		if c.HasAlias(name) {
			return true
		}
	}
	return false
}

func mustFailWith(t *testing.T, e *clitest.Env, want string, args ...string) {
	t.Helper()
	if msg := e.MustFail(args...); !strings.Contains(msg, want) {
		t.Errorf("signet %s: error %q, want %q", strings.Join(args, " "), msg, want)
	}
}

func TestBareGroupPrintsItsHelpAndSucceedsAsNscDoes(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	for _, g := range [][]string{{"add"}, {"generate"}, {"tool"}, {"revocations"}} {
		out := e.MustRun(g...)
		if !strings.Contains(out, "Available Commands:") || !strings.Contains(out, "signet "+g[0]+" [command]") {
			t.Errorf("signet %s printed no help:\n%s", g[0], out)
		}
	}
}
