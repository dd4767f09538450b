package accountserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// kvConfig is testConfig with the shared KV store on the JetStream servers js.
func kvConfig(t testing.TB, op *natstest.Operator, replicas int, js ...*server.Server) Config {
	t.Helper()
	cfg := testConfig(t, op)
	cfg.Backend = nil
	cfg.Store = StoreConfig{KV: &KVConfig{
		Servers:  strings.Split(natstest.ClientURLs(js...), ","),
		Replicas: replicas,
		AckWait:  time.Second,
	}}
	return cfg
}

// replica is one signet serve of a shared store, which a test may kill.
type replica struct {
	*Server
	killed atomic.Bool
}

// startReplica starts a replica; it is shut down when the test ends (a killed one has nothing
// left to shut down).
func startReplica(t testing.TB, cfg Config) *replica {
	t.Helper()
	s, _ := runServer(t, cfg)
	return &replica{Server: s}
}

// kill stops a replica the way a crash would: its connections drop without a goodbye (nothing
// it holds is given back) and HTTP stops answering.
func (r *replica) kill() {
	r.killed.Store(true)
	r.kvConn.Close()
	if p := r.peer.Load(); p != nil {
		p.nc.Close()
	}
	r.httpSrv.Close()
	r.store.Close() // stops its goroutines; with the connection gone it tells JetStream nothing
}

