package exports_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
)

// TestRevokedActivationCutsOffImporter: B imports A's private service and private stream with
// activation tokens and gets A's replies and messages from a full-resolver nats-server. After
// `revocations add-activation` for B on both exports and `push -a A`, the same connections of
// B get no reply and no message, while B's import of a public stream of A still delivers.
func TestRevokedActivationCutsOffImporter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "help.>", "--service", "--private")
	e.MustRun("add", "export", "-a", "A", "-s", "feed.>", "--private")
	e.MustRun("add", "export", "-a", "A", "-s", "marker")
	dir := t.TempDir()
	svcTok, feedTok := filepath.Join(dir, "svc.jwt"), filepath.Join(dir, "feed.jwt")
	e.MustRun("generate", "activation", "-a", "A", "-t", "B", "-s", "help.>", "-o", svcTok)
	e.MustRun("generate", "activation", "-a", "A", "-t", "B", "-s", "feed.>", "-o", feedTok)
	e.MustRun("add", "import", "-a", "B", "--token", svcTok)
	e.MustRun("add", "import", "-a", "B", "--token", feedTok)
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "marker")

	tr, _ := natstest.FromStore(t, openStore(t, e))
	ns := natstest.StartFull(t, tr)
	e.MustRun("push", "-A", "-u", ns.ClientURL())

	na := connect(t, e, ns, "A")
	serveHelp(t, na, "help.>")
	nb := connect(t, e, ns, "B")
	feed, err := nb.SubscribeSync("feed.>")
	if err != nil {
		t.Fatal(err)
	}
	marker, err := nb.SubscribeSync("marker")
	if err != nil {
		t.Fatal(err)
	}
	if err := nb.Flush(); err != nil {
		t.Fatal(err)
	}
	if msg, err := nb.Request("help.me", []byte("?"), wait); err != nil || string(msg.Data) != "help from A" {
		t.Fatalf("B's request through its activation before the revocation: %v %v", msg, err)
	}
	publish(t, na, "feed.news", "marker")
	if msg, err := feed.NextMsg(wait); err != nil || msg.Subject != "feed.news" {
		t.Fatalf("B's stream import before the revocation delivered %v %v", msg, err)
	}
	if _, err := marker.NextMsg(wait); err != nil {
		t.Fatalf("B's public import delivered no marker: %v", err)
	}

	e.MustRun("revocations", "add-activation", "-a", "A", "-t", "B", "-s", "help.>", "--service")
	e.MustRun("revocations", "add-activation", "-a", "A", "-t", "B", "-s", "feed.>")
	e.MustRun("push", "-a", "A", "-u", ns.ClientURL())

	// The server applies the update before it answers the push; poll anyway so that a
	// slower apply is not mistaken for a failure, with a deadline for a revocation ignored.
	deadline := time.Now().Add(wait)
	for {
		_, err := nb.Request("help.me", []byte("?"), 500*time.Millisecond)
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) {
			break
		}
		if err != nil {
			t.Fatalf("B's request after the revocation: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("B still gets replies through a revoked activation")
		}
	}
	// Messages from one connection arrive in order: once the marker (public import) is in,
	// a message on the revoked stream published before it would have come too.
	publish(t, na, "feed.news", "marker")
	if _, err := marker.NextMsg(wait); err != nil {
		t.Fatalf("B's public import stopped delivering after an unrelated revocation: %v", err)
	}
	// The connection reads messages in order, so a feed message sent before the marker would
	// already wait in the subscription.
	if n, _, err := feed.Pending(); err != nil || n != 0 {
		t.Fatalf("B still receives messages through a revoked stream activation (%d pending, %v)", n, err)
	}
}

func publish(t *testing.T, nc *nats.Conn, subjects ...string) {
	t.Helper()
	for _, s := range subjects {
		if err := nc.Publish(s, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}
