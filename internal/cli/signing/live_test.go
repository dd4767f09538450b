package signing_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// live is a signet environment wired to an embedded nats-server with a full resolver: every
// account the commands save is pushed to the server with $SYS.REQ.CLAIMS.UPDATE as the system
// user, so changes take effect while the server runs, as they would with an account server.
type live struct {
	t   *testing.T
	e   *clitest.Env
	srv *natstest.Server
	sys *nats.Conn
	op  string
}

// newLive makes an environment with operator op and its system account SYS (user sys).
// setup, if set, runs more commands before the server starts (operator edits change the
// operator JWT the server trusts, so they come first).
func newLive(t *testing.T, op string, setup func(e *clitest.Env)) *live {
	t.Helper()
	l := &live{t: t, op: op}
	e := clitest.New(t, nil)
	e.Root = func(f *cmdutil.Factory) *cobra.Command {
		root := cli.NewRootCmd(f)
		f.OnAccountSaved = l.push
		return root
	}
	l.e = e
	e.MustRun("add", "operator", op, "--sys")
	if setup != nil {
		setup(e)
	}
	s := l.store()
	oc, opJWT, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	sysJWT, err := s.AccountJWT("SYS")
	if err != nil {
		t.Fatal(err)
	}
	l.srv = natstest.StartFull(t, natstest.Trust{OperatorJWT: opJWT, SystemAccount: oc.SystemAccount, SystemAccountJWT: sysJWT})
	l.sys, err = nats.Connect(l.srv.ClientURL(), nats.UserCredentials(l.creds("SYS", "sys")), nats.NoReconnect())
	if err != nil {
		t.Fatalf("system user: %v", err)
	}
	t.Cleanup(l.sys.Close)
	names, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := l.push(nil, s, n); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func (l *live) store() *store.Store {
	l.t.Helper()
	s, err := store.Stores{Dir: l.e.StoresDir()}.Open(l.op)
	if err != nil {
		l.t.Fatal(err)
	}
	return s
}

func (l *live) creds(account, user string) string {
	return keystore.KeyStore{Dir: l.e.KeysDir()}.CredsPath(l.op, account, user)
}

// push sends an account JWT to the server and waits for its verdict.
func (l *live) push(_ *cmdutil.Factory, s *store.Store, account string) error {
	if l.sys == nil {
		return nil // before the server starts; newLive pushes everything once it runs
	}
	tok, err := s.AccountJWT(account)
	if err != nil {
		return err
	}
	sub, err := store.PeekSubject(tok)
	if err != nil {
		return err
	}
	msg, err := l.sys.Request(fmt.Sprintf("$SYS.REQ.ACCOUNT.%s.CLAIMS.UPDATE", sub), []byte(tok), 5*time.Second)
	if err != nil {
		return fmt.Errorf("push %q: %w", account, err)
	}
	var resp struct {
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("push %q: %w: %s", account, err, msg.Data)
	}
	if resp.Error != nil {
		return fmt.Errorf("push %q: %s", account, resp.Error.Description)
	}
	return nil
}

// client is a connection that records its asynchronous (permission) errors.
type client struct {
	*nats.Conn
	errs chan error
}

func (l *live) dial(credsFile string) (*client, error) {
	c := &client{errs: make(chan error, 16)}
	nc, err := nats.Connect(l.srv.ClientURL(), nats.UserCredentials(credsFile), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}))
	if err != nil {
		return nil, err
	}
	c.Conn = nc
	l.t.Cleanup(nc.Close)
	return c, nil
}

func (l *live) mustDial(account, user string) *client {
	l.t.Helper()
	c, err := l.dial(l.creds(account, user))
	if err != nil {
		l.t.Fatalf("user %s/%s cannot connect: %v", account, user, err)
	}
	return c
}

func (l *live) mustBeRefused(credsFile, who string) {
	l.t.Helper()
	c, err := l.dial(credsFile)
	if err == nil {
		c.Close()
		l.t.Fatalf("%s connected, want it refused", who)
	}
	if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		l.t.Fatalf("%s refused with %v, want an authorization error", who, err)
	}
}