func getJWT(url string) (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func postWithTimeout(url, body string) (int, error) {
	c := http.Client{Timeout: 20 * time.Second}
	resp, err := c.Post(url, "application/jwt", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// streamLeader is the JetStream server leading the bucket's stream.
func streamLeader(t testing.TB, js []*server.Server) *server.Server {
	t.Helper()
	var leader *server.Server
	waitFor(t, 10*time.Second, "a leader of the bucket's stream", func() bool {
		for _, s := range js {
			if s.Running() && s.JetStreamIsStreamLeader(globalAccount, "KV_"+jwtstore.DefaultKVBucket) {
				leader = s
				return true
			}
		}
		return false
	})
	return leader
}

// globalAccount is the account of a JetStream server without operator mode.
const globalAccount = "$G"

// TestReplicasKeepEveryAcknowledgedWriteWhenTheStreamLeaderAndAReplicaDie: a 3-node JetStream
// cluster holds the bucket with 3 replicas; three signet replicas serve it. Under a steady stream
// of POSTs spread over the replicas, the node leading the bucket's stream and one replica are
// killed. Every POST that was answered 200 is then served by both surviving replicas, and POSTs
// succeed again after the failover.
func TestReplicasKeepEveryAcknowledgedWriteWhenTheStreamLeaderAndAReplicaDie(t *testing.T) {
	t.Parallel()
	js := natstest.StartJetStreamCluster(t, 3)
	op := natstest.NewOperator(t, "OP")
	reps := make([]*replica, 3)
	for i := range reps {
		reps[i] = startReplica(t, kvConfig(t, op, 3, js...))
	}

	// nats-servers with the URL resolver against the two replicas that will survive.
	servers := []*natstest.Server{
		natstest.StartURL(t, op.Trust(), reps[1].ResolverURL()),
		natstest.StartURL(t, op.Trust(), reps[2].ResolverURL()),
	}

	var mu sync.Mutex
	acked := map[string]string{}
	keys := map[string]nkeys.KeyPair{}
	var ackedAfterKill []string
	var killedAt time.Time
	var ackTimes []time.Time
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; !stop.Load(); n++ {
				kp, pub, tok := op.Account(t, fmt.Sprintf("W%d-%d", w, n))
				// A client of a replicated account server tries the next replica when one
				// fails; a write is done when one of them answers 200.
				for try := 0; !stop.Load(); try++ {
					r := reps[(n+try)%len(reps)]
					if r.killed.Load() {
						continue
					}
					code, err := postWithTimeout(accountsURL(r.Server, pub), tok)
					if err == nil && code == http.StatusOK {
						mu.Lock()
						acked[pub], keys[pub] = tok, kp
						ackTimes = append(ackTimes, time.Now())
						if !killedAt.IsZero() && time.Since(killedAt) > 0 {
							ackedAfterKill = append(ackedAfterKill, pub)
						}
						mu.Unlock()
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	leader := streamLeader(t, js)
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	leader.Shutdown()
	reps[0].kill()
	t.Logf("killed stream leader %s and replica 0", leader.Name())
	waitFor(t, 30*time.Second, "POSTs to succeed again after the failover", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ackTimes) > 0 && ackTimes[len(ackTimes)-1].After(killedAt.Add(500*time.Millisecond))
	})
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var after int
	var firstAfter time.Time
	for _, at := range ackTimes {
		if at.After(killedAt) {
			if after == 0 {
				firstAfter = at
			}
			after++
		}
	}
	if after == 0 {
		t.Fatal("no POST succeeded after the failover")
	}
	// The pause writers saw: the longest time without an acknowledgement around the kill.
	var pause time.Duration
	for i := 1; i < len(ackTimes); i++ {
		if ackTimes[i].After(killedAt) && ackTimes[i].Sub(ackTimes[i-1]) > pause {
			pause = ackTimes[i].Sub(ackTimes[i-1])
		}
	}
	t.Logf("%d POSTs acknowledged, %d after the kill (first %v after it); longest pause %v", len(acked), after, firstAfter.Sub(killedAt).Round(time.Microsecond), pause.Round(time.Millisecond))
	// Every acknowledged write is served by each surviving replica. A replica whose watch was
	// cut with the stream leader catches up once it notices; how long that took is logged.
	stopped := time.Now()
	for i, r := range reps[1:] {
		var missing int
		waitFor(t, 30*time.Second, fmt.Sprintf("replica %d to serve every acknowledged write", i+1), func() bool {
			missing = 0
			for pub, tok := range acked {
				if got, err := r.store.Get(pub); err != nil || got != tok {
					missing++
				}
			}
			return missing == 0
		})
		t.Logf("replica %d serves all %d acknowledged writes %v after the POSTs stopped", i+1, len(acked), time.Since(stopped).Round(time.Millisecond))
		for pub, tok := range acked {
			if _, body, err := getJWT(accountsURL(r.Server, pub)); err != nil || body != tok {
				t.Fatalf("replica %d serves %q for %s over HTTP (%v)", i+1, body, pub, err)
			}
		}
	}
	// Users of accounts written during the failover connect to both nats-servers, each of
	// which learns the account from its own replica.
	for _, pub := range ackedAfterKill[:min(3, len(ackedAfterKill))] {
		ujwt, useed := op.User(t, keys[pub], "u")
		for _, ns := range servers {
			if _, err := userConn(t, ns, ujwt, useed); err != nil {
				t.Fatalf("user of %s cannot connect to %s: %v", pub, ns.Name(), err)
			}
		}
	}
}

// TestStaleJWTToOneReplicaAfterANewerOneToAnotherIsRefused: the iat rules hold across
// replicas, not only within one: an older JWT POSTed to B after a newer one went to A is
// refused with 409 and changes nothing, and two replicas racing to store different JWTs of one
// account end up both serving the newer one.
func TestStaleJWTToOneReplicaAfterANewerOneToAnotherIsRefused(t *testing.T) {
	t.Parallel()
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	a := startReplica(t, kvConfig(t, op, 1, js))
	b := startReplica(t, kvConfig(t, op, 1, js))

	_, pub, _ := op.Account(t, "A")
	now := time.Now().Unix()
	older := encodeWithIAT(t, namedAccount(pub, "A", 1), op.KP, now)
	newer := encodeWithIAT(t, namedAccount(pub, "A", 2), op.KP, now+1)
	mustPost(t, a.Server, pub, newer)
	waitFor(t, 5*time.Second, "b to serve the newer jwt", func() bool {
		_, body, _ := getJWT(accountsURL(b.Server, pub))
		return body == newer
	})
	if code, body := post(t, b.Server, pub, older); code != http.StatusConflict {
		t.Fatalf("older jwt to b: %d %s, want 409", code, body)
	}
	sameSecond := encodeWithIAT(t, namedAccount(pub, "A", 3), op.KP, now+1)
	if code, body := post(t, b.Server, pub, sameSecond); code != http.StatusConflict {
		t.Fatalf("different jwt of the same second to b: %d %s, want 409", code, body)
	}
	for _, r := range []*replica{a, b} {
		if _, body, _ := getJWT(accountsURL(r.Server, pub)); body != newer {
			t.Fatalf("a refused write changed what is served: %q", body)
		}
	}

	// Races: for each account, A and B get different JWTs at the same moment, the newer one
	// to either side. The newer one wins everywhere, whatever the order of arrival.
	for i := 0; i < 20; i++ {
		_, pub, _ := op.Account(t, fmt.Sprintf("R%d", i))
		v1 := encodeWithIAT(t, namedAccount(pub, "R", 1), op.KP, now)
		v2 := encodeWithIAT(t, namedAccount(pub, "R", 2), op.KP, now+1)
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); post(t, first.Server, pub, v1) }()
		go func() { defer wg.Done(); post(t, second.Server, pub, v2) }()
		wg.Wait()
		for _, r := range []*replica{a, b} {
			waitFor(t, 5*time.Second, "the newer jwt served by every replica", func() bool {
				_, body, _ := getJWT(accountsURL(r.Server, pub))
				return body == v2
			})
		}
	}
}

// namedAccount is an account's claims with a marker (its conns limit) that makes versions
// differ.
func namedAccount(pub, name string, conns int64) *jwt.AccountClaims {
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	ac.Limits.Conn = conns
	return ac
}

// TestRevocationPostedToAReplicaThatDiesAfterAnsweringStillCutsTheUser: replica A takes the
// revocation (200) while it cannot reach NATS, and dies. The change was in the bucket and
// handed to A to announce; when A stops answering for it, replica B gets it and announces it:
// the revoked user is cut off.
func TestRevocationPostedToAReplicaThatDiesAfterAnsweringStillCutsTheUser(t *testing.T) {
	t.Parallel()
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")

	// C only serves HTTP (no NATS): the nats-server's URL resolver uses it.
	c := startReplica(t, kvConfig(t, op, 1, js))
	ns := natstest.StartURL(t, op.Trust(), c.ResolverURL())

	// A announces, but its NATS is unreachable: it holds what it is handed.
	acfg := kvConfig(t, op, 1, js)
	natsConfig(t, &acfg, op, fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)))
	a := startReplica(t, acfg)

	akp, pub, tok := op.Account(t, "A")
	mustPost(t, a.Server, pub, tok)
	waitFor(t, 5*time.Second, "c to serve the account", func() bool { got, _ := c.store.Get(pub); return got == tok })
	ujwt, useed := op.User(t, akp, "u")
	closed := watchUser(t, ns, ujwt, useed)

	mustPost(t, a.Server, pub, revoking(t, op, pub, "A", ujwt))
	waitFor(t, 5*time.Second, "a to hold the revocation for announcing", func() bool {
		recs, _ := a.durable.Records(outboxArea)
		for _, r := range recs {
			if r.Name == pub {
				return true
			}
		}
		return false
	})
	a.kill()

	bcfg := kvConfig(t, op, 1, js)
	natsConfig(t, &bcfg, op, ns.ClientURL())
	bcfg.NATS.SettleAfterConnect = -1
	startReplica(t, bcfg)
	waitClosed(t, closed, 15*time.Second, "the revoked user to be disconnected")
}

