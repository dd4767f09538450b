package walkthrough_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
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

// wait bounds every wait for the server or a command; a healthy run takes milliseconds.
const wait = 10 * time.Second

// page is one signet environment (its own XDG folders) replaying a documentation page.
type page struct {
	t *testing.T
	e *clitest.Env
}

func newPage(t *testing.T) *page {
	t.Helper()
	return &page{t: t, e: clitest.New(t, cli.NewRootCmd)}
}

// nsc runs one command of the page (its arguments after `nsc`) and fails the test when it
// fails. It returns stdout followed by stderr: the `[ OK ]` status lines are on stderr.
func (p *page) nsc(args ...string) string {
	p.t.Helper()
	r := p.e.Run(args...)
	if r.Error != nil {
		p.t.Fatalf("signet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Error, r.Out, r.Err)
	}
	return r.Out + r.Err
}

// stdout runs a command like nsc and returns only what it printed on stdout.
func (p *page) stdout(args ...string) string {
	p.t.Helper()
	r := p.e.Run(args...)
	if r.Error != nil {
		p.t.Fatalf("signet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Error, r.Out, r.Err)
	}
	return r.Out
}

// fails runs a command that must fail and returns its error text.
func (p *page) fails(args ...string) string {
	p.t.Helper()
	r := p.e.Run(args...)
	if r.Error == nil {
		p.t.Fatalf("signet %s succeeded, want an error\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Out, r.Err)
	}
	return r.Error.Error()
}

// running is a command that listens until it has what it waits for (tool sub, tool reply).
type running struct {
	args   []string
	cancel context.CancelFunc
	done   chan clitest.Result
	res    *clitest.Result
}

// start runs a listening command in the background. The test ends it with stop, or waits for
// it with wait; a command still running when the test ends is stopped then.
func (p *page) start(args ...string) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{args: args, cancel: cancel, done: make(chan clitest.Result, 1)}
	go func() { r.done <- p.e.RunContext(ctx, args...) }()
	p.t.Cleanup(func() {
		cancel()
		if r.res == nil {
			<-r.done
		}
	})
	return r
}

// wait waits for the command to end by itself and fails the test if it failed or still runs
// after the deadline.
func (r *running) wait(t *testing.T) clitest.Result {
	t.Helper()
	select {
	case res := <-r.done:
		r.res = &res
	case <-time.After(wait):
		t.Fatalf("signet %s still runs after %s", strings.Join(r.args, " "), wait)
	}
	if r.res.Error != nil {
		t.Fatalf("signet %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.res.Error, r.res.Out, r.res.Err)
	}
	return *r.res
}

// stop interrupts the command, as Ctrl-C would, and returns what it printed.
func (r *running) stop(t *testing.T) clitest.Result {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

func (p *page) store(operator string) *store.Store {
	p.t.Helper()
	s, err := store.Stores{Dir: p.e.StoresDir()}.Open(operator)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *page) account(operator, name string) (*jwt.AccountClaims, string) {
	p.t.Helper()
	ac, tok, err := p.store(operator).Account(name)
	if err != nil {
		p.t.Fatal(err)
	}
	return ac, tok
}

func (p *page) accountKey(operator, name string) string {
	p.t.Helper()
	ac, _ := p.account(operator, name)
	return ac.Subject
}

func (p *page) user(operator, account, name string) *jwt.UserClaims {
	p.t.Helper()
	uc, _, err := p.store(operator).User(account, name)
	if err != nil {
		p.t.Fatal(err)
	}
	return uc
}

// creds is where signet wrote a user's creds file (nsc's ~/.nkeys/creds/O/A/U.creds).
func (p *page) creds(operator, account, user string) string {
	return keystore.KeyStore{Dir: p.e.KeysDir()}.CredsPath(operator, account, user)
}

// quoted returns the first double-quoted value on the line that contains prefix, as in
// `[ OK ] added signing key "A..."`.
func quoted(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, prefix); i >= 0 {
			if m := regexp.MustCompile(`"([^"]+)"`).FindStringSubmatch(line[i:]); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no %q line with a quoted value in:\n%s", prefix, out)
	return ""
}

// startConfig starts an embedded nats-server from a configuration file, as `nats-server -c`
// does, and shuts it down when the test ends.
func startConfig(t *testing.T, file string) *server.Server {
	t.Helper()
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("nats-server refuses %s: %v", file, err)
	}
	return startOptions(t, opts)
}

func startOptions(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.NoSigs = true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats-server: %v", err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(wait) {
		t.Fatal("nats-server not ready")
	}
	return ns
}

// writeConfig writes a configuration file into a fresh folder and returns its path.
func writeConfig(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startMemory starts a memory-resolver nats-server that trusts the store's operator and has
// every account of the store preloaded, written by hand as the Memory Resolver page's "Manual
// Server Config" shows (so that pages other than that one do not lean on generate config).
// The operator needs no system account.
func startMemory(t *testing.T, s *store.Store, extra string) *server.Server {
	t.Helper()
	oc, opJWT, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	names, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:-1\noperator: %q\nresolver: MEMORY\n", opJWT)
	if oc.SystemAccount != "" {
		fmt.Fprintf(&b, "system_account: %q\n", oc.SystemAccount)
	}
	b.WriteString("resolver_preload: {\n")
	for _, n := range names {
		ac, tok, err := s.Account(n)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  %s: %q\n", ac.Subject, tok)
	}
	b.WriteString("}\n")
	b.WriteString(extra)
	return startConfig(t, writeConfig(t, "server.conf", b.String()))
}

// startFull starts a full-resolver nats-server that trusts the store's operator and knows only
// its system account: the other accounts reach it through `signet push`.
func startFull(t *testing.T, s *store.Store) *natstest.Server {
	t.Helper()
	tr, _ := natstest.FromStore(t, s)
	return natstest.StartFull(t, tr)
}

// poll calls done every few milliseconds until it is true, and fails the test with what after
// the deadline.
func poll(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", wait, what)
		}
		<-tick.C
	}
}

// waitServed waits until the nats-server runs the account JWT tok: the server records an
// account's JWT once it applied all of it, so what the test does next meets those claims.
func waitServed(t *testing.T, ns *server.Server, tok string) {
	t.Helper()
	pub, err := store.PeekSubject(tok)
	if err != nil {
		t.Fatal(err)
	}
	poll(t, "nats-server does not run the account JWT the store holds for "+pub, func() bool {
		if _, err := ns.LookupAccount(pub); err != nil {
			return false
		}
		az, err := ns.Accountz(&server.AccountzOptions{Account: pub})
		return err == nil && az.Account != nil && az.Account.Jwt == tok
	})
}

// waitInterest waits until the server's account (public key, or $G) has at least n
// subscriptions matching subject: a listening command or a subscription elsewhere is in place.
func waitInterest(t *testing.T, ns *server.Server, account, subject string, n int) {
	t.Helper()
	poll(t, fmt.Sprintf("account %s has fewer than %d subscriptions for %q", account, n, subject), func() bool {
		acc, err := ns.LookupAccount(account)
		return err == nil && acc.Interest(subject) >= n
	})
}

// listening waits until the server's account has at least n subscriptions matching subject
// while the listening command r runs; the command ending first fails the test with its output.
func (r *running) listening(t *testing.T, ns *server.Server, account, subject string, n int) {
	t.Helper()
	poll(t, fmt.Sprintf("signet %s: account %s has fewer than %d subscriptions for %q", strings.Join(r.args, " "), account, n, subject), func() bool {
		select {
		case res := <-r.done:
			r.res = &res
			t.Fatalf("signet %s ended before it listened: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), res.Error, res.Out, res.Err)
		default:
		}
		acc, err := ns.LookupAccount(account)
		return err == nil && acc.Interest(subject) >= n
	})
}

// client is a connection with its asynchronous errors (permission violations) and its close.
type client struct {
	*nats.Conn
	errs   chan error
	closed chan struct{}
}

// dialErr connects without reconnecting: a server that drops the connection ends it.
func dialErr(t *testing.T, url string, opts ...nats.Option) (*client, error) {
	t.Helper()
	c := &client{errs: make(chan error, 16), closed: make(chan struct{})}
	opts = append([]nats.Option{
		nats.NoReconnect(),
		nats.Timeout(wait),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }),
	}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, err
	}
	t.Cleanup(nc.Close)
	c.Conn = nc
	return c, nil
}

