package walkthrough_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// startGenerated starts nats-server from a configuration file signet generated, as
// `nats-server -c` does. The file is the security part only; like a server started without
// `listen`, it would take port 4222, so the test moves it to a free port on loopback.
func startGenerated(t *testing.T, file string) *server.Server {
	t.Helper()
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("nats-server refuses the generated %s: %v", file, err)
	}
	opts.Host, opts.Port = "127.0.0.1", -1
	return startOptions(t, opts)
}

// TestDocsMemoryResolverServesOnlyPreloadedAccounts replays the Memory Resolver Tutorial
// (docs.nats.io, running-a-nats-service/configuration/securing_nats/jwt/mem_resolver): an
// operator without a system account, account A and user TA, then `generate config
// --mem-resolver --config-file /tmp/server.conf` and `nats-server -c /tmp/server.conf`. TA's
// creds publish "hello world" to a subscriber; a user added after the file was written connects
// too (users are not in the configuration), while a user of an account added afterwards is
// refused until the file is generated again and the server restarted with it.
func TestDocsMemoryResolverServesOnlyPreloadedAccounts(t *testing.T) {
	t.Parallel()
	p := newPage(t)
	p.nsc("add", "operator", "-n", "memory")
	p.nsc("add", "account", "--name", "A")
	if d := p.nsc("describe", "account", "-W"); !strings.Contains(d, p.accountKey("memory", "A")) {
		t.Fatalf("describe account -W does not show A's key:\n%s", d)
	}
	p.nsc("add", "user", "--name", "TA")
	conf := filepath.Join(t.TempDir(), "server.conf")
	p.nsc("generate", "config", "--mem-resolver", "--config-file", conf)

	ns := startGenerated(t, conf)
	url := ns.ClientURL()
	// nats pub --creds ~/.nkeys/creds/memory/A/TA.creds hello world
	creds := p.creds("memory", "A", "TA")
	if _, err := os.Stat(creds); err != nil {
		t.Fatalf("TA's creds are not at nsc's ~/.nkeys/creds/memory/A/TA.creds: %v", err)
	}
	sub := dial(t, url, creds).subscribe(t, "hello")
	dial(t, url, creds).publish(t, "hello", "world")
	receive(t, sub, "hello", "world")

	// Not on the page: what the preload covers.
	p.nsc("add", "user", "--name", "TB")
	dial(t, url, p.creds("memory", "A", "TB")).publish(t, "hello", "from TB")
	receive(t, sub, "hello", "from TB")

	p.nsc("add", "account", "--name", "B")
	p.nsc("add", "user", "--name", "TC")
	refused(t, url, p.creds("memory", "B", "TC"), "a user of an account that is not in the generated configuration")
	p.nsc("generate", "config", "--mem-resolver", "--config-file", conf, "--force")
	dial(t, startGenerated(t, conf).ClientURL(), p.creds("memory", "B", "TC")).Close()
}
