package tool_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/tool"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/store"
)

// env is a signet store (operator O with a system account, account O and user O) and an
// embedded nats-server that trusts the operator and has the store's accounts preloaded. The
// operator's service URL points at the server.
type env struct {
	*clitest.Env
	ns     *natstest.Server
	store  *store.Store
	accPub string
	// trust and preload start more servers like ns.
	trust   natstest.Trust
	preload map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "operator", "--rm-service-url", "nats://localhost:4222") // init's: the test names its own server
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	trust, preload := natstest.FromStore(t, s)
	ac, _, err := s.Account("O")
	if err != nil {
		t.Fatal(err)
	}
	accPub := ac.Subject
	ns := natstest.StartMemory(t, trust, preload)
	e.MustRun("edit", "operator", "-n", ns.ClientURL())
	return &env{Env: e, ns: ns, store: s, accPub: accPub, trust: trust, preload: preload}
}

// start runs signet in a goroutine with a cancellable context; the result arrives on the
// returned channel.
func (e *env) start(ctx context.Context, args ...string) <-chan clitest.Result {
	done := make(chan clitest.Result, 1)
	go func() { done <- e.RunContext(ctx, args...) }()
	return done
}

// waitSub waits until the server has a client subscription in account O that a message on
// subject would reach.
func (e *env) waitSub(t *testing.T, subject string, done <-chan clitest.Result) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		sz, err := e.ns.Subsz(&server.SubszOptions{Subscriptions: true, Account: e.accPub, Test: subject})
		if err != nil {
			t.Fatal(err)
		}
		if sz.Total > 0 {
			return
		}
		select {
		case r := <-done:
			t.Fatalf("command ended before subscribing: %v\nstdout:\n%s\nstderr:\n%s", r.Error, r.Out, r.Err)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no subscription for %q after 10s", subject)
		}
	}
}

func wait(t *testing.T, done <-chan clitest.Result) clitest.Result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("command did not end within 10s")
	}
	return clitest.Result{}
}

func TestPubSubRoundTripThroughServiceURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := e.start(ctx, "tool", "sub", "hello.>", "--max", "2")
	e.waitSub(t, "hello.world", done)

	out := e.MustRunStatus("tool", "pub", "hello.world", "hi there")
	if !strings.Contains(out, `Published [hello.world] : "hi there"`) {
		t.Errorf("pub output: %q", out)
	}
	e.MustRun("tool", "pub", "hello.again", "second")

	r := wait(t, done)
	if r.Error != nil {
		t.Fatalf("sub: %v\n%s", r.Error, r.Err)
	}
	for _, want := range []string{"Listening on [hello.>] for 2 messages\n", `connected as user "O" of account "O"`} {
		if !strings.Contains(r.Err, want) {
			t.Errorf("sub status lacks %q:\n%s", want, r.Err)
		}
	}
	for _, want := range []string{
		"[#1] received on [hello.world]: 'hi there'",
		"[#2] received on [hello.again]: 'second'",
	} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("sub output lacks %q:\n%s", want, r.Out)
		}
	}
}

func TestSubStopsWhenContextIsCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := e.start(ctx, "tool", "sub", "quiet")
	e.waitSub(t, "quiet", done)
	cancel()
	r := wait(t, done)
	if r.Error != nil {
		t.Fatalf("an interrupted sub is a normal end, got %v", r.Error)
	}
	if strings.Contains(r.Out, "received") {
		t.Errorf("nothing was published, got:\n%s", r.Out)
	}
}

func TestReqReplyRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := e.start(ctx, "tool", "reply", "help", "I can help", "--max", "1")
	e.waitSub(t, "help", done)

	out := e.MustRun("tool", "req", "help", "me please", "-a", "O", "-u", "O")
	if !strings.Contains(out, "'I can help'") {
		t.Errorf("req output: %q", out)
	}
	r := wait(t, done)
	if r.Error != nil {
		t.Fatalf("reply: %v\n%s", r.Error, r.Err)
	}
	if !strings.Contains(r.Err, "[#1] received on [help]: 'me please'") {
		t.Errorf("reply output:\n%s", r.Out)
	}
}

