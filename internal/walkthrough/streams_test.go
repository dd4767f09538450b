package walkthrough_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/natstest"
)

// pushedOperator sets up what the Streams, Services and Revocation pages start from: operator O
// (with a system account, so a full-resolver nats-server can take pushes), account A and its
// user U, and a running full-resolver server whose URL is the operator's service URL, so the
// embedded tools (sub, pub, req, reply) find it.
func pushedOperator(t *testing.T) (*page, *natstest.Server) {
	t.Helper()
	p := newPage(t)
	p.nsc("add", "operator", "O", "--sys")
	p.nsc("add", "account", "A")
	p.nsc("add", "user", "U")
	ns := startFull(t, p.store("O"))
	p.nsc("edit", "operator", "--service-url", ns.ClientURL())
	return p, ns
}

// push runs the pages' `nsc push -a NAME -u nats://...` for each account and waits until the
// server runs what the store holds.
func (p *page) push(ns *natstest.Server, accounts ...string) {
	p.t.Helper()
	for _, a := range accounts {
		p.nsc("push", "-a", a, "-u", ns.ClientURL())
		_, tok := p.account("O", a)
		waitServed(p.t, ns.Server, tok)
	}
}

// TestDocsStreamsPublicImportDeliversAndPrivateExportNeedsActivation replays "nsc Streams"
// (docs.nats.io, using-nats/nats-tools/nsc/streams): A exports the public stream a.b.c.> and
// the private stream private.abc.*; B imports the first by A's key and the second with the
// activation token from `generate activation`. After `push`, `sub --account B --user b`
// receives what `pub --account A --user U` publishes on both. Account C, which holds an import
// of the private stream without a token (forced in), gets nothing on it from the server,
// while its public import delivers.
func TestDocsStreamsPublicImportDeliversAndPrivateExportNeedsActivation(t *testing.T) {
	t.Parallel()
	p, ns := pushedOperator(t)
	out := p.nsc("add", "export", "--name", "abc", "--subject", "a.b.c.>")
	// nsc reports the export by name (`added public stream export "abc"`), signet by subject.
	if !strings.Contains(out, `added public stream export`) {
		t.Fatalf("add export:\n%s", out)
	}
	if ac, _ := p.account("O", "A"); len(ac.Exports) != 1 || ac.Exports[0].Name != "abc" || ac.Exports[0].Subject != "a.b.c.>" || ac.Exports[0].TokenReq {
		t.Fatalf("A's exports: %+v", ac.Exports)
	}
	p.nsc("describe", "account")
	a := p.accountKey("O", "A")

	p.nsc("add", "account", "B")
	out = p.nsc("add", "import", "--src-account", a, "--remote-subject", "a.b.c.>")
	if !strings.Contains(out, `added stream import "a.b.c.>"`) {
		t.Fatalf("add import:\n%s", out)
	}
	p.nsc("describe", "account")
	p.nsc("add", "user", "b")
	b := p.accountKey("O", "B")
	if bc, _ := p.account("O", "B"); len(bc.Imports) != 1 || bc.Imports[0].Account != a {
		t.Fatalf("the import went to the current account B as in nsc? B imports %+v", bc.Imports)
	}
	p.push(ns, "A", "B")

	// Testing the Stream: nsc sub --account B --user b "a.b.c.>" then
	// nsc pub --account A --user U a.b.c.hello world.
	sub := p.start("sub", "--account", "B", "--user", "b", "a.b.c.>", "--max-messages", "1")
	sub.listening(t, ns.Server, b, "a.b.c.hello", 1)
	p.nsc("pub", "--account", "A", "--user", "U", "a.b.c.hello", "world")
	if got := sub.wait(t).Out; !strings.Contains(got, "received on [a.b.c.hello]: 'world'") {
		t.Fatalf("B's subscriber printed:\n%s", got)
	}

	// Securing Streams.
	p.nsc("add", "export", "--subject", "private.abc.*", "--private", "--account", "A")
	p.nsc("describe", "account", "A")
	if keys := p.nsc("list", "keys", "--account", "B"); !strings.Contains(keys, b) {
		t.Fatalf("list keys --account B does not show B's key %s:\n%s", b, keys)
	}
	activation := filepath.Join(t.TempDir(), "activation.jwt")
	p.nsc("generate", "activation", "--account", "A", "--target-account", b, "--subject", "private.abc."+b, "-o", activation)
	if d := p.nsc("describe", "jwt", "-f", activation); !strings.Contains(d, b) || !strings.Contains(d, "private.abc."+b) {
		t.Fatalf("describe jwt -f activation.jwt:\n%s", d)
	}
	out = p.nsc("add", "import", "--account", "B", "--token", activation)
	if !strings.Contains(out, `added stream import "private.abc.`+b+`"`) {
		t.Fatalf("add import --token:\n%s", out)
	}
	p.nsc("describe", "account", "B")

	// Not on the page: C holds the same kind of import without an activation.
	p.nsc("add", "account", "C")
	p.nsc("add", "user", "c")
	c := p.accountKey("O", "C")
	p.nsc("add", "import", "--account", "C", "--src-account", a, "--remote-subject", "a.b.c.>")
	p.nsc("add", "import", "--account", "C", "--src-account", a, "--remote-subject", "private.abc."+c, "--force")
	p.push(ns, "A", "B", "C")

	// Testing the Private Stream. The page writes `nsc tools sub`: nsc has no `tools` command
	// (it is `tool`), and neither has signet; both point at `tool`.
	if err := p.fails("tools", "sub", "--account", "B", "--user", "b", "private.abc."+b); !strings.Contains(err, `unknown command "tools"`) || !strings.Contains(err, "Did you mean this?\n\ttool\n") {
		t.Fatalf("signet tools: %v", err)
	}
	sub = p.start("tool", "sub", "--account", "B", "--user", "b", "private.abc."+b, "--max-messages", "1")
	sub.listening(t, ns.Server, b, "private.abc."+b, 1)
	p.nsc("tool", "pub", "--account", "A", "--user", "U", "private.abc."+b, "hello")
	if got := sub.wait(t).Out; !strings.Contains(got, "received on [private.abc."+b+"]: 'hello'") {
		t.Fatalf("B's subscriber to the private stream printed:\n%s", got)
	}

	cc := dial(t, ns.ClientURL(), p.creds("O", "C", "c"))
	private := cc.subscribe(t, "private.abc."+c)
	public := cc.subscribe(t, "a.b.c.>")
	u := dial(t, ns.ClientURL(), p.creds("O", "A", "U"))
	u.publish(t, "private.abc."+c, "for C")
	u.publish(t, "a.b.c.marker", "after")
	receive(t, public, "a.b.c.marker", "after")
	nothingPending(t, private, "C imported the private stream without an activation")
}
