package inspect_test

import (
	"strings"
	"testing"
)

func TestDescribeAndListFlagsMayComeBeforeTheSubcommandAsInNsc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ before, after []string }{
		{[]string{"describe", "--json", "account", "O"}, []string{"describe", "account", "O", "--json"}},
		{[]string{"describe", "-J", "operator"}, []string{"describe", "operator", "-J"}},
		{[]string{"describe", "-F", "sub", "account", "O"}, []string{"describe", "account", "O", "-F", "sub"}},
		{[]string{"describe", "-R", "user", "O", "-a", "O"}, []string{"describe", "user", "O", "-a", "O", "-R"}},
		{[]string{"describe", "-W", "account", "O"}, []string{"describe", "account", "O"}},
		{[]string{"list", "--json", "accounts"}, []string{"list", "accounts", "--json"}},
		{[]string{"list", "-J", "operators"}, []string{"list", "operators", "-J"}},
	} {
		if got, want := e.MustRun(tc.before...), e.MustRun(tc.after...); got != want {
			t.Errorf("signet %s differs from signet %s:\n%s\n%s", strings.Join(tc.before, " "), strings.Join(tc.after, " "), got, want)
		}
	}
}
