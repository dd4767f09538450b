package kv_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/kv"
	"github.com/signet-dev/signet/internal/cli/serve"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// kvEnv is a signet environment after `init -n O` with an account A (conns 1, user u), and a
// JetStream server for the bucket.
type kvEnv struct {
	*clitest.Env
	st    *store.Store
	jsURL string
}

func newKVEnv(t *testing.T) *kvEnv {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "account", "A", "--conns", "1")
	e.MustRun("add", "user", "u", "-a", "A")
	st, err := store.OpenDir(filepath.Join(e.StoresDir(), "O"))
	if err != nil {
		t.Fatal(err)
	}
	return &kvEnv{Env: e, st: st, jsURL: natstest.StartJetStream(t).ClientURL()}
}

// kv runs `signet kv SUB --servers <the bucket's> ARGS...`.
func (e *kvEnv) kv(sub string, args ...string) []string {
	return append([]string{"kv", sub, "--servers", e.jsURL}, args...)
}

// account is the store's current JWT of account name.
func (e *kvEnv) account(name string) (*jwt.AccountClaims, string) {
	e.T.Helper()
	ac, tok, err := e.st.Account(name)
	if err != nil {
		e.T.Fatal(err)
	}
	return ac, tok
}

// jwtDir writes the given JWTs as a directory store (flat or sharded) and returns it.
func jwtDir(t *testing.T, shard bool, tokens ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tok := range tokens {
		ac, err := jwt.DecodeAccountClaims(tok)
		if err != nil {
			t.Fatal(err)
		}
		d := dir
		if shard {
			d = filepath.Join(dir, ac.Subject[len(ac.Subject)-2:])
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, ac.Subject+".jwt"), []byte(tok), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (e *kvEnv) history(args ...string) kv.History {
	e.T.Helper()
	var h kv.History
	out := e.MustRun(e.kv("history", append(args, "--json")...)...)
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		e.T.Fatalf("history --json: %v\n%s", err, out)
	}
	return h
}

// TestKVImportExportAndHistoryFromTheCommandLine: a flat directory (with an account of another
// operator) and then a sharded one are imported, the bucket lists both revisions of A by name
// and by key, from flags and from a serve configuration file, and an export writes the
// bucket's JWTs in nats-account-server's layout, refusing to write into it twice.
func TestKVImportExportAndHistoryFromTheCommandLine(t *testing.T) {
	t.Parallel()
	e := newKVEnv(t)
	a1, v1 := e.account("A")
	_, sysTok := e.account("SYS")
	_, _, foreign := natstest.NewOperator(t, "X").Account(t, "F")

	status := e.MustRunStatus(e.kv("import", jwtDir(t, false, v1, sysTok, foreign))...)
	if !strings.Contains(status, "[WARN] refused") || !strings.Contains(status, "[ OK ] imported 2 accounts") || !strings.Contains(status, "1 refused") {
		t.Errorf("import status:\n%s", status)
	}
	e.MustRun("edit", "account", "A", "--conns", "3")
	_, v2 := e.account("A")
	status = e.MustRunStatus(e.kv("import", jwtDir(t, true, v2))...)
	if !strings.Contains(status, "[ OK ] imported 1 accounts") || !strings.Contains(status, "sharded layout") {
		t.Errorf("second import status:\n%s", status)
	}

	h := e.history("A")
	if h.Account != a1.Subject || len(h.Revisions) != 2 || h.Revisions[0].JWT != v1 || h.Revisions[1].JWT != v2 {
		t.Fatalf("history of A: %+v", h)
	}
	table := e.MustRun(e.kv("history", a1.Subject)...)
	for _, tok := range []string{v1, v2} {
		sum := sha256.Sum256([]byte(tok))
		if !strings.Contains(table, hex.EncodeToString(sum[:])[:12]) {
			t.Errorf("history table lacks the hash of a revision:\n%s", table)
		}
	}
	if !strings.Contains(table, fmt.Sprintf("%d (current)", h.Revisions[1].Revision)) {
		t.Errorf("history table does not mark the current revision:\n%s", table)
	}

	conf := filepath.Join(t.TempDir(), "serve.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("store { kv { servers: [%q] } }\n", e.jsURL)), 0o644); err != nil {
		t.Fatal(err)
	}
	var fromFile kv.History
	if err := json.Unmarshal([]byte(e.MustRun("kv", "history", "-c", conf, "A", "--json")), &fromFile); err != nil || len(fromFile.Revisions) != 2 {
		t.Errorf("history from the configuration file: %+v, %v", fromFile, err)
	}

	out := filepath.Join(t.TempDir(), "out")
	e.MustRunStatus(e.kv("export", out)...)
	sysClaims, _ := e.account("SYS")
	for pub, tok := range map[string]string{a1.Subject: v2, sysClaims.Subject: sysTok} {
		if data, err := os.ReadFile(filepath.Join(out, pub+".jwt")); err != nil || string(data) != tok {
			t.Errorf("exported %s: %v, not the bucket's jwt", pub, err)
		}
	}
	if msg := e.MustFail(e.kv("export", out)...); !strings.Contains(msg, "--force") {
		t.Errorf("export into a non-empty directory: %s", msg)
	}
}

// TestRefusedKVCommandsChangeNothing: a rollback without the operator's key, to a revision the
// bucket does not keep, or without --revision, and a command without a bucket, are refused
// with a hint, and the bucket keeps its revisions.
func TestRefusedKVCommandsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newKVEnv(t)
	_, v1 := e.account("A")
	e.MustRunStatus(e.kv("import", jwtDir(t, false, v1))...)
	e.MustRun("edit", "account", "A", "--conns", "3")
	_, v2 := e.account("A")
	e.MustRunStatus(e.kv("import", jwtDir(t, false, v2))...)
	before := e.history("A")
	first := fmt.Sprint(before.Revisions[0].Revision)

	for _, c := range []struct {
		args []string
		want string
	}{
		{append([]string{"--keystore-dir", t.TempDir()}, e.kv("rollback", "A", "--revision", first)...), "pass one with -K"},
		{e.kv("rollback", "A", "--revision", "999"), "keeps no revision 999"},
		{e.kv("rollback", "A"), "--revision is required"},
		{e.kv("history", "NOSUCH"), "NOSUCH"},
		{[]string{"kv", "history", "A"}, "names no kv store"},
	} {
		if msg := e.MustFail(c.args...); !strings.Contains(msg, c.want) {
			t.Errorf("signet %s: %q, want it to say %q", strings.Join(c.args, " "), msg, c.want)
		}
	}
	after := e.history("A")
	if len(after.Revisions) != len(before.Revisions) || after.Revisions[1].JWT != v2 {
		t.Errorf("a refused command changed the bucket: %+v", after.Revisions)
	}
}