func TestRTTPrintsADuration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.MustRun("tool", "rtt")
	m := regexp.MustCompile(`round trip time to \[(\S+)\] = (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rtt output: %q", out)
	}
	if m[1] != e.ns.ClientURL() {
		t.Errorf("rtt went to %s, want %s", m[1], e.ns.ClientURL())
	}
	if d, err := time.ParseDuration(m[2]); err != nil || d <= 0 {
		t.Errorf("rtt %q is not a positive duration: %v", m[2], err)
	}
}

func TestNatsFlagOverridesServiceURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A second operator-mode server trusting the same operator: --nats must reach it, not the
	// service URL.
	other := natstest.StartMemory(t, e.trust, e.preload)
	out := e.MustRun("tool", "rtt", "--nats", other.ClientURL())
	if !strings.Contains(out, other.ClientURL()) {
		t.Errorf("rtt with --nats %s: %q", other.ClientURL(), out)
	}
}

func TestToolErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// An account the server does not know: the server's refusal is reported.
	unknown := newEnv(t)
	unknown.MustRun("add", "account", "B")
	unknown.MustRun("add", "user", "-a", "B", "ub")

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "nats://" + closed.Addr().String()
	closed.Close()

	fresh := clitest.New(t, cli.NewRootCmd)
	fresh.MustRun("init", "-n", "F")
	fresh.MustRun("edit", "operator", "--rm-service-url", "nats://localhost:4222") // init's: the test names its own server

	for _, tc := range []struct {
		name string
		env  *clitest.Env
		args []string
		want []string
	}{
		{"no service URL", fresh, []string{"tool", "pub", "a", "b"}, []string{"no service URL", "signet edit operator -n nats://", "--nats"}},
		{"unknown account on server", unknown.Env, []string{"tool", "pub", "-a", "B", "a", "b"}, []string{"authorization violation", `account "B"`}},
		{"connection refused", e.Env, []string{"tool", "rtt", "--nats", deadURL}, []string{"connect to " + deadURL, "refused"}},
		{"unknown user", e.Env, []string{"tool", "pub", "-u", "nobody", "a", "b"}, []string{`"nobody"`, "not found"}},
		{"unknown account", e.Env, []string{"tool", "pub", "-a", "nope", "a", "b"}, []string{`"nope"`, "not found"}},
		{"wildcard publish", e.Env, []string{"tool", "pub", "a.*", "b"}, []string{"wildcards are not allowed"}},
		{"empty token", e.Env, []string{"tool", "sub", "a..b"}, []string{"empty token"}},
		{"negative max", e.Env, []string{"tool", "sub", "a", "--max", "-1"}, []string{"--max"}},
		{"no responders", e.Env, []string{"tool", "req", "nobody.home", "x"}, []string{"nobody is listening", "signet tool reply nobody.home"}},
		{"missing subject", e.Env, []string{"tool", "pub"}, []string{"arg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.env.MustFail(tc.args...)
			t.Log(msg)
			for _, w := range tc.want {
				if !strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestDefaultUserIsTheFirstWithAKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uc, _, err := e.store.User("O", "O")
	if err != nil {
		t.Fatal(err)
	}
	// Without its seed and creds file, user O cannot connect, and the error says what to do.
	ks := e.KeysDir()
	for _, p := range []string{
		filepath.Join(ks, "keys", uc.Subject[0:1], uc.Subject[1:3], uc.Subject+".nk"),
		filepath.Join(ks, "creds", "O", "O", "O.creds"),
	} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if msg := e.MustFail("tool", "rtt"); !strings.Contains(msg, "signet add user") {
		t.Errorf("error: %q", msg)
	}
	if msg := e.MustFail("tool", "rtt", "-u", "O"); !strings.Contains(msg, "neither a seed") {
		t.Errorf("error: %q", msg)
	}
	// A second user with a key becomes the default.
	e.MustRun("add", "user", "-a", "O", "P")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := e.start(ctx, "tool", "sub", "x", "--max", "1")
	e.waitSub(t, "x", done)
	e.MustRun("tool", "pub", "x", "y")
	r := wait(t, done)
	if r.Error != nil || !strings.Contains(r.Err, `as user "P"`) || !strings.Contains(r.Out, "'y'") {
		t.Errorf("sub as default user: %v\nstdout:\n%s\nstderr:\n%s", r.Error, r.Out, r.Err)
	}
}

func TestGenerateContextConnects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// With only the seed in the keystore, the creds file is written first.
	if err := os.Remove(filepath.Join(e.KeysDir(), "creds", "O", "O", "O.creds")); err != nil {
		t.Fatal(err)
	}
	out := e.MustRunStatus("generate", "context", "--name", "dev", "-a", "O", "-u", "O")
	if !strings.Contains(out, "wrote creds file") {
		t.Errorf("no creds file written: %q", out)
	}
	p := filepath.Join(e.Vars["XDG_CONFIG_HOME"], "nats", "context", "dev.json")
	if !strings.Contains(out, p) {
		t.Errorf("output does not name %s: %q", p, out)
	}
	nctx := readContext(t, p)
	if nctx.URL != e.ns.ClientURL() {
		t.Errorf("url %q, want %q", nctx.URL, e.ns.ClientURL())
	}
	if !strings.Contains(nctx.Description, "O") {
		t.Errorf("description %q", nctx.Description)
	}
	// The context is usable as the nats CLI would use it.
	nc, err := nats.Connect(nctx.URL, nats.UserCredentials(nctx.Creds))
	if err != nil {
		t.Fatalf("connect with the context: %v", err)
	}
	defer nc.Close()
	if _, err := nc.RTT(); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	e.MustRun("generate", "context", "--context", "other.json", "--context-dir", dir, "--nats", "nats://elsewhere:4222")
	if got := readContext(t, filepath.Join(dir, "other.json")); got.URL != "nats://elsewhere:4222" || got.Creds == "" {
		t.Errorf("context with --nats: %+v", got)
	}
	if st, err := os.Stat(filepath.Join(dir, "other.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("context file mode: %v %v", st.Mode(), err)
	}

	for _, bad := range [][]string{
		{"generate", "context"},
		{"generate", "context", "--name", "../escape"},
		{"generate", "context", "--name", "x", "-u", "nobody"},
	} {
		e.MustFail(bad...)
	}
}

func readContext(t *testing.T, p string) tool.NatsContext {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c tool.NatsContext
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("context %s: %v\n%s", p, err, data)
	}
	for _, k := range []string{`"description"`, `"url"`, `"creds"`} {
		if !strings.Contains(string(data), k) {
			t.Errorf("context lacks %s:\n%s", k, data)
		}
	}
	return c
}

func TestPermissionViolationsAreErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "-a", "O", "R", "--deny-pub", "secret.>", "--deny-sub", "secret.>")
	for _, args := range [][]string{
		{"tool", "pub", "-u", "R", "secret.x", "y"},
		{"tool", "sub", "-u", "R", "secret.>", "--max", "1"},
	} {
		msg := e.MustFail(args...)
		if !strings.Contains(strings.ToLower(msg), "permissions violation") {
			t.Errorf("signet %s: %q", strings.Join(args, " "), msg)
		}
	}
}

func TestInterruptWhileConnecting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A server that accepts and never says hello: only the interrupt can end the wait.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := e.start(ctx, "tool", "rtt", "--nats", "nats://"+mute.Addr().String(), "--connect-timeout", "1m")
	conn, err := mute.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cancel()
	r := wait(t, done)
	if r.Error == nil || !strings.Contains(r.Error.Error(), "context canceled") {
		t.Fatalf("interrupted connect: %v", r.Error)
	}
}
