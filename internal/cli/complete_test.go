package cli_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// complete runs cobra's hidden __complete command, which the shell scripts call on TAB, and
// returns the suggestions (without the directive line).
func complete(t *testing.T, e *clitest.Env, args ...string) []string {
	t.Helper()
	out := e.MustRun(append([]string{"__complete"}, args...)...)
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" || strings.HasPrefix(l, ":") {
			continue
		}
		name, _, _ := strings.Cut(l, "\t") // a description may follow a tab
		got = append(got, name)
	}
	return got
}

func completionEnv(t *testing.T) *clitest.Env {
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "O")
	e.MustRun("add", "operator", "Other", "--sys")
	e.MustRun("select", "operator", "O")
	e.MustRun("add", "account", "alpha")
	e.MustRun("add", "account", "beta")
	e.MustRun("add", "user", "ann", "-a", "alpha")
	e.MustRun("add", "user", "andy", "-a", "alpha")
	e.MustRun("add", "user", "bob", "-a", "beta")
	return e
}

func TestCompletionSuggestsAccountsForAccountFlags(t *testing.T) {
	t.Parallel()
	e := completionEnv(t)
	want := []string{"O", "SYS", "alpha", "beta"}
	for _, args := range [][]string{
		{"add", "user", "-a", ""},
		{"edit", "account", "-a", ""},
		{"edit", "account", "--name", ""},
		{"push", "--account", ""},
		{"tool", "pub", "-a", ""},
		{"describe", "account", ""},
		{"select", "account", ""},
	} {
		if got := complete(t, e, args...); !slices.Equal(got, want) {
			t.Errorf("%v: %v, want %v", args, got, want)
		}
	}
	if got := complete(t, e, "edit", "user", "-a", "al"); !slices.Equal(got, []string{"alpha"}) {
		t.Errorf("-a al: %v", got)
	}
	// -a of list users follows its --operator.
	if got := complete(t, e, "list", "users", "-o", "Other", "-a", ""); !slices.Equal(got, []string{"SYS"}) {
		t.Errorf("list users -o Other -a: %v", got)
	}
}

func TestCompletionSuggestsUsersOfTheAccountForNameAndUserFlags(t *testing.T) {
	t.Parallel()
	e := completionEnv(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"edit", "user", "-a", "alpha", "-n", ""}, []string{"andy", "ann"}},
		{[]string{"edit", "user", "-a", "beta", "-n", ""}, []string{"bob"}},
		{[]string{"describe", "user", "-a", "alpha", "an"}, []string{"andy", "ann"}},
		{[]string{"generate", "creds", "-a", "beta", "--name", ""}, []string{"bob"}},
		{[]string{"delete", "user", "-a", "alpha", "ann", ""}, []string{"andy"}},
		{[]string{"revocations", "add-user", "-a", "alpha", "-n", "and"}, []string{"andy"}},
		{[]string{"tool", "sub", "-a", "alpha", "-u", ""}, []string{"andy", "ann"}},
	} {
		if got := complete(t, e, c.args...); !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.args, got, c.want)
		}
	}
	// New names and export names are not suggested.
	for _, args := range [][]string{{"add", "user", "-a", "alpha", "-n", ""}, {"add", "account", ""}} {
		if got := complete(t, e, args...); len(got) != 0 {
			t.Errorf("%v: %v, want nothing", args, got)
		}
	}
}

func TestCompletionSuggestsOperatorsForOperatorFlags(t *testing.T) {
	t.Parallel()
	e := completionEnv(t)
	want := []string{"O", "Other"}
	for _, args := range [][]string{
		{"list", "accounts", "--operator", ""},
		{"env", "--operator", ""},
		{"describe", "operator", ""},
		{"describe", "operator", "-n", ""},
		{"select", "operator", ""},
		{"delete", "operator", ""},
	} {
		if got := complete(t, e, args...); !slices.Equal(got, want) {
			t.Errorf("%v: %v, want %v", args, got, want)
		}
	}
}

func TestCompletionSuggestsSigningKeyRoles(t *testing.T) {
	t.Parallel()
	e := completionEnv(t)
	e.MustRun("edit", "signing-key", "-a", "alpha", "--sk", "generate", "--role", "svc", "--allow-sub", "q")
	got := complete(t, e, "edit", "signing-key", "-a", "alpha", "--sk", "")
	if !slices.Contains(got, "svc") || !slices.Contains(got, "generate") || len(got) != 3 {
		t.Errorf("edit signing-key --sk: %v, want generate, svc and the key", got)
	}
}
