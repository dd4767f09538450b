package inspect_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
)

// TestValidateReportsJetStreamOnTheSystemAccount: a system account with JetStream enabled (made
// by another tool: signet's edit account refuses it) fails validate with the fix; nats-server
// refuses to enable JetStream there.
func TestValidateReportsJetStreamOnTheSystemAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // operator O with SYS
	e.MustRun("validate")
	s := openStore(t, e, "O")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if _, err := ops.UpdateAccount(s, ks, ops.AccountUpdate{Account: "SYS", Change: func(_ string, ac *jwt.AccountClaims) error {
		ac.Limits.JetStreamTieredLimits = jwt.JetStreamTieredLimits{"R1": {MemoryStorage: -1, DiskStorage: -1}}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	msg := e.MustFail("validate")
	r := e.Run("validate")
	if out := r.Out + r.Err + msg; !strings.Contains(out, "refuses on the system account") || !strings.Contains(out, "signet edit account SYS --js-disable") {
		t.Errorf("validate output:\n%s", out)
	}
}
