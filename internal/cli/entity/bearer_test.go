package entity_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestBearerUserRefusedWhereTheAccountDisallowsBearer: in an account with --disallow-bearer,
// add user --bearer and edit user --bearer are refused, as nsc refuses them, and change
// nothing; --disallow-bearer on an account that has a bearer user is refused too, as in nsc.
func TestBearerUserRefusedWhereTheAccountDisallowsBearer(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "U", "-a", "A")
	e.MustRun("edit", "account", "A", "--disallow-bearer")
	e.MustRun("add", "account", "X")
	e.MustRun("add", "user", "B", "-a", "X", "--bearer")

	before := clitest.Snapshot(t, e.Home)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"add", "user", "B", "-a", "A", "--bearer"}, []string{`account "A" forbids the use of bearer tokens`, "--disallow-bearer=false"}},
		{[]string{"edit", "user", "U", "-a", "A", "--bearer"}, []string{`account "A" forbids the use of bearer tokens`}},
		{[]string{"edit", "account", "X", "--disallow-bearer"}, []string{`user "B" of account "X" uses a bearer token`, "--bearer=false"}},
	} {
		msg := e.MustFail(tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("signet %s: error %q lacks %q", strings.Join(tc.args, " "), msg, w)
			}
		}
		if !maps.Equal(before, clitest.Snapshot(t, e.Home)) {
			t.Fatalf("signet %s was refused but changed files", strings.Join(tc.args, " "))
		}
	}
	// Without --bearer both accounts take users as before.
	e.MustRun("add", "user", "V", "-a", "A")
	e.MustRun("edit", "user", "B", "-a", "X", "--bearer=false")
	e.MustRun("edit", "account", "X", "--disallow-bearer")
}
