package entity_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

func openStore(t *testing.T, e *clitest.Env, op string) *store.Store {
	t.Helper()
	s, err := store.Stores{Dir: e.StoresDir()}.Open(op)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func accountClaims(t *testing.T, s *store.Store, name string) *jwt.AccountClaims {
	t.Helper()
	ac, _, err := s.Account(name)
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

func TestTraceContextFlagsAreCarriedByTheAccountJWT(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A", "--trace-context-subject", "trace.a", "--trace-context-sampling", "25")
	s := openStore(t, e, "O")
	if tr := accountClaims(t, s, "A").Trace; tr == nil || tr.Destination != "trace.a" || tr.Sampling != 25 {
		t.Fatalf("add account: trace %+v", tr)
	}
	// Sampling alone keeps the subject; a new subject keeps the sampling.
	e.MustRun("edit", "account", "A", "--trace-context-sampling", "60")
	e.MustRun("edit", "account", "A", "--trace-context-subject", "trace.b")
	if tr := accountClaims(t, s, "A").Trace; tr == nil || tr.Destination != "trace.b" || tr.Sampling != 60 {
		t.Fatalf("edit account: trace %+v", tr)
	}
	// 0 is nsc's "default", which is 100%.
	e.MustRun("edit", "account", "A", "--trace-context-sampling", "0")
	if tr := accountClaims(t, s, "A").Trace; tr == nil || tr.Sampling != 100 {
		t.Fatalf("sampling 0: trace %+v", tr)
	}

	before := clitest.Snapshot(t, e.Home)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"edit", "account", "A", "--trace-context-subject", "trace.*"}, "wildcards"},
		{[]string{"edit", "account", "A", "--trace-context-subject", "trace..x"}, "trace-context-subject"},
		{[]string{"edit", "account", "A", "--trace-context-sampling", "101"}, "1 to 100"},
		{[]string{"edit", "account", "A", "--trace-context-sampling", "-1"}, "1 to 100"},
		{[]string{"edit", "account", "A", "--trace-context-subject", "", "--trace-context-sampling", "5"}, "turns tracing off"},
		{[]string{"add", "account", "B", "--trace-context-sampling", "5"}, "needs a subject"},
	} {
		if msg := e.MustFail(c.args...); !strings.Contains(msg, c.want) {
			t.Errorf("signet %s: %q does not say %q", strings.Join(c.args, " "), msg, c.want)
		}
		if !maps.Equal(before, clitest.Snapshot(t, e.Home)) {
			t.Fatalf("signet %s failed but changed files", strings.Join(c.args, " "))
		}
	}

	e.MustRun("edit", "account", "A", "--trace-context-subject", "")
	if tr := accountClaims(t, s, "A").Trace; tr != nil {
		t.Fatalf("--trace-context-subject \"\": trace still %+v", tr)
	}
}

func TestAllowTraceFlagsAreCarriedByExportsAndImports(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A")
	e.MustRun("add", "account", "B")
	e.MustRun("add", "export", "-a", "A", "-s", "help", "--service", "--allow-trace")
	e.MustRun("add", "export", "-a", "A", "-s", "news")
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "news", "--allow-trace")
	s := openStore(t, e, "O")
	a := accountClaims(t, s, "A")
	for _, x := range a.Exports {
		if want := x.Subject == "help"; x.AllowTrace != want {
			t.Errorf("export %s: allow_trace %t", x.Subject, x.AllowTrace)
		}
	}
	if b := accountClaims(t, s, "B"); len(b.Imports) != 1 || !b.Imports[0].AllowTrace {
		t.Errorf("stream import: %+v", b.Imports)
	}
	e.MustRun("edit", "export", "-a", "A", "-s", "help", "--allow-trace=false")
	if x := accountClaims(t, s, "A").Exports; x[0].AllowTrace && x[1].AllowTrace {
		t.Errorf("edit export --allow-trace=false left it on")
	}
	// jwt/v2 allows traces through service exports and stream imports only.
	if msg := e.MustFail("add", "export", "-a", "A", "-s", "other", "--allow-trace"); !strings.Contains(msg, "service") {
		t.Errorf("stream export with --allow-trace: %s", msg)
	}
}

// The trace context in the JWT is what nats-server uses: a message with a sampled traceparent
// header makes the server publish a trace to the account's trace subject.
func TestTraceContextSubjectReceivesTracesFromTheServer(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A", "--trace-context-subject", "trace.a")
	e.MustRun("add", "user", "-a", "A", "u")
	s := openStore(t, e, "O")
	tr, accounts := natstest.FromStore(t, s)
	srv := natstest.StartMemory(t, tr, accounts)
	nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", "A", "u")))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	traces, err := nc.SubscribeSync("trace.a")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg("orders.new")
	m.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	got, err := traces.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no trace on the account's trace subject: %v", err)
	}
	if !strings.Contains(string(got.Data), "orders.new") {
		t.Errorf("trace does not name the traced subject: %s", got.Data)
	}
}
