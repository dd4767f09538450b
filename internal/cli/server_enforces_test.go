package cli_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// initEnv is a signet environment after `init -n O`: operator O, system account SYS with user
// sys, account O with user O.
func initEnv(t *testing.T) (*clitest.Env, *store.Store) {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	s, err := store.OpenDir(filepath.Join(e.StoresDir(), "O"))
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

// trustOf is what a server needs to trust the store's operator, plus every account JWT.
func trustOf(t *testing.T, s *store.Store) (natstest.Trust, map[string]string) {
	t.Helper()
	oc, otok, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	tr := natstest.Trust{OperatorJWT: otok, SystemAccount: oc.SystemAccount}
	names, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]string{}
	for _, n := range names {
		ac, tok, err := s.Account(n)
		if err != nil {
			t.Fatal(err)
		}
		accounts[ac.Subject] = tok
		if ac.Subject == oc.SystemAccount {
			tr.SystemAccountJWT = tok
		}
	}
	if tr.SystemAccountJWT == "" {
		t.Fatal("no system account in the store")
	}
	return tr, accounts
}

func credsOf(e *clitest.Env, account, user string) string {
	return keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", account, user)
}

// connect connects with a creds file; async errors (permission violations) go to errs.
func connect(t *testing.T, url, creds string, errs chan<- error) (*nats.Conn, error) {
	t.Helper()
	opts := []nats.Option{nats.UserCredentials(creds), nats.MaxReconnects(0), nats.Timeout(5 * time.Second)}
	if errs != nil {
		opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	}
	nc, err := nats.Connect(url, opts...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

// roundTrip publishes on subject and receives the message on the same connection.
func roundTrip(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(subject, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no message on %s: %v", subject, err)
	}
	if string(m.Data) != "hello" {
		t.Errorf("got %q", m.Data)
	}
}

func TestUserConnectsWithGeneratedCreds(t *testing.T) {
	t.Parallel()
	e, s := initEnv(t)
	e.MustRun("add", "user", "alice", "-a", "O")
	tr, accounts := trustOf(t, s)
	srv := natstest.StartMemory(t, tr, accounts)
	for _, u := range []string{"O", "alice"} {
		nc, err := connect(t, srv.ClientURL(), credsOf(e, "O", u), nil)
		if err != nil {
			t.Fatalf("user %s: %v", u, err)
		}
		roundTrip(t, nc, "greet."+u)
	}
	// Creds printed by `generate creds` work as well.
	out := e.MustRun("generate", "creds", "-a", "O", "-n", "alice")
	p := filepath.Join(t.TempDir(), "alice.creds")
	if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	nc, err := connect(t, srv.ClientURL(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, nc, "greet.generated")
}

func TestGeneratedMemResolverConfigStartsServer(t *testing.T) {
	t.Parallel()
	e, _ := initEnv(t)
	e.MustRun("add", "user", "alice", "-a", "O")
	cf := filepath.Join(t.TempDir(), "server.conf")
	e.MustRun("generate", "config", "--mem-resolver", "--config-file", cf)
	opts, err := server.ProcessConfigFile(cf)
	if err != nil {
		t.Fatalf("nats-server rejects the generated configuration: %v", err)
	}
	opts.Host = "127.0.0.1"
	opts.Port = -1
	opts.NoSigs = true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	nc, err := connect(t, ns.ClientURL(), credsOf(e, "O", "alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, nc, "greet")
	// The system user is accepted too: the system account is the one the file names.
	sys, err := connect(t, ns.ClientURL(), credsOf(e, "SYS", "sys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second); err != nil {
		t.Errorf("system user cannot ping: %v", err)
	}
}

func TestDeniedPublishIsRefusedByServer(t *testing.T) {
	t.Parallel()
	e, s := initEnv(t)
	e.MustRun("add", "user", "bob", "-a", "O", "--deny-pub", "foo")
	uc, _, err := s.User("O", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if len(uc.Pub.Deny) != 1 || uc.Pub.Deny[0] != "foo" {
		t.Fatalf("deny pub in the JWT: %v", uc.Pub.Deny)
	}
	tr, accounts := trustOf(t, s)
	srv := natstest.StartMemory(t, tr, accounts)
	errs := make(chan error, 4)
	nc, err := connect(t, srv.ClientURL(), credsOf(e, "O", "bob"), errs)
	if err != nil {
		t.Fatal(err)
	}
	// A watcher with no restrictions sees what reaches the server.
	watcher, err := connect(t, srv.ClientURL(), credsOf(e, "O", "O"), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := watcher.SubscribeSync("foo")
	if err != nil {
		t.Fatal(err)
	}
	if err := watcher.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("foo", []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), `"foo"`) {
			t.Errorf("want a permission violation on foo, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no permission violation reported for a publish on foo")
	}
	// Other subjects still work, and the denied message never arrived.
	roundTrip(t, nc, "bar")
	if err := watcher.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := seen.NextMsg(0); err == nil {
		t.Errorf("denied message delivered: %q", m.Data)
	}
}

func TestExpiredUserIsRefusedByServer(t *testing.T) {
	t.Parallel()
	e, s := initEnv(t)
	e.MustRun("add", "user", "old", "-a", "O", "--expiry", "2020-01-01")
	// A user made with a clock two days behind and a one-day expiry expired yesterday.
	e.Now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
	e.MustRun("add", "user", "short", "-a", "O", "--expiry", "1d")
	e.Now = nil
	for _, u := range []string{"old", "short"} {
		uc, _, err := s.User("O", u)
		if err != nil {
			t.Fatal(err)
		}
		if uc.Expires == 0 || uc.Expires > time.Now().Unix() {
			t.Fatalf("user %s expires at %d, want the past", u, uc.Expires)
		}
	}
	tr, accounts := trustOf(t, s)
	srv := natstest.StartMemory(t, tr, accounts)
	for _, u := range []string{"old", "short"} {
		if _, err := connect(t, srv.ClientURL(), credsOf(e, "O", u), nil); err == nil {
			t.Errorf("expired user %s connected", u)
		} else if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "expired") && !strings.Contains(err.Error(), "Authorization") {
			t.Errorf("user %s: want an authorization error, got %v", u, err)
		}
	}
	// The same account's valid user still gets in.
	if _, err := connect(t, srv.ClientURL(), credsOf(e, "O", "O"), nil); err != nil {
		t.Errorf("valid user refused: %v", err)
	}
	// The JWT itself says it is expired.
	uc, _, _ := s.User("O", "old")
	var vr jwt.ValidationResults
	uc.Validate(&vr)
	if !vr.IsBlocking(true) {
		t.Error("jwt/v2 does not consider the user expired")
	}
}
