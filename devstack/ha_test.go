package devstack

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// haFixture is an operator with a JetStream-enabled account KV and creds for the stack.
type haFixture struct {
	op                 *natstest.Operator
	kvJWT              string
	sysCreds, kvCreds  string
	natsPorts, httpPts []int
}

func newHAFixture(t *testing.T) haFixture {
	t.Helper()
	op := natstest.NewOperator(t, "dev")
	kvKP, _, kvJWT := op.Account(t, "KV", func(ac *jwt.AccountClaims) {
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	})
	fx := haFixture{op: op, kvJWT: kvJWT, sysCreds: op.SysCredsFile(t), kvCreds: writeCreds(t, op, kvKP, "signet")}
	seen := map[int]bool{}
	for len(fx.natsPorts)+len(fx.httpPts) < 2*HASize {
		p := freePort(t)
		if seen[p] {
			continue
		}
		seen[p] = true
		if len(fx.natsPorts) < HASize {
			fx.natsPorts = append(fx.natsPorts, p)
		} else {
			fx.httpPts = append(fx.httpPts, p)
		}
	}
	return fx
}

func writeCreds(t *testing.T, op *natstest.Operator, accountKP nkeys.KeyPair, user string) string {
	t.Helper()
	tok, seed := op.User(t, accountKP, user)
	data, err := jwt.FormatUserConfig(tok, seed)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), user+".creds")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (fx haFixture) start(t *testing.T, logs io.Writer) *HAStack {
	t.Helper()
	h, err := StartHA(HAConfig{
		OperatorJWT:      fx.op.JWT,
		SystemAccountJWT: fx.op.SysJWT,
		KVAccountJWT:     fx.kvJWT,
		SystemUserCreds:  fx.sysCreds,
		KVUserCreds:      fx.kvCreds,
		Dir:              t.TempDir(),
		NATSPorts:        fx.natsPorts,
		HTTPPorts:        fx.httpPts,
		Logger:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	return h
}

func push(t *testing.T, baseURL, pub, tok string) {
	t.Helper()
	resp, err := http.Post(baseURL+"/accounts/"+pub, "application/jwt", strings.NewReader(tok))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("push to %s: HTTP %d", baseURL, resp.StatusCode)
	}
}

// waitServes polls until the replica at baseURL serves tok for pub.
func waitServes(t *testing.T, baseURL, pub, tok string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(baseURL + "/accounts/" + pub)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == tok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not serve account %s (last: %v)", baseURL, pub, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitConnect polls until a user connects to url and its messages go round; the node learns
// the account from a replica's announcement, which takes a moment.
func waitConnect(t *testing.T, url, creds string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(url, nats.UserCredentials(creds), nats.MaxReconnects(0))
		if err == nil {
			sub, serr := nc.SubscribeSync("ping")
			if serr == nil {
				serr = nc.Publish("ping", []byte("x"))
			}
			if serr == nil {
				_, serr = sub.NextMsg(2 * time.Second)
			}
			nc.Close()
			if serr == nil {
				return
			}
			err = serr
		}
		if time.Now().After(deadline) {
			t.Fatalf("user %s cannot use %s: %v", filepath.Base(creds), url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestHAStackSharesAccountsAndSurvivesTheLossOfANodeAndAReplica(t *testing.T) {
	fx := newHAFixture(t)
	logs := &natstest.SyncBuffer{}
	h := fx.start(t, logs)
	nodes, replicas := h.ClientURLs(), h.AccountServerURLs()
	for i := range HASize {
		if !h.NodeRunning(i) || !h.ReplicaRunning(i) {
			t.Fatalf("node or replica %d not running after StartHA", i+1)
		}
	}

	appKP, appPub, appJWT := fx.op.Account(t, "APP")
	appCreds := writeCreds(t, fx.op, appKP, "alice")
	push(t, replicas[0], appPub, appJWT)
	waitServes(t, replicas[1], appPub, appJWT)
	waitServes(t, replicas[2], appPub, appJWT)
	waitConnect(t, nodes[0], appCreds)
	waitConnect(t, nodes[2], appCreds)

	// Lose node 1 and replica 1: the rest keeps serving pushes and connects.
	if err := h.StopNode(0); err != nil {
		t.Fatal(err)
	}
	if err := h.StopReplica(0); err != nil {
		t.Fatal(err)
	}
	if h.NodeRunning(0) || h.ReplicaRunning(0) {
		t.Fatal("node 1 or replica 1 still reported running after being stopped")
	}
	if _, err := http.Get(replicas[0] + "/accounts/" + appPub); err == nil {
		t.Fatal("replica 1 still answers after StopReplica")
	}
	if nc, err := nats.Connect(nodes[0], nats.UserCredentials(appCreds), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("node 1 still accepts clients after StopNode")
	}
	waitConnect(t, nodes[1], appCreds)
	newKP, newPub, newJWT := fx.op.Account(t, "NEW")
	newCreds := writeCreds(t, fx.op, newKP, "bob")
	push(t, replicas[1], newPub, newJWT)
	waitServes(t, replicas[2], newPub, newJWT)
	waitConnect(t, nodes[2], newCreds)
	waitConnect(t, nodes[1], newCreds)

	// Both come back: replica 1 serves what was pushed while it was away, node 1 lets its users in.
	if err := h.StartNode(0); err != nil {
		t.Fatal(err)
	}
	if err := h.StartReplica(0); err != nil {
		t.Fatal(err)
	}
	waitServes(t, replicas[0], newPub, newJWT)
	waitConnect(t, nodes[0], newCreds)
	if err := h.StopNode(0); err != nil {
		t.Fatal(err)
	}
	if err := h.StopNode(0); err == nil || !strings.Contains(err.Error(), "already stopped") {
		t.Fatalf("stopping a stopped node: %v", err)
	}
	if err := h.StartReplica(1); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("starting a running replica: %v", err)
	}
	if err := h.StopReplica(3); err == nil || !strings.Contains(err.Error(), "numbered 1 to 3") {
		t.Fatalf("replica 4: %v", err)
	}
}

func TestStartHARefusesAKVAccountWithoutJetStream(t *testing.T) {
	fx := newHAFixture(t)
	_, _, plain := fx.op.Account(t, "PLAIN")
	_, err := StartHA(HAConfig{OperatorJWT: fx.op.JWT, SystemAccountJWT: fx.op.SysJWT, KVAccountJWT: plain,
		Dir: t.TempDir(), NATSPorts: fx.natsPorts, HTTPPorts: fx.httpPts})
	if err == nil || !strings.Contains(err.Error(), "JetStream") {
		t.Fatalf("StartHA with a KV account without JetStream: %v", err)
	}
	for i := range HASize {
		if err := CheckPorts("127.0.0.1", fx.natsPorts[i], fx.httpPts[i]); err != nil {
			t.Fatalf("a refused StartHA holds a port: %v", err)
		}
	}
}

// What signet dev --ha does at each start: the bucket starts empty (the CLI pushes its store
// again), while the nodes keep the accounts their full resolvers stored, and hand them back to
// the replicas.
func TestHAStackWithResetJetStreamRestartsWithANewBucketAndNodesThatRemember(t *testing.T) {
	fx := newHAFixture(t)
	cfg := HAConfig{
		OperatorJWT: fx.op.JWT, SystemAccountJWT: fx.op.SysJWT, KVAccountJWT: fx.kvJWT,
		SystemUserCreds: fx.sysCreds, KVUserCreds: fx.kvCreds, Dir: t.TempDir(),
		NATSPorts: fx.natsPorts, HTTPPorts: fx.httpPts, ResetJetStream: true,
	}
	h, err := StartHA(cfg)
	if err != nil {
		t.Fatal(err)
	}
	appKP, appPub, appJWT := fx.op.Account(t, "APP")
	appCreds := writeCreds(t, fx.op, appKP, "alice")
	push(t, h.AccountServerURLs()[0], appPub, appJWT)
	waitServes(t, h.AccountServerURLs()[2], appPub, appJWT)
	waitConnect(t, h.ClientURLs()[2], appCreds)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if h, err = StartHA(cfg); err != nil {
		t.Fatalf("second start: %v", err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	// The bucket's stream is a new one...
	nc, err := nats.Connect(h.ClientURLs()[0], nats.UserCredentials(fx.kvCreds))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "KV_"+jwtstore.DefaultKVBucket)
	if err != nil {
		t.Fatal(err)
	}
	if created := st.CachedInfo().Created; created.Before(began) {
		t.Errorf("the bucket's stream was created at %s, before the restart at %s", created, began)
	}
	// ...yet the nodes' full resolvers kept APP: alice connects, and the replicas take APP back
	// from the nodes (pack exchange) without a push.
	waitConnect(t, h.ClientURLs()[2], appCreds)
	waitServes(t, h.AccountServerURLs()[1], appPub, appJWT)
}
