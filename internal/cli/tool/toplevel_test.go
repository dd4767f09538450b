package tool_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/natstest"
)

func TestTopLevelPubSubReqReplyRTTAreToolsCommandsAsInNsc(t *testing.T) {
	t.Parallel()
	root := cli.NewRootCmd(cmdutil.NewFactory(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, false))
	flagNames := func(c *cobra.Command) []string {
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name+"/"+f.Shorthand) })
		sort.Strings(names)
		return names
	}
	for _, name := range []string{"pub", "sub", "req", "reply", "rtt"} {
		top, _, err := root.Find([]string{name})
		if err != nil || top.Name() != name || top.Parent() != root {
			t.Fatalf("no top-level %s: %v", name, err)
		}
		if !top.Hidden {
			t.Errorf("top-level %s is listed in help; nsc hides it", name)
		}
		under, _, err := root.Find([]string{"tool", name})
		if err != nil || under.Name() != name {
			t.Fatalf("no tool %s: %v", name, err)
		}
		if a, b := strings.Join(flagNames(top), " "), strings.Join(flagNames(under), " "); a != b {
			t.Errorf("%s flags differ from tool %s:\n%s\n%s", name, name, a, b)
		}
		if strings.Contains(top.Example, "tool ") {
			t.Errorf("top-level %s example names tool: %q", name, top.Example)
		}
	}
	sub, _, _ := root.Find([]string{"sub"})
	for _, flag := range []string{"queue", "max-messages", "nats", "tls-first", "ca-cert", "client-cert", "client-key", "tls-curves", "account", "user"} {
		if sub.Flags().Lookup(flag) == nil {
			t.Errorf("sub has no nsc flag --%s", flag)
		}
	}
	if sub.Flags().ShorthandLookup("q") == nil {
		t.Error("sub has no -q (nsc's --queue shorthand)")
	}
}

func TestTopLevelSubWithNscQueueAndMaxMessagesReceivesAPub(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// nsc's flags: -q and --max-messages.
	done := e.start(ctx, "sub", "orders.>", "-q", "workers", "--max-messages", "1")
	e.waitSub(t, "orders.new", done)
	if out := e.MustRunStatus("pub", "orders.new", "one"); !strings.Contains(out, `Published [orders.new] : "one"`) {
		t.Errorf("pub output: %q", out)
	}
	r := wait(t, done)
	if r.Error != nil {
		t.Fatalf("sub: %v\n%s", r.Error, r.Err)
	}
	if !strings.Contains(r.Out, "[#1] received on [orders.new]: 'one'") {
		t.Errorf("sub output:\n%s", r.Out)
	}

	done = e.start(ctx, "reply", "help", "on it", "--queue", "helpers", "--max-messages", "1")
	e.waitSub(t, "help", done)
	if out := e.MustRun("req", "help", "please"); !strings.Contains(out, "'on it'") {
		t.Errorf("req output: %q", out)
	}
	if r := wait(t, done); r.Error != nil || !strings.Contains(r.Err, "received on [help]: 'please'") {
		t.Errorf("reply: %v\n%s", r.Error, r.Out)
	}
	if !regexp.MustCompile(`round trip time to \[\S+\] = \S+`).MatchString(e.MustRun("rtt")) {
		t.Error("top-level rtt printed no round trip")
	}
	// --max-messages -1 (nsc's default) is no limit; 0 is refused as nsc does.
	done = e.start(ctx, "sub", "idle", "--max-messages", "-1")
	e.waitSub(t, "idle", done)
	cancel()
	if r := wait(t, done); r.Error != nil {
		t.Errorf("sub --max-messages -1 ended with %v", r.Error)
	}
	mustFail(t, e.MustFail("sub", "x", "--max-messages", "0"), "greater than zero")
}

func TestToolTLSFlagsAreCheckedBeforeConnecting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := filepath.Join(t.TempDir(), "ca.pem")
	mustFail(t, e.MustFail("pub", "x", "--ca-cert", missing), "--ca-cert "+missing+": no such file")
	mustFail(t, e.MustFail("tool", "pub", "x", "--client-cert", missing), "--client-cert and --client-key go together")
	mustFail(t, e.MustFail("pub", "x", "--tls-curves", "P256,P999"), `unknown curve "P999"`)
	// A CA file is used: the plain-text test server cannot satisfy a TLS client.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg := e.MustFail("pub", "x", "--ca-cert", ca); !strings.Contains(strings.ToLower(msg), "certificate") {
		t.Errorf("--ca-cert with a bad file: %q", msg)
	}
}

func mustFail(t *testing.T, msg, want string) {
	t.Helper()
	if !strings.Contains(msg, want) {
		t.Errorf("error %q lacks %q", msg, want)
	}
}

func TestToolConnectionFlagsMayComeBeforeTheSubcommandAsInNsc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := natstest.StartMemory(t, e.trust, e.preload)
	if out := e.MustRun("tool", "--nats", other.ClientURL(), "rtt"); !strings.Contains(out, other.ClientURL()) {
		t.Errorf("tool --nats URL rtt went elsewhere: %q", out)
	}
	mustFail(t, e.MustFail("tool", "--tls-curves", "bogus", "pub", "x"), `unknown curve "bogus"`)
}
