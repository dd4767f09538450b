package accountserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// runServer starts an account server and returns it with its (idempotent) stop, which also runs
// when the test ends: tests that restart signet serve stop one and start the next on the same
// store folder and port.
func runServer(t testing.TB, cfg Config) (*Server, func()) {
	t.Helper()
	s, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// dirConfig is testConfig with a directory store in a fresh folder on a fixed port, so that a
// restarted signet serve finds the same store where nats-servers' URL resolvers look.
func dirConfig(t testing.TB, op *natstest.Operator) Config {
	t.Helper()
	cfg := testConfig(t, op)
	cfg.Backend = nil
	cfg.Store = StoreConfig{Dir: t.TempDir()}
	cfg.HTTP.Port = freePort(t)
	return cfg
}

// restartNATS starts a stopped server again from its configuration file (same ports, same
// routes), as an operator restarting nats-server would.
func restartNATS(t testing.TB, old *natstest.Server) *server.Server {
	t.Helper()
	opts, err := server.ProcessConfigFile(old.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs = true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatalf("%s did not restart", old.Name())
	}
	return ns
}

// watchUser connects a user to ns without reconnecting; the channel closes when the server
// drops the connection.
func watchUser(t testing.TB, ns *natstest.Server, userJWT string, seed []byte) <-chan struct{} {
	t.Helper()
	closed := make(chan struct{})
	if _, err := userConn(t, ns, userJWT, seed, nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) })); err != nil {
		t.Fatalf("user cannot connect: %v", err)
	}
	return closed
}

