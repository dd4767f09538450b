package entity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// enforced is a signet store whose operator a full-resolver nats-server trusts; accounts reach
// the server only through `signet push -u nats://...`, the way an operator without an account
// server updates its resolvers.
type enforced struct {
	t   *testing.T
	e   *clitest.Env
	s   *store.Store
	srv *natstest.Server
}

// newEnforced makes operator O with a system account and starts the server. Accounts added
// afterwards are on the server only once pushed.
func newEnforced(t *testing.T) *enforced {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := natstest.FromStore(t, s)
	return &enforced{t: t, e: e, s: s, srv: natstest.StartFull(t, tr)}
}

// push runs `signet push -a account -u <server>`.
func (x *enforced) push(account string) {
	x.t.Helper()
	x.e.MustRun("push", "-a", account, "-u", x.srv.ClientURL())
}

// dial connects as user of account with the creds signet wrote; errs receives the
// connection's asynchronous errors.
func (x *enforced) dial(account, user string, errs chan<- error) (*nats.Conn, error) {
	creds := keystore.KeyStore{Dir: x.e.KeysDir()}.CredsPath("O", account, user)
	opts := []nats.Option{nats.UserCredentials(creds), nats.NoReconnect()}
	if errs != nil {
		opts = append(opts,
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { send(errs, err) }),
			nats.ClosedHandler(func(nc *nats.Conn) { send(errs, nc.LastError()) }))
	}
	nc, err := nats.Connect(x.srv.ClientURL(), opts...)
	if err == nil {
		x.t.Cleanup(nc.Close)
	}
	return nc, err
}

func send(errs chan<- error, err error) {
	if err == nil {
		return
	}
	select {
	case errs <- err:
	default:
	}
}

func (x *enforced) account(name string) *jwt.AccountClaims {
	x.t.Helper()
	ac, _, err := x.s.Account(name)
	if err != nil {
		x.t.Fatal(err)
	}
	return ac
}

// TestConnsLimitEnforcedByServer: `edit account --conns 2`, pushed, lets two users of the
// account connect at once and the server refuses the third; raising the limit from the CLI
// lets it in.
func TestConnsLimitEnforcedByServer(t *testing.T) {
	t.Parallel()
	x := newEnforced(t)
	x.e.MustRun("add", "account", "A")
	for _, u := range []string{"u1", "u2", "u3"} {
		x.e.MustRun("add", "user", u, "-a", "A")
	}
	x.e.MustRun("edit", "account", "A", "--conns", "2")
	x.push("A")

	for _, u := range []string{"u1", "u2"} {
		if _, err := x.dial("A", u, nil); err != nil {
			t.Fatalf("connection %s within the limit refused: %v", u, err)
		}
	}
	nc, err := x.dial("A", "u3", nil)
	if err == nil {
		nc.Close()
		t.Fatal("a third connection of account A was accepted with --conns 2")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "maximum account active connections exceeded") {
		t.Fatalf("third connection refused with %v, want the server's connection limit error", err)
	}

	x.e.MustRun("edit", "account", "A", "--conns", "3")
	x.push("A")
	if _, err := x.dial("A", "u3", nil); err != nil {
		t.Fatalf("third connection refused after --conns 3 was pushed: %v", err)
	}
	if got := x.account("A").Limits.Conn; got != 3 {
		t.Fatalf("stored account allows %d connections, want 3", got)
	}
}

// TestPayloadLimitEnforcedByServer: `edit account --payload 1KB`, pushed, lets a 1000-byte
// message through and makes the server close the connection of a user that publishes more
// ("Maximum Payload Violation"); a user's own --payload is enforced the same way.
func TestPayloadLimitEnforcedByServer(t *testing.T) {
	t.Parallel()
	x := newEnforced(t)
	x.e.MustRun("add", "account", "A")
	x.e.MustRun("add", "user", "u", "-a", "A")
	x.e.MustRun("add", "user", "small", "-a", "A", "--payload", "100")
	x.e.MustRun("edit", "account", "A", "--payload", "1KB")
	x.push("A")

	errs := make(chan error, 4)
	nc, err := x.dial("A", "u", errs)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := nc.SubscribeSync("big")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("big", make([]byte, 1000)); err != nil {
		t.Fatalf("publish at the limit: %v", err)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("message at the limit not delivered: %v", err)
	}
	payloadViolation(t, nc, errs, 1001)

	errs = make(chan error, 4)
	nc, err = x.dial("A", "small", errs)
	if err != nil {
		t.Fatal(err)
	}
	payloadViolation(t, nc, errs, 101)

	if got := x.account("A").Limits.Payload; got != 1000 {
		t.Fatalf("stored account payload limit %d, want 1000", got)
	}
}

// payloadViolation publishes size bytes and expects nats.go to refuse it (ErrMaxPayload, when
// the server announced its limit) or the server to close the connection with "Maximum Payload
// Violation".
func payloadViolation(t *testing.T, nc *nats.Conn, errs <-chan error, size int) {
	t.Helper()
	closed := nc.StatusChanged(nats.CLOSED)
	err := nc.Publish("big", make([]byte, size))
	if errors.Is(err, nats.ErrMaxPayload) {
		return
	}
	if err != nil {
		t.Fatalf("publish of %d bytes: %v, want nats.ErrMaxPayload or a server error", size, err)
	}
	_ = nc.Flush()
	deadline := time.After(5 * time.Second)
	for violated := false; !violated; {
		select {
		case err := <-errs:
			violated = strings.Contains(strings.ToLower(err.Error()), "maximum payload violation")
		case <-deadline:
			t.Fatalf("a %d-byte publish was neither refused nor answered with a payload violation", size)
		}
	}
	// The server closes the connection after the error.
	select {
	case <-closed:
	case <-deadline:
		t.Fatal("connection still open after a payload violation")
	}
}
