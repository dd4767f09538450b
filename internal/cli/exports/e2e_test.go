package exports_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

const wait = 5 * time.Second

// serveHelp answers every request on subject from account A's connection with "help from A".
func serveHelp(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond([]byte("help from A")) }); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestPrivateServiceActivation: account A exports a private service; B imports it with an
// activation token signed by A's key, D with one signed by A's signing key, and C imports it
// without any token. B and D get replies; C's request reaches no one.
func TestPrivateServiceActivation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "D")
	e.MustRun("add", "user", "-a", "D", "d")
	e.MustRun("edit", "account", "A", "--sk", "generate")
	sk := account(t, e, "A").SigningKeys.Keys()[0]

	e.MustRun("add", "export", "-a", "A", "-s", "help.>", "--service", "--private")
	dir := t.TempDir()
	tokB := filepath.Join(dir, "b.jwt")
	tokD := filepath.Join(dir, "d.jwt")
	e.MustRun("generate", "activation", "-a", "A", "-t", "B", "-s", "help.>", "-o", tokB)
	e.MustRun("generate", "activation", "-a", "A", "-t", account(t, e, "D").Subject, "-s", "help.me", "-o", tokD, "-K", sk)
	e.MustRun("add", "import", "-a", "B", "--token", tokB, "--local-subject", "a.help.>")
	e.MustRun("add", "import", "-a", "D", "--token", tokD)
	// As nsc, the import without a token is added; signet warns the server will not honor it.
	if st := e.MustRunStatus("add", "import", "-a", "C", "--src-account", "A", "--remote-subject", "help.me", "--service"); !strings.Contains(st, "[WARN]") || !strings.Contains(st, "is private") {
		t.Errorf("import of a private export without a token: no warning:\n%s", st)
	}

	c := account(t, e, "C")
	if len(c.Imports) != 1 || c.Imports[0].Token != "" || !c.Imports[0].IsService() {
		t.Fatalf("C should hold one service import without a token, has %+v", c.Imports)
	}
	d := account(t, e, "D")
	if len(d.Imports) != 1 || d.Imports[0].Account != account(t, e, "A").Subject || d.Imports[0].Token == "" {
		t.Fatalf("D's import should name A and carry a token: %+v", d.Imports)
	}

	ns := startServer(t, e)
	serveHelp(t, connect(t, e, ns, "A"), "help.>")

	msg, err := connect(t, e, ns, "B").Request("a.help.me", []byte("?"), wait)
	if err != nil {
		t.Fatalf("B (activation signed by A) got no reply: %v", err)
	}
	if string(msg.Data) != "help from A" {
		t.Fatalf("B got %q", msg.Data)
	}
	msg, err = connect(t, e, ns, "D").Request("help.me", []byte("?"), wait)
	if err != nil {
		t.Fatalf("D (activation signed by A's signing key) got no reply: %v", err)
	}
	if string(msg.Data) != "help from A" {
		t.Fatalf("D got %q", msg.Data)
	}
	_, err = connect(t, e, ns, "C").Request("help.me", []byte("?"), wait)
	if err == nil {
		t.Fatal("C imported a private export without an activation and still got a reply")
	}
	if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("C: unexpected error %v", err)
	}
}

// TestPublicStreamExportImport: a public stream export of A, imported by B under a local
// prefix, delivers A's messages to B's subscriber.
func TestPublicStreamExportImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "news.>")
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "news.>", "--local-subject", "a.news.>")
	ns := startServer(t, e)

	nb := connect(t, e, ns, "B")
	sub, err := nb.SubscribeSync("a.news.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nb.Flush(); err != nil {
		t.Fatal(err)
	}
	na := connect(t, e, ns, "A")
	if err := na.Publish("news.sport", []byte("goal")); err != nil {
		t.Fatal(err)
	}
	if err := na.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(wait)
	if err != nil {
		t.Fatalf("B received nothing from A's stream: %v", err)
	}
	if msg.Subject != "a.news.sport" || string(msg.Data) != "goal" {
		t.Fatalf("B got %q on %q", msg.Data, msg.Subject)
	}
}

// TestMappingRewritesSubject: with a mapping orders -> orders.v2, a message published on
// orders arrives on orders.v2.
func TestMappingRewritesSubject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "mapping", "-a", "A", "-f", "orders.*", "-t", "orders.v2.{{wildcard(1)}}")
	ns := startServer(t, e)

	nc := connect(t, e, ns, "A")
	sub, err := nc.SubscribeSync("orders.v2.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("orders.eu", []byte("o1")); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(wait)
	if err != nil {
		t.Fatalf("nothing arrived on the mapped subject: %v", err)
	}
	if msg.Subject != "orders.v2.eu" || string(msg.Data) != "o1" {
		t.Fatalf("got %q on %q, want o1 on orders.v2.eu", msg.Data, msg.Subject)
	}
}

// TestAccountTokenPosition: a service exported as svc.*.info with account token position 2
// answers an importer that puts its own public key in that token, and signet refuses an import
// that puts anything else there.
func TestAccountTokenPosition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "svc.*.info", "--service", "--account-token-position", "2")
	bpub := account(t, e, "B").Subject
	if msg := e.MustFail("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "svc.x.info", "--service"); !strings.Contains(msg, "svc."+bpub+".info") {
		t.Fatalf("the error should show the subject to import: %s", msg)
	}
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "svc."+bpub+".info", "-s", "info", "--service")
	ns := startServer(t, e)
	serveHelp(t, connect(t, e, ns, "A"), "svc.*.info")
	msg, err := connect(t, e, ns, "B").Request("info", []byte("?"), wait)
	if err != nil {
		t.Fatalf("B got no reply through the account-token-position export: %v", err)
	}
	if string(msg.Data) != "help from A" {
		t.Fatalf("B got %q", msg.Data)
	}
}