func waitClosed(t testing.TB, closed <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// revoking returns account pub's JWT revoking the user of userJWT, issued a second after the
// stored one (signet serve refuses a different JWT of the same second).
func revoking(t testing.TB, op *natstest.Operator, pub, name, userJWT string) string {
	t.Helper()
	uc, err := jwt.DecodeUserClaims(userJWT)
	if err != nil {
		t.Fatal(err)
	}
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	ac.Revoke(uc.Subject)
	return encodeWithIAT(t, ac, op.KP, time.Now().Unix()+1)
}

// records reads a record area of the store in dir, as another process would.
func records(t testing.TB, dir, area string) map[string]string {
	t.Helper()
	d, err := jwtstore.OpenDir(dir, jwtstore.DirOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	recs, err := d.Records(area)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range recs {
		out[r.Name] = string(r.Data)
	}
	return out
}

// TestRevocationMadeWhileNATSIsDownReachesServersAfterRestart: two nats-servers with the URL
// resolver, signet serve connected to S1. S1 stops; a user of A stays connected to S0; the
// revocation of that user is POSTed while signet serve reaches no NATS; signet serve restarts;
// S1 comes back. The revoked user is disconnected: the change waited in the outbox on disk and
// was announced after the restart (and again once S1's route to S0 was surely up).
func TestRevocationMadeWhileNATSIsDownReachesServersAfterRestart(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	s1Port := freePort(t)
	cfg := dirConfig(t, op)
	natsConfig(t, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", s1Port))
	signet, stop := runServer(t, cfg)
	url := signet.ResolverURL()
	cluster := natstest.StartClusterOf(t, op.Trust(), []natstest.Options{
		{Name: "S0", Resolver: natstest.URL, URL: url},
		{Name: "S1", Resolver: natstest.URL, URL: url, Extra: listenExtra(s1Port)},
	})
	waitConnected(t, signet)
	akp, pub, tok := op.Account(t, "A")
	mustPost(t, signet, pub, tok)
	ujwt, useed := op.User(t, akp, "u")
	dropped := watchUser(t, cluster[0], ujwt, useed)

	cluster[1].Shutdown()
	cluster[1].WaitForShutdown()
	// A signet serve that ran while S1 was up learnt S0's address from it and would reconnect
	// there; the one that takes the POST knows S1 only, as after a restart.
	stop()
	signet, stop = runServer(t, cfg)
	mustPost(t, signet, pub, revoking(t, op, pub, "A", ujwt))
	if signet.NATSConnected() {
		t.Fatal("signet serve reached NATS: the revocation was not made while NATS was down")
	}
	stop()
	select {
	case <-dropped:
		t.Fatal("user disconnected before NATS came back: the test proves nothing")
	default:
	}

	runServer(t, cfg)
	restartNATS(t, cluster[1])
	waitClosed(t, dropped, 30*time.Second, "the revoked user to be disconnected")
	if _, err := userConn(t, cluster[0], ujwt, useed, nats.NoReconnect()); err == nil {
		t.Fatal("revoked user connected again")
	}
}

// TestRevocationThroughClaimsUpdateSurvivesRestart: a revocation that reaches signet serve
// through $SYS.REQ.CLAIMS.UPDATE (the resolver protocol), and that signet serve could not
// announce (its NATS user may not publish announcements), is announced by the next signet
// serve on the same store: the user connected to the other server is disconnected.
func TestRevocationThroughClaimsUpdateSurvivesRestart(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	s1Port := freePort(t)
	cfg := dirConfig(t, op)
	natsConfig(t, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", s1Port))
	muted := cfg
	muted.NATS.UserCredentials = sysUserCreds(t, op, func(uc *jwt.UserClaims) {
		uc.Pub.Deny.Add("$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", "$SYS.ACCOUNT.*.CLAIMS.UPDATE")
	})
	signet, stop := runServer(t, muted)
	url := signet.ResolverURL()
	cluster := natstest.StartClusterOf(t, op.Trust(), []natstest.Options{
		{Name: "S0", Resolver: natstest.URL, URL: url},
		{Name: "S1", Resolver: natstest.URL, URL: url, Extra: listenExtra(s1Port)},
	})
	waitConnected(t, signet)

	akp, pub, tok := op.Account(t, "A")
	mustPost(t, signet, pub, tok)
	ujwt, useed := op.User(t, akp, "u")
	dropped := watchUser(t, cluster[0], ujwt, useed)

	sys, err := nats.Connect(cluster[1].ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	msg, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(revoking(t, op, pub, "A", ujwt)), 5*time.Second)
	if err != nil || !strings.Contains(string(msg.Data), `"code":200`) {
		t.Fatalf("claims update: %v %v", err, msg)
	}
	stop()
	select {
	case <-dropped:
		t.Fatal("user disconnected although signet serve could not announce: the test proves nothing")
	default:
	}

	runServer(t, cfg)
	waitClosed(t, dropped, 30*time.Second, "the revoked user to be disconnected")
}

// sysUserCreds writes the creds of a new system-account user, edited by edit, and returns the
// file's path.
func sysUserCreds(t testing.TB, op *natstest.Operator, edit func(*jwt.UserClaims)) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	uc := jwt.NewUserClaims(pub)
	uc.Name = "signet"
	edit(uc)
	tok, err := uc.Encode(op.SysKP)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(tok, seed)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "signet.creds")
	if err := os.WriteFile(p, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOutboxHoldsChangesUntilAServerAnswers: a change POSTed while NATS is away is in the outbox
// on disk when the POST is answered; once a nats-server answered its announcement, the outbox
// is empty again.
func TestOutboxHoldsChangesUntilAServerAnswers(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	port := freePort(t)
	cfg := dirConfig(t, op)
	natsConfig(t, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", port))
	s, _ := runServer(t, cfg)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	if got := records(t, cfg.Store.Dir, outboxArea); len(got) != 1 || got[pub] != "" {
		t.Fatalf("outbox after a POST with NATS away: %v", got)
	}
	natstest.Start(t, op.Trust(), natstest.Options{Extra: listenExtra(port)})
	waitFor(t, 20*time.Second, "the outbox to empty once a server answered", func() bool {
		return len(records(t, cfg.Store.Dir, outboxArea)) == 0
	})
}

func httpDelete(t testing.TB, s *Server, pub, body string) int {
	t.Helper()
	code, _ := request(t, http.MethodDelete, accountsURL(s, pub), body)
	return code
}

// TestDeleteReplayRefusedAfterRestart: a delete request honoured once (over HTTP, and over
// $SYS.REQ.CLAIMS.DELETE) is refused when replayed after signet serve restarted, and the
// account added again meanwhile stays.
func TestDeleteReplayRefusedAfterRestart(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	cfg := dirConfig(t, op)
	natsConfig(t, &cfg, op, ns.ClientURL())
	s, stop := runServer(t, cfg)
	waitConnected(t, s)
	_, a, aTok := op.Account(t, "A")
	_, b, bTok := op.Account(t, "B")
	mustPost(t, s, a, aTok)
	mustPost(t, s, b, bTok)
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	natsDelete := func(req string) string {
		t.Helper()
		msg, err := sys.Request("$SYS.REQ.CLAIMS.DELETE", []byte(req), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return string(msg.Data)
	}

	httpReq := deleteRequest(t, op.KP, time.Minute, a)
	natsReq := deleteRequest(t, op.KP, 2*time.Minute, b)
	if code := httpDelete(t, s, a, httpReq); code != http.StatusOK {
		t.Fatalf("delete over http: %d", code)
	}
	if got := natsDelete(natsReq); !strings.Contains(got, "deleted 1 accounts") {
		t.Fatalf("delete over nats: %s", got)
	}
	// Added again with JWTs issued after the deletions (the old ones no longer bring them back).
	later := time.Now().Unix() + 1
	mustPost(t, s, a, encodeWithIAT(t, jwt.NewAccountClaims(a), op.KP, later))
	mustPost(t, s, b, encodeWithIAT(t, jwt.NewAccountClaims(b), op.KP, later))

	stop()
	s, _ = runServer(t, cfg)
	waitConnected(t, s)
	if code := httpDelete(t, s, a, httpReq); code != http.StatusForbidden {
		t.Fatalf("delete replayed over http after a restart: %d, want 403", code)
	}
	if got := natsDelete(natsReq); !strings.Contains(got, "replay") {
		t.Fatalf("delete replayed over nats after a restart: %s", got)
	}
	for _, pub := range []string{a, b} {
		if _, err := s.Store().Get(pub); err != nil {
			t.Fatalf("replayed delete removed %s: %v", pub, err)
		}
	}
}

// TestExpiredDeleteRequestsArePruned: at start, the replay guard keeps the delete requests that
// are still valid and removes the records of those that expired.
func TestExpiredDeleteRequestsArePruned(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := dirConfig(t, op)
	d, err := jwtstore.OpenDir(cfg.Store.Dir, jwtstore.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	expired, live := replayKey("expired"), replayKey("live")
	err = d.Commit(jwtstore.Batch{Records: []jwtstore.Record{
		{Area: deletesArea, Name: expired, Data: []byte(strconv.FormatInt(now-10, 10))},
		{Area: deletesArea, Name: live, Data: []byte(strconv.FormatInt(now+60, 10))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	s, _ := runServer(t, cfg)
	got := records(t, cfg.Store.Dir, deletesArea)
	if _, ok := got[expired]; ok {
		t.Fatal("record of an expired request kept")
	}
	if _, ok := got[live]; !ok {
		t.Fatal("record of a valid request removed")
	}
	if err := s.deletes.admit(live, now+60, time.Now()); err == nil {
		t.Fatal("a request recorded before the start is admitted again")
	}
}

// TestDeleteRequestsSignedInTheSameSecondAreDistinct: two delete requests for different accounts,
// signed by the same key in the same second with the same expiry, share their jti (jwt's jti
// hashes the standard claims only); each is honoured once, and neither is taken for a replay of
// the other.
func TestDeleteRequestsSignedInTheSameSecondAreDistinct(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := testConfig(t, op)
	s := startServer(t, cfg)
	_, a, aTok := op.Account(t, "A")
	_, b, bTok := op.Account(t, "B")
	mustPost(t, s, a, aTok)
	mustPost(t, s, b, bTok)
	var reqA, reqB string
	for {
		before := time.Now().Unix()
		reqA = deleteRequest(t, op.KP, time.Minute, a)
		reqB = deleteRequest(t, op.KP, time.Minute, b)
		if time.Now().Unix() == before {
			break // both of the same second
		}
	}
	for _, r := range []struct{ pub, req string }{{a, reqA}, {b, reqB}} {
		if code := httpDelete(t, s, r.pub, r.req); code != http.StatusOK {
			t.Fatalf("delete of %s: %d", r.pub, code)
		}
	}
	if code := httpDelete(t, s, b, reqB); code != http.StatusForbidden {
		t.Fatalf("replay: %d", code)
	}
}

// TestDeleteMadeWhileNATSIsDownReachesServersAfterRestart: a delete accepted over HTTP while the
// full-resolver nats-server is down, followed by a restart of signet serve, is forwarded once
// the server is back: the account leaves the server's directory.
func TestDeleteMadeWhileNATSIsDownReachesServersAfterRestart(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	port := freePort(t)
	cfg := dirConfig(t, op)
	natsConfig(t, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", port))
	opts := natstest.Options{Resolver: natstest.Full, Dir: t.TempDir(), AllowDelete: true, Extra: listenExtra(port)}
	ns := natstest.Start(t, op.Trust(), opts)
	s, stop := runServer(t, cfg)
	waitConnected(t, s)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	file := filepath.Join(opts.Dir, pub+".jwt")
	waitFor(t, 10*time.Second, "the account in the server's directory", func() bool {
		data, err := os.ReadFile(file)
		return err == nil && string(data) == tok
	})

	ns.Shutdown()
	ns.WaitForShutdown()
	waitFor(t, 10*time.Second, "signet serve to notice NATS is gone", func() bool { return !s.NATSConnected() })
	if code := httpDelete(t, s, pub, deleteRequest(t, op.KP, time.Minute, pub)); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	stop()
	runServer(t, cfg)
	natstest.Start(t, op.Trust(), opts)
	waitFor(t, 20*time.Second, "the delete to reach the server", func() bool {
		_, err := os.Stat(file)
		return os.IsNotExist(err)
	})
}
