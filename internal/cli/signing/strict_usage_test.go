package signing_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
)

// With strict signing-key usage on, nats-server (system account included) starts and admits
// every kind of user the CLI makes without -K, with -K, scoped, templated, edited after the
// fact, and re-signed when strict usage was turned on.
func TestStrictSigningKeyUsageServerAdmitsEveryUserKind(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--generate-signing-key", "--sys")
	// Made before strict usage: signed by identity keys until --require-signing-keys re-signs.
	opID := operator(t, e).Subject
	e.MustRun("add", "account", "OLD", "-K", opID)
	e.MustRun("add", "user", "old", "-a", "OLD")
	e.MustRun("edit", "account", "OLD", "--sk", "generate", "-K", opID)
	if iss := account(t, e, "OLD").Issuer; iss != opID {
		t.Fatalf("account OLD issued by %s, want the operator identity key it was signed with", iss)
	}
	e.MustRun("edit", "operator", "--require-signing-keys")

	e.MustRun("add", "account", "A")
	e.MustRun("edit", "account", "A", "--sk", "generate")
	e.MustRun("add", "user", "plain", "-a", "A")
	e.MustRun("add", "user", "perms", "-a", "A", "--allow-pubsub", "perms.>")
	sk := account(t, e, "A").SigningKeys.Keys()[0]
	e.MustRun("add", "user", "bykey", "-a", "A", "-K", sk)
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--allow-pubsub", "svc.>")
	e.MustRun("add", "user", "scoped", "-a", "A", "-K", "svc")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "team",
		"--allow-pubsub", "{{account-name()}}.{{tag(team)}}.>")
	e.MustRun("add", "user", "templated", "-a", "A", "-K", "team", "--tag", "team:red")
	// Edits after the fact keep a signing key.
	e.MustRun("edit", "user", "plain", "-a", "A", "--allow-sub", "plain.>")
	e.MustRun("edit", "user", "scoped", "-a", "A", "--tag", "x:y")
	e.MustRun("edit", "account", "A", "--conns", "100")

	// The identity key is refused outright, for accounts and users alike.
	if msg := e.MustFail("add", "user", "id", "-a", "A", "-K", account(t, e, "A").Subject); !strings.Contains(msg, "requires signing keys") {
		t.Errorf("user signed with the account identity key under strict usage: %s", msg)
	}

	s := openStore(t, e)
	oc := operator(t, e)
	for _, name := range []string{"SYS", "OLD", "A"} {
		ac := account(t, e, name)
		if ac.Issuer == oc.Subject || !oc.SigningKeys.Contains(ac.Issuer) {
			t.Errorf("account %s issued by %s, want an operator signing key", name, ac.Issuer)
		}
	}
	tr, accounts := natstest.FromStore(t, s)
	srv := natstest.StartMemory(t, tr, accounts)
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	for _, u := range []struct{ account, name string }{
		{"SYS", "sys"}, {"OLD", "old"}, {"A", "plain"}, {"A", "perms"}, {"A", "bykey"}, {"A", "scoped"}, {"A", "templated"},
	} {
		uc := user(t, e, u.account, u.name)
		if ac := account(t, e, u.account); uc.Issuer == ac.Subject {
			t.Errorf("user %s/%s is signed by the account identity key", u.account, u.name)
		}
		nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(ks.CredsPath("O", u.account, u.name)), nats.NoReconnect())
		if err != nil {
			t.Errorf("user %s/%s refused by a server with strict signing-key usage: %v", u.account, u.name, err)
			continue
		}
		nc.Close()
	}
}

// An account signed by one operator signing key keeps it through edits; adding a user without
// -K picks the account's signing key over its identity key.
func TestEditsKeepTheSigningKeyThatSigned(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	e.MustRun("edit", "operator", "--sk", "generate")
	e.MustRun("edit", "operator", "--sk", "generate")
	keys := operator(t, e).SigningKeys
	second := max(keys[0], keys[1]) // not the one the rule would pick first
	e.MustRun("add", "account", "X", "-K", second)
	e.MustRun("edit", "account", "X", "--conns", "5")
	e.MustRun("revocations", "add-user", "-a", "X", "-u", "*")
	if iss := account(t, e, "X").Issuer; iss != second {
		t.Errorf("account X re-signed by %s, want the signing key that signed it, %s", iss, second)
	}
	e.MustRun("edit", "account", "X", "--sk", "generate")
	e.MustRun("add", "user", "u", "-a", "X")
	ac := account(t, e, "X")
	if iss := user(t, e, "X", "u").Issuer; iss == ac.Subject || !ac.SigningKeys.Contains(iss) {
		t.Errorf("user u issued by %s, want the account's signing key", iss)
	}
}

func operator(t *testing.T, e *clitest.Env) *jwt.OperatorClaims {
	t.Helper()
	oc, _, err := openStore(t, e).Operator()
	if err != nil {
		t.Fatal(err)
	}
	return oc
}
