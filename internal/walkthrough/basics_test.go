package walkthrough_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestDocsBasicsPushedAccountUsersConnectAndAreHeldToTheirPermissions replays "nsc Basics"
// (docs.nats.io, using-nats/nats-tools/nsc/basics): operator, account and user; the server
// configuration from `generate config --nats-resolver` (refused until the operator has a system
// account, as the page warns); `push -a MyAccount -u nats://...`; the creds file with a
// subscriber on ">" and a publisher; `sub`/`pub` as nsc's embedded tools; and the users s and c
// whose permissions make a service and its client. The server refuses MyUser before the push,
// delivers "hello NATS" after it, answers c's request through s, and denies each of them what
// the page's permissions leave out.
func TestDocsBasicsPushedAccountUsersConnectAndAreHeldToTheirPermissions(t *testing.T) {
	t.Parallel()
	p := newPage(t)
	p.nsc("add", "operator", "MyOperator")
	p.nsc("add", "account", "MyAccount")
	p.nsc("add", "user", "MyUser")

	// The page: "If you see this error message ... the system account needs to be specified".
	// signet says so before a server is started.
	if err := p.fails("generate", "config", "--nats-resolver"); !strings.Contains(err, "system account") || !strings.Contains(err, "--system-account") {
		t.Fatalf("generate config --nats-resolver without a system account: %v", err)
	}
	p.nsc("add", "account", "-n", "SYS")
	p.nsc("edit", "operator", "--system-account", "SYS")

	// nsc generate config --nats-resolver > resolver.conf, then "adjust the location where the
	// server will store the JWTs in resolver.dir" and include it from myconfig.cfg.
	resolverConf := p.stdout("generate", "config", "--nats-resolver")
	jwtDir := t.TempDir()
	edited := strings.Replace(resolverConf, "dir: './jwt'", "dir: '"+jwtDir+"'", 1)
	if edited == resolverConf {
		t.Fatalf("resolver.conf has no dir: './jwt' line to adjust:\n%s", resolverConf)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "resolver.conf"), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	myconfig := filepath.Join(dir, "myconfig.cfg")
	if err := os.WriteFile(myconfig, []byte("server_name: servertest\nlisten: 127.0.0.1:-1\n\ninclude resolver.conf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := startConfig(t, myconfig)
	url := ns.ClientURL()
	// nsc edit operator --service-url nats://localhost:4222 (the page's first edit), with the
	// port the server took.
	p.nsc("edit", "operator", "--service-url", url)

	creds := p.creds("MyOperator", "MyAccount", "MyUser")
	refused(t, url, creds, "a user of MyAccount before MyAccount was pushed")

	out := p.nsc("push", "-a", "MyAccount", "-u", url)
	_, tok := p.account("MyOperator", "MyAccount")
	waitServed(t, ns, tok)
	if _, err := os.Stat(filepath.Join(jwtDir, p.accountKey("MyOperator", "MyAccount")+".jwt")); err != nil {
		t.Fatalf("push reported\n%s\nbut the resolver directory has no MyAccount JWT: %v", out, err)
	}

	// nats sub --creds ~/.nkeys/creds/MyOperator/MyAccount/MyUser.creds ">"
	// nats pub --creds ~/.nkeys/creds/MyOperator/MyAccount/MyUser.creds hello NATS
	subscriber := dial(t, url, creds)
	all := subscriber.subscribe(t, ">")
	dial(t, url, creds).publish(t, "hello", "NATS")
	receive(t, all, "hello", "NATS")

	// nsc sub --user MyUser ">" / nsc pub --user MyUser hello NATS (the embedded tools; the
	// subscriber is told to stop after one message instead of waiting for Ctrl-C).
	// `add account -n SYS` made SYS the current account, with nsc as with signet; the page's
	// "NSC Environment" section sets it back: nsc env --account <account name>.
	p.nsc("env", "--account", "MyAccount")
	acc := p.accountKey("MyOperator", "MyAccount")
	sub := p.start("sub", "--user", "MyUser", ">", "--max-messages", "1")
	sub.listening(t, ns, acc, "hello", 2)
	p.nsc("pub", "--user", "MyUser", "hello", "NATS")
	if got := sub.wait(t).Out; !strings.Contains(got, "received on [hello]: 'NATS'") {
		t.Fatalf("signet sub printed:\n%s", got)
	}
	receive(t, all, "hello", "NATS")

	// User authorization: a service s and its client c.
	p.nsc("add", "user", "s", "--allow-pub", "_INBOX.>", "--allow-sub", "q")
	p.nsc("add", "user", "c", "--allow-pub", "q", "--allow-sub", "_INBOX.>")
	s := dial(t, url, p.creds("MyOperator", "MyAccount", "s"))
	if _, err := s.Subscribe("q", func(m *nats.Msg) { _ = m.Respond([]byte("answer")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, url, p.creds("MyOperator", "MyAccount", "c"))
	m, err := c.Request("q", []byte("question"), wait)
	if err != nil || string(m.Data) != "answer" {
		t.Fatalf("c's request to s on q: %v %v", m, err)
	}
	c.violation(t, "hello", func() error { return c.Publish("hello", nil) })
	c.violation(t, "q", func() error { _, err := c.SubscribeSync("q"); return err })
	s.violation(t, "q", func() error { return s.Publish("q", nil) })
	s.violation(t, "hello", func() error { _, err := s.SubscribeSync("hello"); return err })
}
