package drift_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/drift"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/remote"
)

// connectAs connects a user of the account akp to server s, which makes s load the account
// (a cache resolver fetches it first, from its directory or from a full resolver).
func connectAs(t *testing.T, op *natstest.Operator, akp nkeys.KeyPair, s *natstest.Server) {
	t.Helper()
	ujwt, useed := op.User(t, akp, "u")
	nc, err := nats.Connect(s.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatalf("connect a user to %s: %v", s.Name(), err)
	}
	t.Cleanup(nc.Close)
}

func source(t *testing.T, rep *drift.Report, name string) drift.Source {
	t.Helper()
	for _, s := range rep.Sources {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no source %s in %+v", name, rep.Sources)
	return drift.Source{}
}

// TestCheckCacheResolverReportsNoMissingForAccountsItHasNotFetched: a cache resolver holds only
// the accounts its users needed (it fetched them from the full resolver). The accounts it has
// not fetched are not missing there: it fetches the current JWT on first use. What it holds is
// compared, and the whole cluster is in sync.
func TestCheckCacheResolverReportsNoMissingForAccountsItHasNotFetched(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	servers := natstest.StartClusterOf(t, op.Trust(), []natstest.Options{
		{Name: "S0", Resolver: natstest.Full},
		{Name: "C", Resolver: natstest.Cache},
	})
	c, err := remote.Dial(servers[0].ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	store := map[string]string{op.SysPub: op.SysJWT}
	var akp nkeys.KeyPair
	for _, n := range []string{"A", "B", "D"} {
		kp, pub, tok := op.Account(t, n)
		store[pub] = tok
		pushAll(t, c, tok)
		if n == "A" {
			akp = kp
		}
	}
	connectAs(t, op, akp, servers[1])
	// A signet serve connected to C answers lookups there: C must not be taken for a full
	// resolver because of its subscription.
	startAccountServer(t, op, &accountserver.NATSConfig{
		Servers:         []string{servers[1].ClientURL()},
		UserCredentials: op.SysCredsFile(t),
		ReconnectWait:   50 * time.Millisecond,
		SyncInterval:    time.Hour,
	})
	waitLookupSubscriber(t, servers[1])

	for _, through := range servers {
		rep, err := drift.Check(context.Background(), drift.Options{
			Operator: opClaims(t, op), Expected: store,
			Servers: []string{through.ClientURL()}, NATSOptions: []nats.Option{op.SysUserOption()},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Clean() {
			t.Errorf("asked through %s: drift %+v\nsources %+v", through.Name(), rep.Drift(), rep.Sources)
		}
		got := statuses(rep)
		want := map[string]drift.Status{"SYS @ C": drift.InSync, "A @ C": drift.InSync}
		for pub := range store {
			want[names(store)[pub]+" @ S0"] = drift.InSync
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("asked through %s: %s: status %q, want %q", through.Name(), k, got[k], w)
			}
		}
		for k, g := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("asked through %s: unexpected entry %s: %q (a cache resolver lacks what it has not fetched)", through.Name(), k, g)
			}
		}
		if s := source(t, rep, "C"); s.Resolver != drift.ResolverCache || s.Accounts != 2 {
			t.Errorf("cache-resolver server: %+v, want resolver %q and 2 accounts", s, drift.ResolverCache)
		}
		if s := source(t, rep, "S0"); s.Resolver != drift.ResolverDirectory {
			t.Errorf("full-resolver server: resolver %q, want %q", s.Resolver, drift.ResolverDirectory)
		}
	}
}

// waitLookupSubscriber waits until a client of s (not the server itself) subscribes to account
// lookups.
func waitLookupSubscriber(t *testing.T, s *natstest.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		sz, err := s.Subsz(&server.SubszOptions{Subscriptions: true, Test: fmt.Sprintf(remote.SubjectLookup, "ANY")})
		if err != nil {
			t.Fatal(err)
		}
		if sz.Total > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client of %s subscribed to lookups", s.Name())
		}
		<-tick.C
	}
}