// TestEachChangeIsAnnouncedOnceAcrossReplicas: three replicas connected to NATS share the
// store; every account POSTed (spread over them) is announced exactly once, in one message,
// counted on the system account on both update subjects.
func TestEachChangeIsAnnouncedOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	first := startReplica(t, kvConfig(t, op, 1, js))
	ns := natstest.StartURL(t, op.Trust(), first.ResolverURL())

	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	var mu sync.Mutex
	seen := map[string]int{}
	// Both subjects a nats-server takes updates on: one message per change in all.
	for _, subj := range []string{subjUpdateOld, subjUpdateNew} {
		if _, err := sys.Subscribe(fmt.Sprintf(subj, "*"), func(m *nats.Msg) {
			tokens := strings.Split(m.Subject, ".")
			mu.Lock()
			seen[tokens[len(tokens)-3]]++
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Flush(); err != nil {
		t.Fatal(err)
	}

	var reps []*replica
	for i := 0; i < 3; i++ {
		cfg := kvConfig(t, op, 1, js)
		natsConfig(t, &cfg, op, ns.ClientURL())
		cfg.NATS.SettleAfterConnect = -1
		r := startReplica(t, cfg)
		waitConnected(t, r.Server)
		// Steady state: what is announced in a connection's first moments is announced
		// again once it is settled (at least once, by design).
		waitFor(t, 5*time.Second, "the replica's connection to settle", func() bool {
			p := r.peer.Load()
			p.settle(time.Now())
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.settledLocked()
		})
		reps = append(reps, r)
	}
	accounts := op.Accounts(t, 30)
	i := 0
	for pub, tok := range accounts {
		mustPost(t, reps[i%3].Server, pub, tok)
		i++
	}
	waitFor(t, 10*time.Second, "every account announced", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == len(accounts)
	})
	waitFor(t, 10*time.Second, "every announcement confirmed", func() bool {
		for _, r := range reps {
			if r.PendingNotifications() > 0 {
				return false
			}
		}
		return true
	})
	// Quiet for longer than the redelivery time: nothing is announced again.
	time.Sleep(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	for pub := range accounts {
		if seen[pub] != 1 {
			t.Errorf("account %s announced %d times, want once", pub, seen[pub])
		}
	}
}

// TestDeleteRequestIsUsedOnceAcrossReplicas: a delete request honoured by replica A is refused
// when replayed to replica B (the replay guard is shared through the bucket), after the account
// was pushed again; and B refuses the account's old JWT (the tombstone is shared too).
func TestDeleteRequestIsUsedOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	a := startReplica(t, kvConfig(t, op, 1, js))
	b := startReplica(t, kvConfig(t, op, 1, js))
	_, pub, tok := op.Account(t, "B")
	mustPost(t, a.Server, pub, tok)
	// b must have the account before the delete, or its 404 below would not show the delete.
	waitFor(t, 5*time.Second, "b to see the account", func() bool {
		_, body, _ := getJWT(accountsURL(b.Server, pub))
		return body == tok
	})
	req := deleteRequest(t, op.KP, time.Minute, pub)
	if code := httpDelete(t, a.Server, pub, req); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	waitFor(t, 5*time.Second, "b to see the delete", func() bool {
		code, _, _ := getJWT(accountsURL(b.Server, pub))
		return code == http.StatusNotFound
	})
	// The deleted account's JWT does not bring it back on the other replica either (the
	// tombstone is written to the bucket before the deletion that b has seen).
	if code, body := post(t, b.Server, pub, tok); code != http.StatusConflict {
		t.Fatalf("the deleted account's JWT posted to the other replica: %d %s, want 409", code, body)
	}
	// The request replayed there is refused, and leaves the tombstone as it was.
	if code := httpDelete(t, b.Server, pub, req); code != http.StatusForbidden {
		t.Fatalf("replayed delete on another replica: %d, want 403", code)
	}
	if code, body := post(t, b.Server, pub, tok); code != http.StatusConflict {
		t.Fatalf("after a refused replay, the deleted account's JWT: %d %s, want 409", code, body)
	}
	newer := encodeWithIAT(t, namedAccount(pub, "B", 5), op.KP, time.Now().Unix()+1)
	mustPost(t, b.Server, pub, newer)
	if code := httpDelete(t, b.Server, pub, req); code != http.StatusForbidden {
		t.Fatalf("replayed delete on another replica: %d, want 403", code)
	}
	for _, r := range []*replica{a, b} {
		waitFor(t, 5*time.Second, "the account to stay", func() bool {
			_, body, _ := getJWT(accountsURL(r.Server, pub))
			return body == newer
		})
	}
	if _, err := a.store.Get(pub); errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatal("the replay deleted the account")
	}
}

