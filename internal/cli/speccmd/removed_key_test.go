package speccmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
)

// TestApplyKeepsUsersOfARemovedSigningKeyWorking: a file that takes away an account's unscoped
// signing key re-signs the users that key signed, the ones it does not list too (plan says so),
// so a nats-server still admits them; a second plan finds nothing to do. A user of a scoped
// key the file takes away is left alone (re-signing it unscoped would widen it): plan warns
// that it will stop working, and the server refuses it.
func TestApplyKeepsUsersOfARemovedSigningKeyWorking(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A", "--sk", "generate")
	e.MustRun("add", "user", "u", "-a", "A")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--allow-pub", "svc.>")
	e.MustRun("add", "user", "scoped", "-a", "A", "-K", "svc")
	s := openStore(t, e, "O")
	ac := account(t, s, "A")
	uc, _, err := s.User("A", "u")
	if err != nil {
		t.Fatal(err)
	}
	if !ac.SigningKeys.Contains(uc.Issuer) {
		t.Fatalf("u is not signed by A's signing key (%s): the test needs it", uc.Issuer)
	}
	file := filepath.Join(e.Home, "auth.yaml")
	if err := os.WriteFile(file, []byte("system_account: SYS\naccounts:\n"+sysSpec+"  A: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.Run("plan", "-f", file)
	if exitCode(r.Error) != 2 || !strings.Contains(r.Out, `~ change user "u" of account "A"`) || !strings.Contains(r.Out, "the file removes its signing key") {
		t.Fatalf("plan: exit %d\n%s", exitCode(r.Error), r.Out)
	}
	if !strings.Contains(r.Out, `! user "scoped" of account "A" is not in the file and is signed by scoped signing key`) ||
		!strings.Contains(r.Out, "it will stop working") {
		t.Errorf("plan does not warn about the scoped user it cuts off:\n%s", r.Out)
	}
	e.MustRun("apply", "-f", file)
	if r := e.Run("plan", "-f", file); exitCode(r.Error) != 0 {
		t.Errorf("plan after apply: exit %d\n%s", exitCode(r.Error), r.Out)
	}
	ac = account(t, s, "A")
	uc, _, err = s.User("A", "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(ac.SigningKeys) != 0 || uc.Issuer != ac.Subject {
		t.Fatalf("after apply: A's signing keys %v, u issued by %s", ac.SigningKeys.Keys(), uc.Issuer)
	}
	tr, preload := natstest.FromStore(t, s)
	srv := natstest.StartMemory(t, tr, preload)
	creds := keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", "A", "u")
	nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(creds))
	if err != nil {
		t.Fatalf("u cannot connect after apply: %v", err)
	}
	nc.Close()
	scoped := keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", "A", "scoped")
	if nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(scoped), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Error("the user of the removed scoped key still connects: plan's warning was wrong")
	}
}