// violation runs action and waits for the server's permission violation naming subject.
func (c *client) violation(t *testing.T, subject string, action func() error) {
	t.Helper()
	if err := action(); err != nil {
		t.Fatal(err)
	}
	_ = c.Flush()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-c.errs:
			if strings.Contains(err.Error(), "Permissions Violation") && strings.Contains(err.Error(), subject) {
				return
			}
		case <-deadline:
			t.Fatalf("no permissions violation for %q", subject)
		}
	}
}

// delivers checks that a message published by from on subject reaches sub, a subscription of to.
func delivers(t *testing.T, to *client, sub *nats.Subscription, from *client, subject string) {
	t.Helper()
	if err := to.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := from.Publish(subject, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := from.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("message on %q not delivered: %v", subject, err)
	}
	if m.Subject != subject {
		t.Fatalf("got %q, want %q", m.Subject, subject)
	}
}

// describe runs `describe` with args (the inspect package provides it).
func describe(t *testing.T, e *clitest.Env, args ...string) string {
	t.Helper()
	return e.MustRun(append([]string{"describe"}, args...)...)
}

// row returns the value of a table row in describe output.
func row(t *testing.T, out, label string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(line, "│")
		if len(cells) >= 3 && strings.TrimSpace(cells[1]) == label {
			return strings.TrimSpace(cells[2])
		}
	}
	t.Fatalf("no %q row in:\n%s", label, out)
	return ""
}

// keyStored parses `generate nkey --store` output: the public key and the stored file.
func keyStored(t *testing.T, out string) (pub, path string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "key stored ") {
		t.Fatalf("generate nkey output:\n%s", out)
	}
	return lines[0], lines[1][strings.Index(lines[1], "key stored ")+len("key stored "):]
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeTemp keeps a copy of a creds file that a later command replaces.
func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "copy.creds")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSeedSigningKeyWalkthrough follows seed 001's signing-key walkthrough: an operator signing
// key signs account A, an account signing key signs user U, and U connects.
func TestSeedSigningKeyWalkthrough(t *testing.T) {
	t.Parallel()
	var opSK, opSKPath string
	l := newLive(t, "O2", func(e *clitest.Env) {
		opSK, opSKPath = keyStored(t, e.MustRun("generate", "nkey", "--operator", "--store"))
		if !strings.HasPrefix(opSK, "O") || !strings.HasSuffix(opSKPath, opSK+".nk") {
			t.Fatalf("operator key %s stored at %s", opSK, opSKPath)
		}
		r := e.Run("edit", "operator", "--sk", opSK)
		if want := fmt.Sprintf("[ OK ] added signing key %q\n[ OK ] edited operator \"O2\"\n", opSK); r.Error != nil || r.Err != want || r.Out != "" {
			t.Errorf("edit operator --sk: %v\nstderr:\n%s\nwant:\n%s\nstdout (want none):\n%s", r.Error, r.Err, want, r.Out)
		}
		if got := row(t, describe(t, e, "operator"), "Signing Keys"); got != opSK {
			t.Errorf("operator signing keys %q, want %q", got, opSK)
		}
	})
	e := l.e
	out := e.MustRunStatus("add", "account", "A", "-K", opSKPath)
	if !strings.Contains(out, "[ OK ] generated and stored account key \"A") || !strings.HasSuffix(out, "[ OK ] added account \"A\"\n") {
		t.Errorf("add account output:\n%s", out)
	}
	accSK, accSKPath := keyStored(t, e.MustRun("generate", "nkey", "--account", "--store"))
	r := e.Run("edit", "account", "--sk", accSK, "-K", opSKPath)
	if want := fmt.Sprintf("[ OK ] added signing key %q\n[ OK ] edited account \"A\"\n", accSK); r.Error != nil || r.Err != want || r.Out != "" {
		t.Errorf("edit account --sk: %v\nstderr:\n%s\nwant:\n%s\nstdout (want none):\n%s", r.Error, r.Err, want, r.Out)
	}
	a := account(t, e, "A")
	d := describe(t, e, "account")
	if row(t, d, "Account ID") != a.Subject || row(t, d, "Issuer ID") != opSK || row(t, d, "Signing Keys") != accSK {
		t.Errorf("describe account:\n%s", d)
	}

	out = e.MustRunStatus("add", "user", "U", "-K", accSKPath)
	for _, want := range []string{"generated and stored user key \"U", "generated user creds file", "added user \"U\" to account \"A\""} {
		if !strings.Contains(out, want) {
			t.Errorf("add user output lacks %q:\n%s", want, out)
		}
	}
	d = describe(t, e, "user")
	if row(t, d, "Name") != "U" || row(t, d, "Issuer ID") != accSK || row(t, d, "Issuer Account") != a.Subject {
		t.Errorf("describe user:\n%s", d)
	}

	u := l.mustDial("A", "U")
	sub, err := u.SubscribeSync("hello")
	if err != nil {
		t.Fatal(err)
	}
	delivers(t, u, sub, u, "hello")
}