// dial connects with a creds file and fails the test when the server refuses it.
func dial(t *testing.T, url, creds string) *client {
	t.Helper()
	c, err := dialErr(t, url, nats.UserCredentials(creds))
	if err != nil {
		t.Fatalf("connect with %s: %v", creds, err)
	}
	return c
}

// refused checks that the server turns a connection with the creds file away.
func refused(t *testing.T, url, creds, why string) {
	t.Helper()
	c, err := dialErr(t, url, nats.UserCredentials(creds))
	if err == nil {
		c.Close()
		t.Fatalf("the server accepted %s", why)
	}
	if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("%s: the connection failed, but not for authorization: %v", why, err)
	}
}

// subscribe subscribes synchronously and waits until the server has the subscription.
func (c *client) subscribe(t *testing.T, subject string) *nats.Subscription {
	t.Helper()
	sub, err := c.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

// publish publishes and flushes, so the server has processed the messages when it returns.
func (c *client) publish(t *testing.T, subject, data string) {
	t.Helper()
	if err := c.Publish(subject, []byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// receive returns the next message of sub and checks its subject and data.
func receive(t *testing.T, sub *nats.Subscription, subject, data string) {
	t.Helper()
	m, err := sub.NextMsg(wait)
	if err != nil {
		t.Fatalf("no message on %q: %v", sub.Subject, err)
	}
	if m.Subject != subject || string(m.Data) != data {
		t.Fatalf("subscription %q got [%s] %q, want [%s] %q", sub.Subject, m.Subject, m.Data, subject, data)
	}
}

// nothingPending checks that sub holds no message. Called after a later message from the same
// publisher arrived on another subscription of the same connection, it proves an earlier one
// was not delivered: the server delivers one publisher's messages to one connection in order.
func nothingPending(t *testing.T, sub *nats.Subscription, why string) {
	t.Helper()
	if n, _, err := sub.Pending(); err != nil || n != 0 {
		m, _ := sub.NextMsg(0)
		t.Fatalf("%s: subscription %q received %d message(s) (first: %v), err %v", why, sub.Subject, n, m, err)
	}
}

// violation runs do and waits for the server's permissions violation about subject.
func (c *client) violation(t *testing.T, subject string, do func() error) {
	t.Helper()
	if err := do(); err != nil {
		t.Fatal(err)
	}
	_ = c.Flush()
	select {
	case err := <-c.errs:
		if !strings.Contains(err.Error(), "Permissions Violation") || !strings.Contains(err.Error(), subject) {
			t.Fatalf("want a permissions violation for %q, got %v", subject, err)
		}
	case <-time.After(wait):
		t.Fatalf("the server allowed what should violate the permissions on %q", subject)
	}
}

// freePort returns a port that was free a moment ago, for a URL that must be written into a JWT
// before the server behind it starts.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
