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

// TestScopedBearerUsersKeptOutOfAccountsThatDisallowBearer: a user signed by a scoped signing
// key whose template says --bearer is a bearer user to nats-server, which refuses it in an
// account that disallows bearer tokens. So `edit account --disallow-bearer` is refused while
// such a user exists, and the user keeps connecting; once the scope drops bearer, the account
// disallows bearer and the user still connects. In that account, turning bearer on in the
// user's scope is refused, a bearer scope without users only warns, and add user or edit user
// -K with it are refused, each changing nothing. nsc accepts all of these.
func TestScopedBearerUsersKeptOutOfAccountsThatDisallowBearer(t *testing.T) {
	t.Parallel()
	x := newEnforced(t)
	x.e.MustRun("add", "account", "X")
	x.e.MustRun("edit", "signing-key", "-a", "X", "--sk", "generate", "--role", "svc", "--bearer")
	x.e.MustRun("add", "user", "s", "-a", "X", "-K", "svc")
	x.push("X")
	connects := func(when string) {
		t.Helper()
		if _, err := x.dial("X", "s", nil); err != nil {
			t.Fatalf("%s: scoped user s cannot connect: %v", when, err)
		}
	}
	connects("bearer allowed")

	before := clitest.Snapshot(t, x.e.Home)
	r := x.e.Run("edit", "account", "X", "--disallow-bearer")
	x.push("X")
	connects("after edit account X --disallow-bearer and a push")
	if r.Error == nil {
		t.Fatal("edit account X --disallow-bearer succeeded while s is a bearer user through its scope")
	}
	for _, want := range []string{`user "s" of account "X" is a bearer user through scoped signing key`, "signet edit signing-key -a X --sk svc --bearer=false"} {
		if !strings.Contains(r.Error.Error(), want) {
			t.Errorf("edit account X --disallow-bearer: error %q lacks %q", r.Error, want)
		}
	}
	if !maps.Equal(before, clitest.Snapshot(t, x.e.Home)) {
		t.Fatal("the refused edit account --disallow-bearer changed files")
	}

	x.e.MustRun("edit", "signing-key", "-a", "X", "--sk", "svc", "--bearer=false")
	x.e.MustRun("edit", "account", "X", "--disallow-bearer")
	x.push("X")
	connects("scope without bearer, account disallowing bearer")

	warn := x.e.MustRunStatus("edit", "signing-key", "-a", "X", "--sk", "generate", "--role", "open", "--bearer")
	if !strings.Contains(warn, `[WARN] account "X" disallows bearer tokens, but the template of scoped signing key`) {
		t.Errorf("a bearer scope in a disallow-bearer account gives no warning:\n%s", warn)
	}
	before = clitest.Snapshot(t, x.e.Home)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"edit", "signing-key", "-a", "X", "--sk", "svc", "--bearer"}, `signs user(s) "s": with --bearer in its template the server would refuse them`},
		{[]string{"add", "user", "t", "-a", "X", "-K", "open"}, `user "t" would be a bearer user, which the server refuses`},
		{[]string{"edit", "user", "s", "-a", "X", "-K", "open"}, `user "s" would be a bearer user, which the server refuses`},
	} {
		msg := x.e.MustFail(tc.args...)
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "--disallow-bearer=false") {
			t.Errorf("signet %s: error %q lacks %q", strings.Join(tc.args, " "), msg, tc.want)
		}
		if !maps.Equal(before, clitest.Snapshot(t, x.e.Home)) {
			t.Fatalf("signet %s was refused but changed files", strings.Join(tc.args, " "))
		}
	}
	x.push("X")
	connects("after the refused edits")
}