// names maps account public keys to the names in their JWTs.
func names(jwts map[string]string) map[string]string {
	out := map[string]string{}
	for pub, tok := range jwts {
		if ac, err := jwt.DecodeAccountClaims(tok); err == nil {
			out[pub] = ac.Name
		}
	}
	return out
}

// TestCheckCacheResolverReportsStaleJWTItLoadedFromItsDirectory: a cache resolver that was down
// while the account was updated keeps the old JWT in its directory, and loads that one when a
// user comes (it looks in its directory before asking the full resolvers). While the account is
// not loaded its JWT cannot be read (a cache resolver answers no lookup) and is not guessed from
// the full resolver's answer: the source's note says what was not compared. Once loaded, the
// old JWT is reported as older there.
func TestCheckCacheResolverReportsStaleJWTItLoadedFromItsDirectory(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cacheDir := t.TempDir()
	servers := natstest.StartClusterOf(t, op.Trust(), []natstest.Options{
		{Name: "S0", Resolver: natstest.Full},
		{Name: "C", Resolver: natstest.Cache, Dir: cacheDir},
	})
	c, err := remote.Dial(servers[0].ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	akp, a, v1 := op.Account(t, "A")
	pushAll(t, c, v1)
	connectAs(t, op, akp, servers[1])
	waitFile(t, filepath.Join(cacheDir, a+".jwt"), v1)

	// C goes down; A is updated on the full resolver; C comes back with its directory.
	servers[1].Shutdown()
	servers[1].WaitForShutdown()
	nextSecond(t, v1)
	v2 := signer{t, op.KP}.sign(a, "A", func(ac *jwt.AccountClaims) { ac.Limits.Conn = 5 })
	pushAll(t, c, v2)
	back := natstest.Start(t, op.Trust(), natstest.Options{
		Name: "C", Resolver: natstest.Cache, Dir: cacheDir,
		Extra: fmt.Sprintf("cluster {\n  name: C\n  listen: 127.0.0.1:-1\n  routes: [\"nats-route://%s\"]\n}\n", servers[0].ClusterAddr()),
	})
	natstest.WaitRoutes(t, servers[0], back)

	store := map[string]string{op.SysPub: op.SysJWT, a: v2}
	check := func() *drift.Report {
		t.Helper()
		rep, err := drift.Check(context.Background(), drift.Options{
			Operator: opClaims(t, op), Expected: store,
			Servers: []string{servers[0].ClientURL()}, NATSOptions: []nats.Option{op.SysUserOption()},
		})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := check()
	got := statuses(rep)
	if s, ok := got["A @ C"]; ok {
		t.Errorf("A, cached but not loaded on C (its JWT cannot be read), reported there as %q", s)
	}
	if got["A @ S0"] != drift.InSync || got["SYS @ C"] != drift.InSync {
		t.Errorf("before A is loaded on C: A @ S0 %q, SYS @ C %q; want both in-sync", got["A @ S0"], got["SYS @ C"])
	}
	if s := source(t, rep, "C"); s.Resolver != drift.ResolverCache || !strings.Contains(s.Note, "1 account") {
		t.Errorf("cache-resolver server before A is loaded: %+v, want resolver %q and a note on 1 account not compared", s, drift.ResolverCache)
	}

	connectAs(t, op, akp, back)
	rep = check()
	e := find(t, rep, "A", "C")
	if e.Status != drift.Older || e.SourceIssuedAt != iat(t, v1) || e.StoreIssuedAt != iat(t, v2) {
		t.Errorf("A loaded on C from its stale directory: %+v, want older with source iat %d, store iat %d", e, iat(t, v1), iat(t, v2))
	}
	if got := statuses(rep); got["A @ S0"] != drift.InSync {
		t.Errorf("A @ S0: %q, want in-sync", got["A @ S0"])
	}
	if rep.Clean() {
		t.Error("report with a stale JWT on the cache resolver says it is clean")
	}
}