// TestScopedServiceKey: a user signed by role "service" answers requests on q.> and may publish
// nothing else.
func TestScopedServiceKey(t *testing.T) {
	t.Parallel()
	l := newLive(t, "O", nil)
	e := l.e
	e.MustRun("add", "account", "A")
	sk := quoted(t, e.MustRunStatus("edit", "account", "-n", "A", "--sk", "generate"), "added signing key")
	r := e.Run("edit", "signing-key", "--account", "A", "--role", "service", "--sk", sk,
		"--allow-sub", "q.>", "--deny-pub", ">", "--allow-pub-response")
	if want := fmt.Sprintf("[ OK ] set max responses to 1\n[ OK ] added deny pub \">\"\n[ OK ] added sub \"q.>\"\n[ OK ] edited signing key %q\n", sk); r.Error != nil || r.Err != want || r.Out != "" {
		t.Errorf("edit signing-key: %v\nstderr:\n%s\nwant:\n%s\nstdout (want none):\n%s", r.Error, r.Err, want, r.Out)
	}
	e.MustRun("add", "user", "U", "-K", "service")
	e.MustRun("add", "user", "client", "-a", "A")

	svc := l.mustDial("A", "U")
	cl := l.mustDial("A", "client")
	if _, err := svc.Subscribe("q.x", func(m *nats.Msg) { _ = m.Respond([]byte("answer")) }); err != nil {
		t.Fatal(err)
	}
	if err := svc.Flush(); err != nil {
		t.Fatal(err)
	}
	resp, err := cl.Request("q.x", []byte("question"), 5*time.Second)
	if err != nil || string(resp.Data) != "answer" {
		t.Fatalf("request to the scoped service: %v %v", resp, err)
	}
	svc.violation(t, "elsewhere", func() error { return svc.Publish("elsewhere", nil) })
	svc.violation(t, "q.x", func() error { return svc.Publish("q.x", nil) })
	svc.violation(t, "other.>", func() error { _, err := svc.SubscribeSync("other.>"); return err })

	// Editing the scope changes what its users may do without re-issuing them (the server
	// drops their connections so that they come back with the new permissions).
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "service", "--allow-sub", "other.>")
	svc = l.mustDial("A", "U")
	sub, err := svc.SubscribeSync("other.x")
	if err != nil {
		t.Fatal(err)
	}
	delivers(t, svc, sub, cl, "other.x")

	// The user itself carries no permissions: they come from the key and change with it.
	if uc := user(t, e, "A", "U"); !uc.HasEmptyPermissions() || uc.Issuer != sk {
		t.Errorf("scoped user claims: issuer %s perms %+v", uc.Issuer, uc.Permissions)
	}
	msg := e.MustFail("add", "user", "V", "-K", "service", "--allow-pub", "x")
	if !strings.Contains(msg, "scoped") {
		t.Errorf("permission flags with a scoped key: %s", msg)
	}
}

