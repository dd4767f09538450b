package entity_test

import (
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/store"
)

// TestEditFlagThatChangesNothingResignsAsNscDoes: nsc's edit commands re-sign when any of their
// edit flags is given, even one whose value changes nothing (a subject already allowed, --rm of
// one that is not, a service URL already there, --subject of edit export, which names the
// export), and exit 0; a script that passes one must not fail on signet with "nothing to edit".
// With only the flags that name what to edit, edit user, edit account and edit operator still
// fail, as nsc's do.
func TestEditFlagThatChangesNothingResignsAsNscDoes(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	e.MustRun("edit", "operator", "--service-url", "nats://a:4222")
	e.MustRun("add", "account", "A", "--allow-pub", "x")
	e.MustRun("add", "user", "U", "-a", "A", "--allow-pub", "x", "--conn-type", "STANDARD")
	e.MustRun("add", "export", "-a", "A", "-s", "foo")
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	// A user or an operator re-signed within a second with the same claims is the same JWT (its
	// jti is the claims' hash): only the account's (whose iat moves on) is compared.
	notCompared := func() (string, error) { return "", nil }
	account := func() (string, error) { return s.AccountJWT("A") }
	for _, tc := range []struct {
		args   []string
		want   string
		signed func() (string, error) // the JWT that must be re-signed
	}{
		{[]string{"edit", "user", "U", "-a", "A", "--allow-pub", "x"}, `edited user "U"`, notCompared},
		{[]string{"edit", "user", "U", "-a", "A", "--rm", "y"}, `edited user "U"`, notCompared},
		{[]string{"edit", "user", "U", "-a", "A", "--rm-response-perms"}, `edited user "U"`, notCompared},
		{[]string{"edit", "user", "U", "-a", "A", "--rm-source-network", "10.0.0.0/8"}, `edited user "U"`, notCompared},
		{[]string{"edit", "user", "U", "-a", "A", "--conn-type", "STANDARD"}, `edited user "U"`, notCompared},
		{[]string{"edit", "account", "A", "--allow-pub", "x"}, `edited account "A"`, account},
		{[]string{"edit", "account", "A", "--description", ""}, `edited account "A"`, account},
		{[]string{"edit", "operator", "--service-url", "nats://a:4222"}, `edited operator "O"`, notCompared},
		{[]string{"edit", "export", "-a", "A", "-s", "foo"}, `export "foo" of account "A"`, account},
	} {
		before, err := tc.signed()
		if err != nil {
			t.Fatal(err)
		}
		r := e.Run(tc.args...)
		if r.Error != nil || !strings.Contains(r.Err, tc.want) {
			t.Errorf("signet %s: %v\n%s", strings.Join(tc.args, " "), r.Error, r.Err)
			continue
		}
		if after, err := tc.signed(); err != nil || (after == before && before != "") {
			t.Errorf("signet %s did not re-sign what it edits (%v)", strings.Join(tc.args, " "), err)
		}
	}
	for _, args := range [][]string{{"edit", "user", "U", "-a", "A"}, {"edit", "account", "A"}, {"edit", "operator"}} {
		if msg := e.MustFail(args...); !strings.Contains(msg, "nothing to edit") {
			t.Errorf("signet %s: %s, want nothing to edit", strings.Join(args, " "), msg)
		}
	}
}
