package accountserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// natsConfig points cfg at a NATS server as the operator's system user.
func natsConfig(t testing.TB, cfg *Config, op *natstest.Operator, url string) {
	cfg.NATS = NATSConfig{
		Servers:         []string{url},
		UserCredentials: op.SysCredsFile(t),
		ReconnectWait:   50 * time.Millisecond,
		SyncInterval:    time.Hour,
	}
}

// connectedServer starts an account server connected to ns as the system user.
func connectedServer(t testing.TB, op *natstest.Operator, ns *natstest.Server) (*Server, Config) {
	t.Helper()
	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, ns.ClientURL())
	s := startServer(t, cfg)
	waitConnected(t, s)
	return s, cfg
}

// pushedUser posts a new account to s and connects a user of it to ns.
func pushedUser(t testing.TB, op *natstest.Operator, s *Server, ns *natstest.Server) (nc *nats.Conn, pub, ujwt string, useed []byte, err error) {
	t.Helper()
	akp, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	ujwt, useed = op.User(t, akp, "u")
	nc, err = userConn(t, ns, ujwt, useed)
	return nc, pub, ujwt, useed, err
}

func waitConnected(t testing.TB, s *Server) {
	t.Helper()
	waitFor(t, 10*time.Second, "account server to connect to nats", s.NATSConnected)
	// Make sure the subscriptions reached the server before the test relies on them.
	if err := s.peer.Load().nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func userConn(t testing.TB, ns *natstest.Server, userJWT string, seed []byte, opts ...nats.Option) (*nats.Conn, error) {
	t.Helper()
	opts = append([]nats.Option{nats.UserJWTAndSeed(userJWT, string(seed)),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}, opts...)
	nc, err := nats.Connect(ns.ClientURL(), opts...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, err
}

// urlResolverServer starts an account server for op and a nats-server using it as its URL
// resolver, to which the account server is connected as the system user.
func urlResolverServer(t testing.TB, op *natstest.Operator) (*Server, Config, *natstest.Server) {
	t.Helper()
	cfg := testConfig(t, op)
	port := freePort(t)
	natsConfig(t, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", port))
	s := startServer(t, cfg)
	ns := natstest.Start(t, op.Trust(), natstest.Options{Resolver: natstest.URL, URL: s.ResolverURL(), Extra: listenExtra(port)})
	waitConnected(t, s)
	return s, cfg, ns
}

// TestURLResolver: nats-server fetches accounts from signet serve over HTTP and applies
// updates signet serve announces, without restarts.
func TestURLResolver(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	s, _, ns := urlResolverServer(t, op)

	nc, pub, ujwt, useed, err := pushedUser(t, op, s, ns)
	if err != nil {
		t.Fatalf("user of a pushed account cannot connect: %v", err)
	}
	if err := nc.Publish("x", make([]byte, 2000)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	// Lower the max payload: the server drops a connection that was open before the change
	// when it publishes more, without restarting anything.
	dropped := make(chan struct{})
	big, err := userConn(t, ns, ujwt, useed, nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(dropped) }))
	if err != nil {
		t.Fatal(err)
	}
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "A"
	ac.Limits.Payload = 1000
	// Each version of an account has its own second (a same-second one is refused).
	lowered := encodeWithIAT(t, ac, op.KP, time.Now().Unix()+1)
	mustPost(t, s, pub, lowered)
	// The update reaches the server asynchronously: publish until the server drops us.
	waitFor(t, 10*time.Second, "the server to drop a connection publishing over the lowered max payload", func() bool {
		select {
		case <-dropped:
			return true
		default:
		}
		if err := big.Publish("x", make([]byte, 2000)); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			t.Fatalf("publish before the drop: %v", err)
		}
		return false
	})
	if err := big.LastError(); err == nil || !strings.Contains(strings.ToLower(err.Error()), "payload") {
		t.Fatalf("connection closed, but not for the payload: %v", err)
	}

	// Revoke the user: it gets disconnected.
	closed := make(chan struct{})
	victim, err := userConn(t, ns, ujwt, useed, nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	_ = victim
	upub := func() string { c, _ := jwt.DecodeUserClaims(ujwt); return c.Subject }()
	ac.Revoke(upub)
	revoked := encodeWithIAT(t, ac, op.KP, time.Now().Unix()+2)
	mustPost(t, s, pub, revoked)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("revoked user still connected")
	}
}

// TestCacheResolver: a server with `resolver: { type: cache }` finds an account that only
// signet serve holds, through the LOOKUP responder.
func TestCacheResolver(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartCache(t, op.Trust())
	s, _ := connectedServer(t, op, ns)
	nc, _, _, _, err := pushedUser(t, op, s, ns)
	if err != nil {
		t.Fatalf("user of an account held only by signet cannot connect: %v", err)
	}
	sub, err := nc.SubscribeSync("ping")
	if err != nil {
		t.Fatal(err)
	}
	nc.Publish("ping", []byte("x"))
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	// A miss is an empty reply, not silence.
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	_, missing, _ := op.Account(t, "missing")
	msg, err := sys.Request(fmt.Sprintf("$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP", missing), nil, 5*time.Second)
	if err != nil || len(msg.Data) != 0 {
		t.Fatalf("lookup of a missing account: %v %v", err, msg)
	}
}

// TestFullResolver: an account posted to signet serve reaches a full resolver's directory, and
// one pushed to the server reaches signet serve (directly, and through the pack exchange when
// signet serve was not there to hear it).
func TestFullResolver(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartFull(t, op.Trust())
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	// Pushed to the server before signet serve runs: only the pack exchange can bring it.
	_, early, earlyTok := op.Account(t, "early")
	if msg, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(earlyTok), 5*time.Second); err != nil || !strings.Contains(string(msg.Data), `"code":200`) {
		t.Fatalf("push to server: %v %v", err, msg)
	}

	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, ns.ClientURL())
	s := startServer(t, cfg)
	waitConnected(t, s)
	waitFor(t, 10*time.Second, "pack exchange to bring the early account", func() bool {
		got, err := cfg.Backend.Get(early)
		return err == nil && got == earlyTok
	})

	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	waitFor(t, 10*time.Second, "account in the server's directory", func() bool {
		data, err := os.ReadFile(filepath.Join(ns.Dir, pub+".jwt"))
		return err == nil && string(data) == tok
	})

	_, pub2, tok2 := op.Account(t, "B")
	msg, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(tok2), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = msg
	waitFor(t, 10*time.Second, "pushed account in signet's store", func() bool {
		got, err := cfg.Backend.Get(pub2)
		return err == nil && got == tok2
	})

	// LIST answers with the store's ids, in nats-server's shape (several servers answer; collect).
	inbox := nats.NewInbox()
	lsub, _ := sys.SubscribeSync(inbox)
	sys.PublishRequest("$SYS.REQ.CLAIMS.LIST", inbox, nil)
	found := false
	for i := 0; i < 2 && !found; i++ {
		m, err := lsub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Server server.ServerInfo `json:"server"`
			Data   []string          `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &resp); err != nil {
			t.Fatal(err)
		}
		t.Logf("LIST answer from %s: %d ids", resp.Server.Name, len(resp.Data))
		if resp.Server.Name == "signet" {
			// The pack exchange also brought the system account from the server.
			found = contains(resp.Data, early) && contains(resp.Data, pub) && contains(resp.Data, pub2)
		}
	}
	if !found {
		t.Fatal("no LIST answer from signet with the accounts")
	}
}

// TestClaimsUpdateRefusesUntrusted: signet serve checks what nats-server's full resolver does not.
func TestClaimsUpdateRefusesUntrusted(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	_, cfg := connectedServer(t, op, ns)
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	selfSigned, _ := jwt.NewAccountClaims(apub).Encode(akp)
	msg, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(selfSigned), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp server.ServerAPIClaimUpdateResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil || resp.Error == nil || resp.Data != nil || resp.Server == nil {
		t.Fatalf("reply %s", msg.Data)
	}
	if _, err := cfg.Backend.Get(apub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatal("self-signed account stored via NATS")
	}
	_, pub, tok := op.Account(t, "A")
	msg, err = sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(tok), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp = server.ServerAPIClaimUpdateResponse{}
	if err := json.Unmarshal(msg.Data, &resp); err != nil || resp.Data == nil || resp.Data.Account != pub || resp.Data.Code != 200 {
		t.Fatalf("reply %s", msg.Data)
	}
	// Delete over NATS: operator-signed, not replayable.
	req := deleteRequest(t, op.KP, time.Minute, pub)
	if msg, err = sys.Request("$SYS.REQ.CLAIMS.DELETE", []byte(req), 5*time.Second); err != nil || !strings.Contains(string(msg.Data), "deleted 1 accounts") {
		t.Fatalf("delete: %v %s", err, msg.Data)
	}
	if _, err := cfg.Backend.Get(pub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatal("not deleted")
	}
	if msg, err = sys.Request("$SYS.REQ.CLAIMS.DELETE", []byte(req), 5*time.Second); err != nil || !strings.Contains(string(msg.Data), "replay") {
		t.Fatalf("replayed delete: %v %s", err, msg.Data)
	}
}

// TestNATSDownThenUp: NATS is away at start and again in the middle; every update made
// meanwhile reaches the server once it is back.
func TestNATSDownThenUp(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	port := freePort(t)
	dir := t.TempDir()
	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", port))
	s := startServer(t, cfg)
	if s.NATSConnected() {
		t.Fatal("connected to a server that does not exist")
	}
	accts := map[string]string{}
	postSome := func(n int) {
		for pub, tok := range op.Accounts(t, n) {
			mustPost(t, s, pub, tok)
			accts[pub] = tok
		}
	}
	allArrived := func() bool {
		for pub, tok := range accts {
			data, err := os.ReadFile(filepath.Join(dir, pub+".jwt"))
			if err != nil || string(data) != tok {
				return false
			}
		}
		return true
	}
	postSome(5) // NATS not there yet
	opts := natstest.Options{Resolver: natstest.Full, Dir: dir, Extra: listenExtra(port)}
	ns := natstest.Start(t, op.Trust(), opts)
	waitFor(t, 15*time.Second, "updates made before NATS started to arrive", allArrived)

	ns.Shutdown()
	ns.WaitForShutdown()
	waitFor(t, 10*time.Second, "disconnect to be noticed", func() bool { return !s.NATSConnected() })
	postSome(5) // NATS down
	natstest.Start(t, op.Trust(), opts)
	waitFor(t, 15*time.Second, "updates made while NATS was down to arrive", allArrived)
	if len(accts) != 10 {
		t.Fatalf("%d accounts", len(accts))
	}
}

// TestNotificationReplies counts server answers to update notifications.
func TestNotificationReplies(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	servers := natstest.StartCluster(t, 2, op.Trust())
	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, servers[0].ClientURL())
	s := startServer(t, cfg)
	waitConnected(t, s)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	// Both servers store the account and answer; an announcement made before the connection
	// settled is made again: wait for a moment when both servers hold the account and the
	// counts agree.
	waitFor(t, 10*time.Second, "both servers to store the account and answer every notification", func() bool {
		for _, ns := range servers {
			if data, err := os.ReadFile(filepath.Join(ns.Dir, pub+".jwt")); err != nil || string(data) != tok {
				return false
			}
		}
		_, body := get(t, "http://"+s.HTTPAddr()+"/metrics")
		sent, ok := metricValue(body, "signet_notifications_sent_total"), metricValue(body, `signet_notification_replies_total{result="ok"}`)
		return sent >= 1 && ok == 2*sent
	})
	_, body := get(t, "http://"+s.HTTPAddr()+"/healthz")
	if !strings.Contains(body, `"connected":true`) {
		t.Fatalf("healthz: %s", body)
	}
}

func metricValue(body, name string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// packOverNATS asks for the JWTs of a store whose hash differs from hash, as a full resolver
// does, and returns the lines sent before the end marker.
func packOverNATS(t testing.TB, sys *nats.Conn, hash []byte) []string {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := sys.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := sys.PublishRequest("$SYS.REQ.CLAIMS.PACK", inbox, hash); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("pack reply: %v", err)
		}
		if len(m.Data) == 0 {
			return lines
		}
		lines = append(lines, string(m.Data))
	}
}

// TestPackExchange: signet serve answers $SYS.REQ.CLAIMS.PACK like a full resolver: nothing but
// the end marker when the hashes match, else every JWT and then the end marker.
func TestPackExchange(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	s, cfg := connectedServer(t, op, ns)
	accts := op.Accounts(t, 3)
	for pub, tok := range accts {
		mustPost(t, s, pub, tok)
	}
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	lines := packOverNATS(t, sys, make([]byte, 32))
	if len(lines) != 3 {
		t.Fatalf("pack with a different hash: %d lines", len(lines))
	}
	for _, l := range lines {
		pub, tok, _ := strings.Cut(l, "|")
		if accts[pub] != tok {
			t.Fatalf("pack line %q", l)
		}
	}
	h, err := cfg.Backend.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if lines := packOverNATS(t, sys, h[:]); len(lines) != 0 {
		t.Fatalf("pack with our hash: %d lines", len(lines))
	}
}

// TestPackMergeRefusesUntrusted: JWTs merged from a pack exchange pass the same trust check as
// any other update: foreign-operator, self-signed and mislabelled lines are dropped, an older
// JWT does not replace a newer one, and a trusted newer one is merged.
func TestPackMergeRefusesUntrusted(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	other := natstest.NewOperator(t, "X")
	cfg := testConfig(t, op)
	s, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	p := &natsPeer{s: s}
	akp, pub, _ := op.Account(t, "A")
	now := time.Now()
	stored := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, now.Unix())
	if err := cfg.Backend.Put(pub, stored); err != nil {
		t.Fatal(err)
	}
	_, foreignPub, foreign := other.Account(t, "F")
	selfKP, selfPub, _ := natstest.SelfSignedAccount(t, "S")
	self, _ := jwt.NewAccountClaims(selfPub).Encode(selfKP)
	selfA, _ := jwt.NewAccountClaims(pub).Encode(akp)
	foreignA := encodeWithIAT(t, jwt.NewAccountClaims(pub), other.KP, now.Add(time.Hour).Unix())
	older := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, now.Add(-time.Hour).Unix())
	_, bPub, bTok := op.Account(t, "B")
	_, cPub, _ := op.Account(t, "C")
	lines := []string{
		foreignPub + "|" + foreign, // another operator's account
		selfPub + "|" + self,       // self-signed
		pub + "|" + selfA,          // self-signed replacement of A
		pub + "|" + foreignA,       // newer, but from another operator
		pub + "|" + older,          // trusted but older
		cPub + "|" + bTok,          // B's JWT under C's key
	}
	p.onPackReply(&nats.Msg{Data: []byte(strings.Join(lines, "\n"))})
	for _, k := range []string{foreignPub, selfPub, cPub, bPub} {
		if _, err := cfg.Backend.Get(k); !errors.Is(err, jwtstore.ErrNotFound) {
			t.Errorf("pack merge stored %s: %v", k, err)
		}
	}
	if got, _ := cfg.Backend.Get(pub); got != stored {
		t.Fatalf("pack merge replaced A (self-signed %v, foreign %v, older %v)", got == selfA, got == foreignA, got == older)
	}
	newer := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, now.Add(2*time.Second).Unix())
	p.onPackReply(&nats.Msg{Data: []byte(pub + "|" + newer + "\n" + bPub + "|" + bTok)})
	if got, _ := cfg.Backend.Get(pub); got != newer {
		t.Fatal("pack merge did not take a trusted newer JWT")
	}
	if got, _ := cfg.Backend.Get(bPub); got != bTok {
		t.Fatal("pack merge did not take a trusted new account")
	}
}