// TestTemplateScope: seed 001's template example; pam and joe each reach only their subjects,
// and describe user shows what the server enforced.
func TestTemplateScope(t *testing.T) {
	t.Parallel()
	l := newLive(t, "O", nil)
	e := l.e
	e.MustRun("add", "account", "sales")
	sk := quoted(t, e.MustRunStatus("edit", "account", "-n", "sales", "--sk", "generate"), "added signing key")
	e.MustRun("edit", "signing-key", "--account", "sales", "--role", "team-service", "--sk", sk,
		"--allow-sub", "{{account-name()}}.{{tag(team)}}.{{name()}}.>", "--allow-pub-response")
	e.MustRun("add", "user", "pam", "-K", "team-service", "--tag", "team:support")
	e.MustRun("add", "user", "joe", "-K", "team-service", "--tag", "team:leads")
	e.MustRun("add", "user", "pub", "-a", "sales")

	pub := l.mustDial("sales", "pub")
	for _, c := range []struct{ user, own, other string }{
		{"pam", "sales.support.pam", "sales.leads.joe"},
		{"joe", "sales.leads.joe", "sales.support.pam"},
	} {
		nc := l.mustDial("sales", c.user)
		sub, err := nc.SubscribeSync(c.own + ".>")
		if err != nil {
			t.Fatal(err)
		}
		delivers(t, nc, sub, pub, c.own+".x")
		nc.violation(t, c.other+".>", func() error { _, err := nc.SubscribeSync(c.other + ".>"); return err })
		nc.violation(t, "sales.>", func() error { _, err := nc.SubscribeSync("sales.>"); return err })

		d := describe(t, e, "user", c.user, "-a", "sales")
		if !strings.Contains(d, c.own+".>") || strings.Contains(d, c.other) {
			t.Errorf("describe user %s does not show the enforced subject %s.>:\n%s", c.user, c.own, d)
		}
	}
}

// TestRevocationsLive: a revoked user is refused, a revocation before the JWT was issued does
// not touch it, and re-issuing a revoked user lets it in again.
func TestRevocationsLive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "O", nil)
	e := l.e
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "U", "-a", "A")
	e.MustRun("add", "user", "V", "-a", "A")
	l.mustDial("A", "U").Close()

	e.MustRun("revocations", "add-user", "-a", "A", "-n", "U")
	l.mustBeRefused(l.creds("A", "U"), "revoked user U")

	v := user(t, e, "A", "V")
	e.MustRun("revocations", "add-user", "-a", "A", "-n", "V", "--at", fmt.Sprint(v.IssuedAt-60))
	l.mustDial("A", "V").Close()

	// A revocation covers JWTs issued at or before its second: wait for the clock to pass it.
	revokedAt := account(t, e, "A").Revocations[user(t, e, "A", "U").Subject]
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Unix() <= revokedAt {
		if time.Now().After(deadline) {
			t.Fatal("clock did not advance")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.MustRun("edit", "user", "U", "-a", "A", "--tag", "reissued")
	l.mustDial("A", "U").Close()

	// delete user revokes too (its creds file stays without -C).
	e.MustRun("delete", "user", "V", "-a", "A")
	l.mustBeRefused(l.creds("A", "V"), "deleted user V")
}

// TestRotationLive: after rotate signing-key, the re-issued users connect and a JWT signed by
// the removed key is refused.
func TestRotationLive(t *testing.T) {
	t.Parallel()
	l := newLive(t, "O", nil)
	e := l.e
	e.MustRun("add", "account", "A")
	out := e.MustRunStatus("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "service", "--allow-pubsub", "svc.>")
	old := quoted(t, out, "added signing key")
	e.MustRun("add", "user", "U1", "-a", "A", "-K", "service")
	e.MustRun("add", "user", "U2", "-a", "A", "-K", old)
	stale := writeTemp(t, readFile(t, l.creds("A", "U1")))
	l.mustDial("A", "U1").Close()

	out = e.MustRunStatus("rotate", "signing-key", "-a", "A", "--old", old)
	for _, u := range []string{"U1", "U2"} {
		if !strings.Contains(out, fmt.Sprintf("re-issued user %q", u)) {
			t.Errorf("rotation output lacks %s:\n%s", u, out)
		}
	}
	u1 := l.mustDial("A", "U1")
	u2 := l.mustDial("A", "U2")
	sub, err := u1.SubscribeSync("svc.a")
	if err != nil {
		t.Fatal(err)
	}
	delivers(t, u1, sub, u2, "svc.a")
	u1.violation(t, "nope", func() error { return u1.Publish("nope", nil) })
	l.mustBeRefused(stale, "U1 with a JWT signed by the removed key")
}
