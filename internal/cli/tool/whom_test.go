package tool_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nuid"

	"github.com/signet-dev/signet/internal/cli/clitest"

	"github.com/signet-dev/signet/internal/cli/dev"
	"github.com/signet-dev/signet/internal/cli/tool"
	"github.com/signet-dev/signet/internal/natstest"
)

// connectedAs runs `tool sub` with args until it listens and returns the user it says it
// listens as.
func (e *env) connectedAs(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A subject of its own: the previous call's subscription may still be on the server, and
	// waiting for it would cancel this one while it connects.
	subject := "whoami." + nuid.Next()
	done := e.start(ctx, append([]string{"tool", "sub", subject}, args...)...)
	e.waitSub(t, subject, done)
	cancel()
	r := wait(t, done)
	if r.Error != nil {
		t.Fatalf("tool sub: %v\n%s", r.Error, r.Err)
	}
	out := r.Out + r.Err
	_, rest, ok := strings.Cut(out, "as user ")
	if !ok {
		t.Fatalf("tool sub did not say whom it listens as:\n%s", out)
	}
	user, _, _ := strings.Cut(rest, " ")
	return strings.Trim(user, `"`)
}

func TestToolPrefersTheDemoUserThenSkipsRevokedAndExpiredUsers(t *testing.T) {
	t.Parallel()
	if tool.PreferredUser != dev.DemoUser {
		t.Fatalf("tool prefers user %q, signet dev makes %q", tool.PreferredUser, dev.DemoUser)
	}
	e := newEnv(t)
	// Users signed by account O, which the server knows: alice sorts first.
	e.MustRun("add", "user", "-a", "O", "alice")
	e.MustRun("add", "user", "-a", "O", "demo")
	if got := e.connectedAs(t); got != "demo" {
		t.Errorf("with a demo user, tool connects as %q, want demo", got)
	}
	e.MustRun("revocations", "add-user", "-a", "O", "-n", "demo")
	if got := e.connectedAs(t); got != "O" {
		t.Errorf("with demo revoked, tool connects as %q, want O (first by name)", got)
	}
	e.MustRun("delete", "user", "-a", "O", "O", "--revoke=false")
	if got := e.connectedAs(t); got != "alice" {
		t.Errorf("with demo revoked and O gone, tool connects as %q, want alice", got)
	}
	e.MustRun("revocations", "add-user", "-a", "O", "-n", "alice")
	// old expired: made two days ago to last one day.
	e.Now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
	e.MustRun("add", "user", "-a", "O", "old", "--expiry", "1d")
	e.Now = nil
	msg := e.MustFail("tool", "pub", "x", "y")
	for _, want := range []string{
		`no user of account "O" can connect`,
		`"alice" is revoked by account "O"`,
		`"demo" is revoked by account "O"`,
		`"old" expired at`,
		"--creds", "signet add user",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestRefusedConnectSaysTheUserIsRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "-a", "O", "alice")
	aliceCreds := filepath.Join(e.KeysDir(), "creds", "O", "O", "alice.creds")
	e.MustRun("revocations", "add-user", "-a", "O", "-n", "alice")
	// A server that holds the account as the store has it now, revocation included.
	trust, preload := natstest.FromStore(t, e.store)
	ns := natstest.StartMemory(t, trust, preload)
	for _, args := range [][]string{
		{"tool", "pub", "-u", "alice", "x", "y", "--nats", ns.ClientURL()},
		{"pub", "--creds", aliceCreds, "x", "y", "--server", ns.ClientURL()},
	} {
		msg := e.MustFail(args...)
		for _, want := range []string{
			"the server refused",
			`user "alice" is revoked by account "O"`,
			"signet revocations delete-user -a O -n alice",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("signet %s: error %q lacks %q", strings.Join(args, " "), msg, want)
			}
		}
		if strings.Contains(msg, "trust") {
			t.Errorf("signet %s: the store knows the cause, yet the error suggests trust: %q", strings.Join(args, " "), msg)
		}
	}
}

func TestRefusedConnectSaysTheUserExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
	e.MustRun("add", "user", "-a", "O", "old", "--expiry", "1d")
	e.Now = nil
	msg := e.MustFail("tool", "rtt", "-u", "old")
	for _, want := range []string{"the server refused", `user "old" expired at `, "signet edit user old -a O --expiry"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestCredsAndServerFlagsConnectAsTheNatsCLIDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "-a", "O", "bob")
	bobCreds := filepath.Join(e.KeysDir(), "creds", "O", "O", "bob.creds")
	other := natstest.StartMemory(t, e.trust, e.preload)

	// --creds names the user: bob, found in the store; the service URL is the operator's.
	if got := e.connectedAs(t, "--creds", bobCreds); got != "bob" {
		t.Errorf("--creds bob.creds connects as %q", got)
	}
	// -s/--server, also before the subcommand, reach another server.
	for _, args := range [][]string{
		{"tool", "rtt", "--creds", bobCreds, "-s", other.ClientURL()},
		{"tool", "--server", other.ClientURL(), "--creds", bobCreds, "rtt"},
		{"rtt", "--server", other.ClientURL()},
	} {
		r := e.Run(args...)
		if r.Error != nil || !strings.Contains(r.Out+r.Err, other.ClientURL()) {
			t.Errorf("signet %s: %v\n%s%s", strings.Join(args, " "), r.Error, r.Out, r.Err)
		}
	}

	// A creds file of a user the store does not know still connects, given a server.
	fresh := clitest.New(t, e.Root)
	fresh.MustRun("init", "-n", "F")
	fresh.MustRun("edit", "operator", "--rm-service-url", "nats://localhost:4222") // init's: the test names its own server
	if r := fresh.Run("tool", "rtt", "--creds", bobCreds, "--server", e.ns.ClientURL()); r.Error != nil {
		t.Errorf("--creds from another store with --server: %v", r.Error)
	}
	mustFail(t, fresh.MustFail("tool", "rtt", "--creds", bobCreds), "pass --server URL")

	mustFail(t, e.MustFail("tool", "pub", "--creds", bobCreds, "-a", "O", "x"), "leave out -a/--account and -u/--user")
	mustFail(t, e.MustFail("tool", "pub", "--creds", filepath.Join(t.TempDir(), "none.creds"), "x"), "--creds")
}

func TestPubWaitDeliversToASubscriberThatStartsLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := e.start(ctx, "tool", "pub", "late.news", "extra", "--wait", "30s")
	sub := e.start(ctx, "tool", "sub", "late.news", "--max", "1")
	r := wait(t, sub)
	if r.Error != nil || !strings.Contains(r.Out, "[#1] received on [late.news]: 'extra'") {
		t.Fatalf("a sub started after `pub --wait` did not get the message: %v\n%s%s", r.Error, r.Out, r.Err)
	}
	if r := wait(t, pub); r.Error != nil {
		t.Fatalf("pub --wait: %v\n%s", r.Error, r.Err)
	}

	msg := e.MustFail("tool", "pub", "nobody.here", "x", "--wait", "100ms")
	mustFail(t, msg, "nobody subscribed within 100ms")
	mustFail(t, e.MustFail("tool", "pub", "x", "--wait", "-1s"), "--wait")
}