// TestReplicaWaitsForItsBucketsServersAtStart: a replica started before the JetStream server
// of its bucket (a whole cluster restarting) waits for it instead of giving up.
func TestReplicaWaitsForItsBucketsServersAtStart(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "OP")
	port := freePort(t)
	cfg := testConfig(t, op)
	cfg.Backend = nil
	cfg.Store = StoreConfig{KV: &KVConfig{Servers: []string{fmt.Sprintf("nats://127.0.0.1:%d", port)}}}
	type opened struct {
		s   *Server
		err error
	}
	done := make(chan opened, 1)
	go func() {
		s, err := New(cfg, testLogger(t))
		done <- opened{s, err}
	}()
	select {
	case o := <-done:
		t.Fatalf("New returned before the bucket's server was up: %v", o.err)
	case <-time.After(1500 * time.Millisecond):
	}
	natstest.StartJetStreamAt(t, port)
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("New: %v", o.err)
		}
		t.Cleanup(func() { o.s.Shutdown(context.Background()) })
		_, pub, tok := op.Account(t, "A")
		if err := o.s.Start(); err != nil {
			t.Fatal(err)
		}
		mustPost(t, o.s, pub, tok)
	case <-time.After(30 * time.Second):
		t.Fatal("New still waiting 30 s after the bucket's server came up")
	}
}

