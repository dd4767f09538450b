package inspect_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
)

// TestValidateReportsBearerUserOfAnAccountThatDisallowsBearer: a store where an account
// disallows bearer tokens but holds a bearer user (made by another tool, or by a scoped key
// whose template says --bearer) fails validate naming the user; a nats-server refuses that
// user, and lets a user that is not a bearer user in.
func TestValidateReportsBearerUserOfAnAccountThatDisallowsBearer(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // operator O with SYS and O (one user each)
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "plain", "-a", "A")
	e.MustRun("add", "user", "bearer", "-a", "A", "--bearer")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--bearer")
	e.MustRun("add", "user", "scoped", "-a", "A", "-K", "svc")
	e.MustRun("validate", "-a", "A")

	// signet's edit account refuses --disallow-bearer here, as nsc does: set it underneath.
	s := openStore(t, e, "O")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if _, err := ops.UpdateAccount(s, ks, ops.AccountUpdate{Account: "A", Change: func(_ string, ac *jwt.AccountClaims) error {
		ac.Limits.DisallowBearer = true
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	msg := e.MustFail("validate", "-a", "A")
	r := e.Run("validate", "-a", "A")
	out := r.Out + r.Err + msg
	for _, want := range []string{"A/bearer", "A/scoped", `account "A" disallows bearer tokens`, "signet edit user bearer -a A --bearer=false", "signet edit signing-key"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "A/plain") {
		t.Errorf("validate reports the user that is not a bearer user:\n%s", out)
	}

	tr, accounts := natstest.FromStore(t, s)
	srv := natstest.StartMemory(t, tr, accounts)
	for user, admitted := range map[string]bool{"plain": true, "bearer": false, "scoped": false} {
		nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(ks.CredsPath("O", "A", user)), nats.NoReconnect(), nats.Timeout(5*time.Second))
		if err == nil {
			nc.Close()
		}
		if (err == nil) != admitted {
			t.Errorf("user %s: connect error %v, want admitted=%t", user, err, admitted)
		}
	}
}
