package signing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/serve"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// pushed is a signet environment with the command tree as users run it (no test hook): account
// JWTs reach the full-resolver nats-server only through signet's own push.
type pushed struct {
	t   *testing.T
	e   *clitest.Env
	s   *store.Store
	srv *natstest.Server
}

// newPushed makes operator O with its system account SYS (user sys) and starts a full-resolver
// server that trusts O and knows only SYS.
func newPushed(t *testing.T) *pushed {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := natstest.FromStore(t, s)
	return &pushed{t: t, e: e, s: s, srv: natstest.StartFull(t, tr)}
}

func (p *pushed) creds(account, user string) string {
	return keystore.KeyStore{Dir: p.e.KeysDir()}.CredsPath("O", account, user)
}

// dial connects as a user of the store, recording the connection's asynchronous errors.
func (p *pushed) dial(account, user string) *client {
	p.t.Helper()
	c := &client{errs: make(chan error, 16)}
	nc, err := nats.Connect(p.srv.ClientURL(), nats.UserCredentials(p.creds(account, user)), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}))
	if err != nil {
		p.t.Fatalf("user %s/%s cannot connect: %v", account, user, err)
	}
	p.t.Cleanup(nc.Close)
	c.Conn = nc
	return c
}

// waitServed waits until the nats-server runs the account with the JWT the store holds now:
// the server records an account's JWT only after it applied all of it, so what the test does
// next meets the new claims.
func (p *pushed) waitServed(account string) {
	p.t.Helper()
	tok, err := p.s.AccountJWT(account)
	if err != nil {
		p.t.Fatal(err)
	}
	pub, err := store.PeekSubject(tok)
	if err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		// LookupAccount loads an account the server has stored but not used yet.
		_, err := p.srv.LookupAccount(pub)
		if err == nil {
			var az *server.Accountz
			az, err = p.srv.Accountz(&server.AccountzOptions{Account: pub})
			if err == nil && az.Account != nil && az.Account.Jwt == tok {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("nats-server does not run the stored JWT of account %q (accountz: %v)", account, err)
		}
		<-poll.C
	}
}

// serveAccounts runs `signet serve --operator O --nats <server> --creds <sys creds>` in memory on
// a free port until the test ends, waits until it is connected to the nats-server, and returns
// its /jwt/v1 URL.
func (p *pushed) serveAccounts() string {
	t := p.t
	t.Helper()
	var log natstest.SyncBuffer
	f := cmdutil.NewFactory(strings.NewReader(""), &log, &log, false)
	f.Getenv = func(k string) string { return p.e.Vars[k] }
	f.Getwd = func() (string, error) { return p.e.Wd, nil }
	ready := make(chan *accountserver.Server, 1)
	o := &serve.Options{Operator: "O", HTTP: "127.0.0.1:0", NATS: p.srv.ClientURL(), Creds: p.creds("SYS", "sys"),
		Started: func(s *accountserver.Server) { ready <- s }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Run(ctx, f, o) }()
	var as *accountserver.Server
	select {
	case as = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("signet serve ended: %v\n%s", err, log.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("signet serve did not start\n%s", log.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("signet serve: %v\n%s", err, log.String())
		}
	})
	// The connection has no event to wait on: poll it, with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for !as.NATSConnected() {
		if time.Now().After(deadline) {
			t.Fatalf("signet serve did not connect to nats-server\n%s", log.String())
		}
		<-poll.C
	}
	return "http://" + as.HTTPAddr() + "/jwt/v1"
}

// scopedService sets up account A with a signing key of role "svc" that may publish only on
// svc.>, a user U signed by that role, and an ordinary user "client". Each command saves A (or
// its user) and, with the operator's account server URL set, pushes A as a user's CLI would.
func (p *pushed) scopedService() {
	p.t.Helper()
	e := p.e
	out := e.MustRunStatus("add", "account", "A")
	if !strings.Contains(out, `pushed account "A"`) {
		p.t.Fatalf("add account did not push A:\n%s", out)
	}
	sk := quoted(p.t, e.MustRunStatus("edit", "account", "A", "--sk", "generate"), "added signing key")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", sk, "--role", "svc", "--allow-pub", "svc.>")
	e.MustRun("add", "user", "U", "-a", "A", "-K", "svc")
	e.MustRun("add", "user", "client", "-a", "A")
	p.waitServed("A")
}

// checkScope proves the server enforces role svc's scope on U, then widens the scope from the
// CLI and proves the widened scope reached the server through the same push.
func (p *pushed) checkScope() {
	t := p.t
	t.Helper()
	cl := p.dial("A", "client")
	sub, err := cl.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	u := p.dial("A", "U")
	delivers(t, cl, sub, u, "svc.work")
	u.violation(t, "audit", func() error { return u.Publish("audit", nil) })

	// Widening the scope is an account edit: it reaches the server only if the push works. The
	// server drops U's connection when its signing key changes; U comes back with the new scope.
	e := p.e
	out := e.MustRunStatus("edit", "signing-key", "-a", "A", "--sk", "svc", "--allow-pub", "audit")
	if !strings.Contains(out, `pushed account "A"`) {
		t.Fatalf("edit signing-key did not push A:\n%s", out)
	}
	p.waitServed("A")
	u = p.dial("A", "U")
	delivers(t, cl, sub, u, "audit")
	u.violation(t, "other", func() error { return u.Publish("other", nil) })

	if uc := user(t, e, "A", "U"); !uc.HasEmptyPermissions() || uc.IssuerAccount != account(t, e, "A").Subject {
		t.Errorf("U is not a scoped user of A: issuer %s issuer_account %s", uc.Issuer, uc.IssuerAccount)
	}
}

// TestScopedKeyEnforcedThroughAccountServer: the operator's account server URL points at a real
// `signet serve` connected to a full-resolver nats-server as the system user. Every account the
// CLI saves goes CLI -> HTTP -> signet serve -> NATS notification -> nats-server; a user signed
// by a scoped role may publish only within its scope, and widening the scope from the CLI
// reaches the server the same way.
func TestScopedKeyEnforcedThroughAccountServer(t *testing.T) {
	t.Parallel()
	p := newPushed(t)
	url := p.serveAccounts()
	p.e.MustRun("edit", "operator", "--account-jwt-server-url", url, "--auto-push")
	p.scopedService()
	p.checkScope()
}

// TestScopedKeyEnforcedThroughNATSPush: the operator's account server URL is the nats:// URL of a
// full-resolver nats-server, so every saved account is pushed over the resolver protocol as a
// short-lived system user; the scope of a role is enforced and an edit of it takes effect.
func TestScopedKeyEnforcedThroughNATSPush(t *testing.T) {
	t.Parallel()
	p := newPushed(t)
	p.e.MustRun("edit", "operator", "--account-jwt-server-url", p.srv.ClientURL(), "--auto-push")
	p.scopedService()
	p.checkScope()
}