// waitUntil polls cond until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replica runs `signet serve` of the environment with a configuration file, and returns the
// running server and a stop function that returns its log; the test's end stops it too.
func (e *kvEnv) replica(conf string, o serve.Options) (*accountserver.Server, func() string) {
	t := e.T
	t.Helper()
	logs := &bytes.Buffer{}
	f := cmdutil.NewFactory(strings.NewReader(""), io.Discard, logs, false)
	f.Getenv = func(k string) string { return e.Vars[k] }
	f.Getwd = func() (string, error) { return e.Wd, nil }
	started := make(chan *accountserver.Server, 1)
	o.ConfigFile, o.Operator, o.Started = conf, "O", func(s *accountserver.Server) { started <- s }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Run(ctx, f, &o) }()
	var once sync.Once
	stop := func() string {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
		})
		return logs.String()
	}
	t.Cleanup(func() { stop() })
	select {
	case s := <-started:
		return s, stop
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not start\n%s", stop())
	}
	return nil, nil
}

func (e *kvEnv) serveConf(extra string) string {
	e.T.Helper()
	conf := filepath.Join(e.T.TempDir(), "serve.conf")
	text := fmt.Sprintf("http { host: \"127.0.0.1\", port: 0 }\nstore { kv { servers: [%q] } }\n%s", e.jsURL, extra)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		e.T.Fatal(err)
	}
	return conf
}

