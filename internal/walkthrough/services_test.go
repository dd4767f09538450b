package walkthrough_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsServicesRequestsCrossAccountsOnlyThroughImports replays "nsc Services" (docs.nats.io,
// using-nats/nats-tools/nsc/services): A exports the public service help and the private
// service private.help.*; B imports the first by A's key and the second with the activation
// token from `generate activation`, under the local subject private.help. With both pushed,
// `req --account B --user b` gets the answers of `reply --account A --user U` on both, the
// private request reaching A on private.help.<B>. Account C, which holds an import of the
// private service without a token (forced in), finds no responder while A's replier listens.
func TestDocsServicesRequestsCrossAccountsOnlyThroughImports(t *testing.T) {
	t.Parallel()
	p, ns := pushedOperator(t)
	a := p.accountKey("O", "A")
	out := p.nsc("add", "export", "--name", "help", "--subject", "help", "--service")
	if !strings.Contains(out, `added public service export`) {
		t.Fatalf("add export --service:\n%s", out)
	}
	p.nsc("describe", "account")

	p.nsc("add", "account", "B")
	out = p.nsc("add", "import", "--src-account", a, "--remote-subject", "help", "--service")
	if !strings.Contains(out, `added service import "help"`) {
		t.Fatalf("add import --service:\n%s", out)
	}
	p.nsc("describe", "account")
	p.nsc("add", "user", "b")
	b := p.accountKey("O", "B")
	p.push(ns, "A", "B")

	// Testing the Service: nsc reply --account A --user U help "I will help", then
	// nsc req --account B --user b help me (the replier told to stop after one request).
	reply := p.start("reply", "--account", "A", "--user", "U", "help", "I will help", "--max-messages", "1")
	reply.listening(t, ns.Server, a, "help", 1)
	if got := p.stdout("req", "--account", "B", "--user", "b", "help", "me"); !strings.Contains(got, "'I will help'") {
		t.Fatalf("B's request printed:\n%s", got)
	}
	if got := reply.wait(t).Err; !strings.Contains(got, "received on [help]: 'me'") {
		t.Fatalf("A's replier printed:\n%s", got)
	}

	// Securing Services.
	out = p.nsc("add", "export", "--subject", "private.help.*", "--private", "--service", "--account", "A")
	if !strings.Contains(out, `added private service export "private.help.*"`) {
		t.Fatalf("add export --private --service:\n%s", out)
	}
	p.nsc("describe", "account", "A")
	if keys := p.nsc("list", "keys", "--account", "B"); !strings.Contains(keys, b) {
		t.Fatalf("list keys --account B does not show B's key %s:\n%s", b, keys)
	}
	activation := filepath.Join(t.TempDir(), "activation.jwt")
	p.nsc("generate", "activation", "--account", "A", "--target-account", b, "--subject", "private.help."+b, "-o", activation)
	p.nsc("describe", "jwt", "-f", activation)
	out = p.nsc("add", "import", "--account", "B", "-u", activation, "--local-subject", "private.help", "--name", "private.help")
	if !strings.Contains(out, `added service import "private.help.`+b+`"`) {
		t.Fatalf("add import -u activation.jwt:\n%s", out)
	}
	p.nsc("describe", "account", "B")

	// Not on the page: C holds an import of the private service without an activation.
	p.nsc("add", "account", "C")
	p.nsc("add", "user", "c")
	c := p.accountKey("O", "C")
	p.nsc("add", "import", "--account", "C", "--src-account", a, "--remote-subject", "private.help."+c, "--service", "--force")
	p.push(ns, "A", "B", "C")

	// Testing the Private Service: nsc reply --account A --user U "private.help.*" "help is
	// here" (running until interrupted, as on the page), nsc req --account B --user b
	// private.help help_me.
	reply = p.start("reply", "--account", "A", "--user", "U", "private.help.*", "help is here")
	reply.listening(t, ns.Server, a, "private.help."+b, 1)
	if got := p.stdout("req", "--account", "B", "--user", "b", "private.help", "help_me"); !strings.Contains(got, "'help is here'") {
		t.Fatalf("B's request through its activation printed:\n%s", got)
	}
	err := p.fails("req", "--account", "C", "--user", "c", "private.help."+c, "help_me")
	if !strings.Contains(err, "nobody is listening") {
		t.Fatalf("C's request without an activation: %v", err)
	}
	got := reply.stop(t).Err
	if !strings.Contains(got, "received on [private.help."+b+"]: 'help_me'") {
		t.Fatalf("A's replier did not get B's request on the remote subject:\n%s", got)
	}
	if strings.Count(got, "] received on [") != 1 {
		t.Fatalf("A's replier answered more than B's request:\n%s", got)
	}
}
