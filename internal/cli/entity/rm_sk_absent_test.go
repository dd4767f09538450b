package entity_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestRmSkOfAKeyThatIsNotThereWarnsAndExitsZero: nsc's edit account/operator --rm-sk removes
// the keys that are there and exits 0 for one that is not, so an idempotent cleanup under set -e
// runs twice; signet does the same, and warns of each key it could not remove (a mistyped key
// of a compromised signer, left in place, must not pass unseen).
func TestRmSkOfAKeyThatIsNotThereWarnsAndExitsZero(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "account", "O", "--sk", "generate")
	e.MustRun("edit", "operator", "--sk", "generate")
	s := openStore(t, e, "O")
	ac := accountClaims(t, s, "O")
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	var ask string
	for k := range ac.SigningKeys {
		ask = k
	}
	osk := oc.SigningKeys[0]
	akp, _ := nkeys.CreateAccount()
	absentA, _ := akp.PublicKey()
	okp, _ := nkeys.CreateOperator()
	absentO, _ := okp.PublicKey()

	for _, run := range []struct {
		args   []string
		absent string
	}{
		{[]string{"edit", "account", "O", "--rm-sk", absentA + "," + ask}, absentA},
		{[]string{"edit", "account", "O", "--rm-sk", ask}, ask}, // the second run of a cleanup
		{[]string{"edit", "operator", "--rm-sk", absentO, "--rm-sk", osk}, absentO},
		{[]string{"edit", "operator", "--rm-sk", osk}, osk},
	} {
		out := e.MustRunStatus(run.args...)
		if !strings.Contains(out, "[WARN] --rm-sk "+run.absent) {
			t.Errorf("signet %s: no warning for %s:\n%s", strings.Join(run.args, " "), run.absent, out)
		}
	}
	if ac := accountClaims(t, s, "O"); len(ac.SigningKeys) != 0 {
		t.Errorf("account signing keys left: %v", ac.SigningKeys)
	}
	if oc, _, err := s.Operator(); err != nil || slices.Contains(oc.SigningKeys, osk) {
		t.Errorf("operator signing key %s left (%v)", osk, err)
	}
}
