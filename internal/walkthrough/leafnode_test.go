package walkthrough_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/signet-dev/signet/internal/natstest"
)

// TestDocsLeafNodeWithCredsJoinsTheCredsAccount replays "Leaf Node Example Using a Remote
// Global Service" (docs.nats.io, running-a-nats-service/configuration/leafnodes) with a hub of
// our own in place of NGS: `env -a leaftest` (the page selects DELETE_ME and then shows the
// user added to leaftest; one account is meant), `add user leaftestuser`, a leaf server whose
// remote is `{ url: ..., credentials: <the user's creds> }`, `reply q 42` on the hub and a
// request from a client of the leaf (which has no credentials of its own). The leaf connection
// lands in the account of the creds: the request is answered, a message published on the leaf
// reaches a subscriber of leaftest on the hub, and a subscriber of another account on the hub
// gets nothing.
func TestDocsLeafNodeWithCredsJoinsTheCredsAccount(t *testing.T) {
	t.Parallel()
	p := newPage(t)
	p.nsc("add", "operator", "O", "--sys")
	p.nsc("add", "account", "other")
	p.nsc("add", "user", "watcher")
	p.nsc("add", "account", "leaftest")
	p.nsc("env", "-a", "leaftest")
	p.nsc("describe", "account")
	out := p.nsc("add", "user", "leaftestuser")
	creds := p.creds("O", "leaftest", "leaftestuser")
	if !strings.Contains(out, creds) {
		t.Fatalf("add user leaftestuser did not report its creds file %s:\n%s", creds, out)
	}
	leaftest := p.accountKey("O", "leaftest")

	tr, accounts := natstest.FromStore(t, p.store("O"))
	hub := natstest.Start(t, tr, natstest.Options{Name: "hub", Preload: accounts, Extra: "leafnodes {\n  listen: \"127.0.0.1:-1\"\n}\n"})
	vz, err := hub.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	p.nsc("edit", "operator", "--service-url", hub.ClientURL())

	leaf := startConfig(t, writeConfig(t, "leaf.conf", fmt.Sprintf(`listen: "127.0.0.1:-1"
leafnodes {
    remotes = [
        {
          url: "nats://127.0.0.1:%d"
          credentials: %q
        },
    ]
}
`, vz.LeafNode.Port, creds)))
	poll(t, "the leaf node did not connect to the hub", func() bool {
		lz, err := hub.Leafz(&server.LeafzOptions{})
		return err == nil && len(lz.Leafs) == 1 && lz.Leafs[0].Account == leaftest && leaf.NumLeafNodes() == 1
	})

	// nsc reply q 42 (on the hub, as the current account's user), then a request from the leaf.
	reply := p.start("reply", "q", "42", "--max-messages", "1")
	reply.listening(t, hub.Server, leaftest, "q", 1)
	waitInterest(t, leaf, server.DEFAULT_GLOBAL_ACCOUNT, "q", 1)
	local, err := dialErr(t, leaf.ClientURL())
	if err != nil {
		t.Fatalf("a client of the leaf: %v", err)
	}
	inbox := local.subscribe(t, "_INBOX.leaf.request")
	waitInterest(t, hub.Server, leaftest, "_INBOX.leaf.request", 1)
	if err := local.PublishRequest("q", "_INBOX.leaf.request", nil); err != nil {
		t.Fatal(err)
	}
	receive(t, inbox, "_INBOX.leaf.request", "42")
	if got := reply.wait(t).Err; !strings.Contains(got, "received on [q]") {
		t.Fatalf("reply on the hub printed:\n%s", got)
	}

	// A message published on the leaf reaches leaftest on the hub, and only leaftest.
	hubSub := dial(t, hub.ClientURL(), p.creds("O", "leaftest", "leaftestuser")).subscribe(t, "leaf.hello")
	other := dial(t, hub.ClientURL(), p.creds("O", "other", "watcher"))
	otherSub := other.subscribe(t, "leaf.hello")
	waitInterest(t, leaf, server.DEFAULT_GLOBAL_ACCOUNT, "leaf.hello", 1)
	local.publish(t, "leaf.hello", "from the leaf")
	receive(t, hubSub, "leaf.hello", "from the leaf")
	// The hub has handled the message; a PONG to other comes after anything it sent other
	// before, so once the flush returns, a delivery to other would be pending.
	if err := other.Flush(); err != nil {
		t.Fatal(err)
	}
	nothingPending(t, otherSub, "a subscriber of another account on the hub")
}
