package exports_test

import (
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// newEnv makes operator O (with SYS) and accounts A, B, C, each with one user named after it
// in lower case.
func newEnv(t *testing.T) *clitest.Env {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	for _, a := range []string{"A", "B", "C"} {
		e.MustRun("add", "account", a)
		e.MustRun("add", "user", "-a", a, lower(a))
	}
	return e
}

func lower(s string) string { return string(rune(s[0]) + 'a' - 'A') }

func openStore(t *testing.T, e *clitest.Env) *store.Store {
	t.Helper()
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return s
}

func account(t *testing.T, e *clitest.Env, name string) *jwt.AccountClaims {
	t.Helper()
	ac, _, err := openStore(t, e).Account(name)
	if err != nil {
		t.Fatalf("load account %s: %v", name, err)
	}
	return ac
}

// startServer starts an operator-mode nats-server trusting the store's operator, with every
// account of the store preloaded.
func startServer(t *testing.T, e *clitest.Env) *natstest.Server {
	t.Helper()
	tr, preload := natstest.FromStore(t, openStore(t, e))
	return natstest.StartMemory(t, tr, preload)
}

// connect connects as the user of account a whose creds signet wrote.
func connect(t *testing.T, e *clitest.Env, ns *natstest.Server, a string) *nats.Conn {
	t.Helper()
	creds := keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", a, lower(a))
	nc, err := nats.Connect(ns.ClientURL(), nats.UserCredentials(creds))
	if err != nil {
		t.Fatalf("connect as user of %s: %v", a, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
