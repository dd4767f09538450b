package generate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/devstack"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// newKVEnv is a store with operator O (system account SYS, user sys), a JetStream-enabled
// account KV and its user signet, all made with signet commands.
func newKVEnv(t *testing.T) *clitest.Env {
	t.Helper()
	e := newEnv(t)
	e.MustRun("add", "account", "KV")
	e.MustRun("edit", "account", "KV", "--js-enable", "0")
	e.MustRun("add", "user", "signet", "-a", "KV")
	return e
}

func waitFor(t *testing.T, what string, wait time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The generated pair runs for real: the nats-server configuration as a JetStream node with the
// full resolver, the signet serve configuration with its accounts in a bucket of that node's KV
// account. An account pushed to signet serve reaches the node by announcement, and a user of it
// connects. The resolver and JetStream folders are relative (./jwt, ./jetstream), so the test
// changes directory and cannot run in parallel.
func TestGenerateConfigKVAccountConfigurationsRunEndToEnd(t *testing.T) {
	e := newKVEnv(t)
	dir := t.TempDir()
	t.Chdir(dir)
	port, err := devstack.FreePort("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	natsConf, serveConf := filepath.Join(dir, "nats-server.conf"), filepath.Join(dir, "signet-serve.conf")
	e.MustRun("generate", "config", "--kv-account", "KV", "--kv-replicas", "1", "--nats-url", natsURL,
		"--config-file", natsConf, "--serve-config-file", serveConf)

	opts, err := server.ProcessConfigFile(natsConf)
	if err != nil {
		t.Fatalf("nats-server rejects the generated configuration: %v", err)
	}
	if _, ok := opts.AccountResolver.(*server.DirAccResolver); !ok {
		t.Fatalf("resolver %T, want the full NATS resolver", opts.AccountResolver)
	}
	if !opts.JetStream {
		t.Fatal("the generated configuration does not enable JetStream")
	}
	opts.Host, opts.Port, opts.NoSigs, opts.NoLog = "127.0.0.1", port, true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}

	cfg, err := accountserver.LoadConfig(serveConf)
	if err != nil {
		t.Fatalf("signet serve rejects the generated configuration: %v", err)
	}
	if cfg.Store.KV == nil || cfg.Store.KV.Replicas != 1 || !reflect.DeepEqual(cfg.NATS.Servers, []string{natsURL}) {
		t.Fatalf("serve configuration: kv %+v, nats servers %v", cfg.Store.KV, cfg.NATS.Servers)
	}
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if cfg.NATS.UserCredentials != ks.CredsPath("O", "SYS", "sys") || cfg.Store.KV.UserCredentials != ks.CredsPath("O", "KV", "signet") {
		t.Fatalf("creds paths %q and %q, want the keystore's files", cfg.NATS.UserCredentials, cfg.Store.KV.UserCredentials)
	}
	cfg.HTTP.Port = -1 // the file says 9090; a test takes any free port
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	startReplica := func() *accountserver.Server {
		as, err := accountserver.New(cfg, logger)
		if err != nil {
			t.Fatalf("signet serve with the generated configuration: %v", err)
		}
		if err := as.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = as.Shutdown(context.Background()) })
		waitFor(t, "signet serve's NATS connection", 10*time.Second, as.NATSConnected)
		return as
	}
	r1 := startReplica()

	e.MustRun("add", "account", "NEW")
	e.MustRun("add", "user", "alice", "-a", "NEW")
	s, err := store.OpenDir(filepath.Join(e.StoresDir(), "O"))
	if err != nil {
		t.Fatal(err)
	}
	ac, tok, err := s.Account("NEW")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+r1.HTTPAddr()+"/jwt/v1/accounts/"+ac.Subject, "application/jwt", strings.NewReader(tok))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("push of NEW: HTTP %d", resp.StatusCode)
	}
	// The full resolver stores what signet serve announced in ./jwt.
	waitFor(t, "the node to store the announced account", 10*time.Second, func() bool {
		data, err := os.ReadFile(filepath.Join(dir, "jwt", ac.Subject+".jwt"))
		return err == nil && string(data) == tok
	})
	nc, err := nats.Connect(natsURL, nats.UserCredentials(ks.CredsPath("O", "NEW", "alice")))
	if err != nil {
		t.Fatalf("a user of the pushed account cannot connect: %v", err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("hello", []byte("world")); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "world" {
		t.Fatalf("round trip in NEW: %v", err)
	}

	// The account lives in the bucket of KV, so a second replica serves it at once.
	kc, err := nats.Connect(natsURL, nats.UserCredentials(cfg.Store.KV.UserCredentials))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	js, _ := jetstream.New(kc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, cfg.Store.KV.Bucket)
	if err != nil {
		t.Fatalf("bucket %q in account KV: %v", cfg.Store.KV.Bucket, err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for k := range keys.Keys() {
		found = found || strings.Contains(k, ac.Subject)
	}
	if !found {
		t.Errorf("the bucket has no key for account NEW %s", ac.Subject)
	}
	r2 := startReplica()
	resp, err = http.Get("http://" + r2.HTTPAddr() + "/jwt/v1/accounts/" + ac.Subject)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != tok {
		t.Errorf("second replica: HTTP %d, serves the pushed JWT: %v", resp.StatusCode, strings.TrimSpace(string(body)) == tok)
	}
}

func TestGenerateConfigKVAccountRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	e := newKVEnv(t)
	e.MustRun("add", "account", "NOJS")
	e.MustRun("add", "user", "u", "-a", "NOJS")
	e.MustRun("add", "account", "TIER1")
	e.MustRun("edit", "account", "TIER1", "--js-enable", "1")
	e.MustRun("add", "user", "u", "-a", "TIER1")
	e.MustRun("add", "account", "EMPTY")
	e.MustRun("edit", "account", "EMPTY", "--js-enable", "0")
	e.MustRun("add", "account", "TWO")
	e.MustRun("edit", "account", "TWO", "--js-enable", "0")
	e.MustRun("add", "user", "a", "-a", "TWO")
	e.MustRun("add", "user", "b", "-a", "TWO")
	out := t.TempDir()
	files := []string{"--config-file", filepath.Join(out, "nats.conf"), "--serve-config-file", filepath.Join(out, "serve.conf")}
	before := clitest.Snapshot(t, out, e.StoresDir(), e.KeysDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kv-account", "NOJS"}, "`signet edit account NOJS --js-enable 0`"},
		{[]string{"--kv-account", "TIER1"}, "`signet edit account TIER1 --js-enable 3`"},
		{[]string{"--kv-account", "SYS"}, "system account, where JetStream cannot run"},
		{[]string{"--kv-account", "NOPE"}, "--kv-account"},
		{[]string{"--kv-account", "EMPTY"}, "`signet add user signet -a EMPTY`"},
		{[]string{"--kv-account", "TWO"}, "(a, b): choose the one signet serve connects as with --kv-user NAME"},
		{[]string{"--kv-account", "KV", "--kv-user", "nobody"}, "--kv-user"},
		{[]string{"--kv-account", "KV", "--mem-resolver"}, "needs the full NATS resolver"},
		{[]string{"--kv-account", "KV", "--nats-resolver-cache"}, "needs the full NATS resolver"},
		{[]string{"--nats-resolver", "--kv-bucket", "b"}, "--kv-bucket belongs to the high-availability configuration: add --kv-account NAME"},
		{[]string{"--nats-resolver", "--serve-config-file", "s.conf"}, "--serve-config-file belongs"},
		{[]string{"--kv-account", "KV", "--config-file", filepath.Join(out, "nats.conf")}, "pass both --config-file (nats-server) and --serve-config-file"},
		{[]string{"--kv-account", "KV", "--config-file", filepath.Join(out, "x.conf"), "--serve-config-file", filepath.Join(out, "x.conf")}, "need two files"},
		{[]string{"--kv-account", "KV", "--kv-replicas", "7"}, "--kv-replicas 7: JetStream allows 1 to 5"},
		{[]string{"--kv-account", "KV", "--kv-bucket", "a.b"}, `--kv-bucket "a.b"`},
		{[]string{"--kv-account", "KV", "--nats-url", "localhost"}, `--nats-url "localhost"`},
	} {
		args := append([]string{"generate", "config"}, tc.args...)
		if !strings.Contains(strings.Join(tc.args, " "), "-config-file") {
			args = append(args, files...)
		}
		r := e.Run(args...)
		if r.Error == nil || !strings.Contains(r.Error.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to say %q", tc.args, r.Error, tc.want)
		}
		if r.Out != "" {
			t.Errorf("%v: printed %q", tc.args, r.Out)
		}
	}
	if after := clitest.Snapshot(t, out, e.StoresDir(), e.KeysDir()); !reflect.DeepEqual(before, after) {
		t.Error("a refused generate config changed files")
	}

	// Existing files are kept without --force, both of them.
	e.MustRun(append([]string{"generate", "config", "--kv-account", "KV"}, files...)...)
	written := clitest.Snapshot(t, out)
	if msg := e.MustFail(append([]string{"generate", "config", "--kv-account", "KV", "--kv-bucket", "other"}, files...)...); !strings.Contains(msg, "--force") {
		t.Errorf("overwrite without --force: %q", msg)
	}
	if !reflect.DeepEqual(written, clitest.Snapshot(t, out)) {
		t.Error("a refused overwrite changed the configurations")
	}
	e.MustRun(append([]string{"generate", "config", "--kv-account", "KV", "--kv-bucket", "other", "--force"}, files...)...)
	if data, _ := os.ReadFile(filepath.Join(out, "serve.conf")); !strings.Contains(string(data), `bucket: "other"`) {
		t.Error("--force did not rewrite the signet serve configuration")
	}
}

// On stdout both configurations follow each other under separators; creds are referenced by
// path and a missing creds file is named with the command that writes it; no seed is printed.
func TestGenerateConfigKVAccountPrintsBothAndNamesMissingCreds(t *testing.T) {
	t.Parallel()
	e := newKVEnv(t)
	creds := filepath.Join(t.TempDir(), "kv user.creds")
	r := e.Run("generate", "config", "--kv-account", "KV", "--kv-creds", creds, "--nats-url", "nats://n1:4222", "--nats-url", "nats://n2:4222")
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	nats, serve, ok := strings.Cut(r.Out, "# ==== signet serve configuration")
	if !ok || !strings.HasPrefix(nats, "# ==== nats-server configuration") {
		t.Fatalf("no separators:\n%s", r.Out)
	}
	st, err := store.OpenDir(filepath.Join(e.StoresDir(), "O"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range [][2]string{{"KV", "signet"}, {"SYS", "sys"}} {
		uc, _, err := st.User(u[0], u[1])
		if err != nil {
			t.Fatal(err)
		}
		kp, err := (keystore.KeyStore{Dir: e.KeysDir()}).Get(uc.Subject)
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := kp.Seed()
		if strings.Contains(r.Out+r.Err, string(seed)) {
			t.Fatalf("the seed of user %s/%s was printed", u[0], u[1])
		}
	}
	for _, want := range []string{"type: full", "store_dir: './jetstream'", "# cluster {", "resolver_preload"} {
		if !strings.Contains(nats, want) {
			t.Errorf("nats-server part lacks %q", want)
		}
	}
	if n := strings.Count(nats, "eyJ0eXAi"); n != 3 {
		t.Errorf("nats-server part has %d JWTs, want operator, SYS and KV", n)
	}
	cfg, err := accountserver.ParseConfig([]byte(serve[strings.Index(serve, "\n")+1:]))
	if err != nil {
		t.Fatalf("signet serve part: %v", err)
	}
	if cfg.Store.KV.UserCredentials != creds || cfg.Store.KV.Replicas != 3 || len(cfg.NATS.Servers) != 2 {
		t.Errorf("serve: kv %+v, servers %v", cfg.Store.KV, cfg.NATS.Servers)
	}
	want := fmt.Sprintf("`signet generate creds -a KV -n signet -o '%s'`", creds)
	if !strings.Contains(r.Err, "[WARN] creds file") || !strings.Contains(r.Err, want) {
		t.Fatalf("missing creds not named with %s:\n%s", want, r.Err)
	}
	if strings.Contains(r.Err, "sys.creds") {
		t.Errorf("the system user's creds exist, yet a warning names them:\n%s", r.Err)
	}
	// The command named writes the file the configuration references.
	e.MustRun("generate", "creds", "-a", "KV", "-n", "signet", "-o", creds)
	if r := e.Run("generate", "config", "--kv-account", "KV", "--kv-creds", creds); r.Error != nil || strings.Contains(r.Err, "[WARN]") {
		t.Errorf("after generate creds: %v\n%s", r.Error, r.Err)
	}
}
