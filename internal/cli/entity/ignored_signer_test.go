package entity_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestKThatNamesNoKeyIsIgnoredWithAWarning: nsc treats a -K that names no key (a mistyped seed,
// a seed file that is not there, as in the ~/.nkeys paths of older docs) as absent and signs with
// the identity key, exit 0; signet does the same on add/edit account and add/edit user, and says
// on stderr which -K it ignored and which key signed. Under strict signing-key usage it fails.
func TestKThatNamesNoKeyIsIgnoredWithAWarning(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	s := openStore(t, e, "O")
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	absent := filepath.Join(t.TempDir(), ".nkeys", "keys", "O", "OO", "O.nk")
	for _, args := range [][]string{
		{"add", "account", "A", "-K", "SOBADSEED"},
		{"edit", "account", "A", "--conns", "3", "-K", absent},
		{"add", "user", "U", "-a", "A", "-K", "nosuchrole"},
		{"edit", "user", "U", "-a", "A", "--tag", "x", "-K", absent},
		{"revocations", "add-user", "-a", "A", "-n", "U", "-K", "SOBADSEED"},
		{"revocations", "delete-user", "-a", "A", "-n", "U", "-K", absent},
		{"edit", "signing-key", "-a", "A", "--sk", "generate", "-K", "SOBADSEED"},
	} {
		out := e.MustRunStatus(args...)
		if !strings.Contains(out, "[WARN] -K ignored") || !strings.Contains(out, "identity key") {
			t.Errorf("signet %s: no warning that -K was ignored:\n%s", strings.Join(args, " "), out)
		}
	}
	ac, _, err := s.Account("A")
	if err != nil || ac.Issuer != oc.Subject || ac.Limits.Conn != 3 {
		t.Fatalf("account A: %v (issuer %s, conns %d), want signed by the operator identity key", err, ac.Issuer, ac.Limits.Conn)
	}
	uc, _, err := s.User("A", "U")
	if err != nil || uc.Issuer != ac.Subject || len(uc.Tags) != 1 {
		t.Fatalf("user U: %v, want signed by the account identity key with its tag", err)
	}

	// An account with a scoped signing key takes no -K that names no key for its users: it may
	// be a mistyped role, and the identity key would sign the user without the scope's limits.
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--allow-pub", "svc.>")
	msg := e.MustFail("add", "user", "V", "-a", "A", "-K", "scv")
	if !strings.Contains(msg, "roles: svc") || !strings.Contains(msg, "without a scope") {
		t.Errorf("-K naming no key, account with a scoped key: %s", msg)
	}
	if _, _, err := s.User("A", "V"); err == nil {
		t.Error("user V added with a -K that names no key, where the account has a scoped key")
	}

	e.MustRun("edit", "operator", "--sk", "generate")
	e.MustRun("edit", "account", "A", "--sk", "generate")
	e.MustRun("edit", "operator", "--require-signing-keys")
	if msg := e.MustFail("add", "account", "B", "-K", "SOBADSEED"); !strings.Contains(msg, "SOBADSEED") {
		t.Errorf("strict operator, -K naming no key: %s", msg)
	}
}