// TestResolverRequestsAreAnsweredOnceAcrossReplicas: three replicas connected to one
// nats-server; a LOOKUP, a LIST and a CLAIMS.UPDATE sent by a system user each get one answer,
// not three (the replicas share a queue group).
func TestResolverRequestsAreAnsweredOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	var reps []*replica
	for i := 0; i < 3; i++ {
		cfg := kvConfig(t, op, 1, js)
		natsConfig(t, &cfg, op, ns.ClientURL())
		r := startReplica(t, cfg)
		waitConnected(t, r.Server)
		reps = append(reps, r)
	}
	_, pub, tok := op.Account(t, "A")
	mustPost(t, reps[0].Server, pub, tok)
	waitFor(t, 5*time.Second, "every replica to hold the account", func() bool {
		for _, r := range reps {
			if got, _ := r.store.Get(pub); got != tok {
				return false
			}
		}
		return true
	})

	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	_, _, newer := op.Account(t, "B")
	for _, req := range []struct{ subj, body string }{
		{fmt.Sprintf("$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP", pub), ""},
		{subjList, ""},
		{subjClaims, newer},
	} {
		inbox := nats.NewInbox()
		sub, err := sys.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		if err := sys.PublishRequest(req.subj, inbox, []byte(req.body)); err != nil {
			t.Fatal(err)
		}
		if _, err := sub.NextMsg(5 * time.Second); err != nil {
			t.Fatalf("%s: no answer: %v", req.subj, err)
		}
		if m, err := sub.NextMsg(500 * time.Millisecond); err == nil {
			t.Fatalf("%s answered twice (second: %.80s)", req.subj, m.Data)
		}
		sub.Unsubscribe()
	}
}