// TestRolledBackLimitIsEnforcedByANatsServerResolvingThroughSignetServe: replica R1 of signet
// serve starts with --import-dir (account A at conns 1, and an account of another operator that
// it refuses) and takes A at conns 3 by a push; an operator-mode nats-server resolves accounts
// from R1 over HTTP, and replica R2 announces the bucket's changes to it. Three users of A
// connect; `signet kv rollback` to the revision with conns 1 reaches the nats-server through
// R2's announcement, and a second connection is then refused.
func TestRolledBackLimitIsEnforcedByANatsServerResolvingThroughSignetServe(t *testing.T) {
	t.Parallel()
	e := newKVEnv(t)
	a, v1 := e.account("A")
	_, fpub, foreign := natstest.NewOperator(t, "X").Account(t, "F")
	r1, stopR1 := e.replica(e.serveConf(""), serve.Options{ImportDir: jwtDir(t, false, v1, foreign)})
	if code, _ := get(r1.ResolverURL() + fpub); code != http.StatusNotFound {
		t.Errorf("the account of another operator is served (%d)", code)
	}
	e.MustRun("edit", "account", "A", "--conns", "3")
	_, v2 := e.account("A")
	resp, err := http.Post(r1.ResolverURL()+a.Subject, "application/jwt", strings.NewReader(v2))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("push of conns 3: %d", resp.StatusCode)
	}
	hist := e.history("A")
	if len(hist.Revisions) != 2 || hist.Revisions[0].JWT != v1 || hist.Revisions[1].JWT != v2 {
		t.Fatalf("history: %+v", hist.Revisions)
	}

	tr, _ := natstest.FromStore(t, e.st)
	ns := natstest.StartURL(t, tr, r1.ResolverURL())
	sysCreds := keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", "SYS", "sys")
	r2, _ := e.replica(e.serveConf(fmt.Sprintf("nats { servers: [%q], usercredentials: %q, reconnectwait: 50 }\n", ns.ClientURL(), sysCreds)), serve.Options{})
	waitUntil(t, 15*time.Second, "replica 2 to connect to the nats-server", r2.NATSConnected)

	creds := keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", "A", "u")
	connect := func() (*nats.Conn, error) {
		return nats.Connect(ns.ClientURL(), nats.UserCredentials(creds), nats.MaxReconnects(0), nats.Timeout(5*time.Second))
	}
	var conns []*nats.Conn
	for i := 0; i < 3; i++ {
		nc, err := connect()
		if err != nil {
			t.Fatalf("connection %d under conns 3: %v", i+1, err)
		}
		conns = append(conns, nc)
	}
	conns[1].Close()
	conns[2].Close()
	defer conns[0].Close()

	status := e.MustRunStatus(e.kv("rollback", "A", "--revision", fmt.Sprint(hist.Revisions[0].Revision))...)
	if !strings.Contains(status, "[ OK ]") {
		t.Errorf("rollback status:\n%s", status)
	}
	var served *jwt.AccountClaims
	waitUntil(t, 10*time.Second, "replica 1 to serve the rolled-back account", func() bool {
		_, body := get(r1.ResolverURL() + a.Subject)
		served, err = jwt.DecodeAccountClaims(body)
		return err == nil && served.Limits.Conn == 1
	})
	if served.IssuedAt <= hist.Revisions[1].IssuedAt {
		t.Errorf("the rolled-back jwt was issued at %d, not after the replaced one (%d)", served.IssuedAt, hist.Revisions[1].IssuedAt)
	}
	var refusal error
	waitUntil(t, 15*time.Second, "the nats-server to refuse a second connection", func() bool {
		nc, err := connect()
		if err == nil {
			nc.Close()
			return false
		}
		refusal = err
		return true
	})
	if !strings.Contains(strings.ToLower(refusal.Error()), "maximum account active connections") {
		t.Errorf("second connection refused, but not for the conns limit: %v", refusal)
	}
	if !conns[0].IsConnected() {
		t.Error("the first connection was dropped")
	}
	if log := stopR1(); !strings.Contains(log, "refused an account jwt") || !strings.Contains(log, fpub) {
		t.Errorf("replica 1 does not report the refused account:\n%s", log)
	}
}

func get(url string) (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
