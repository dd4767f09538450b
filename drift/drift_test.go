package drift_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/drift"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/remote"
)

// startAccountServer runs a signet serve (HTTP only, memory store) for op and returns its
// account server URL in the operator's form (http://host:port/jwt/v1).
func startAccountServer(t *testing.T, op *natstest.Operator, nats *accountserver.NATSConfig) string {
	t.Helper()
	cfg := accountserver.Config{OperatorJWT: op.JWT, HTTP: accountserver.HTTPConfig{Port: -1}, Backend: jwtstore.NewMemory()}
	if nats != nil {
		cfg.NATS = *nats
	}
	s, err := accountserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("account server shutdown: %v", err)
		}
	})
	return strings.TrimSuffix(s.ResolverURL(), "/accounts/")
}

// postAll posts JWTs to the account server; each must be accepted.
func postAll(t *testing.T, url string, toks ...string) {
	t.Helper()
	for _, tok := range toks {
		if _, err := remote.PushHTTP(context.Background(), http.DefaultClient, url, tok); err != nil {
			t.Fatal(err)
		}
	}
}

// pushAll sends JWTs to every server on $SYS.REQ.CLAIMS.UPDATE, as any tool speaking the
// resolver protocol can, and waits until every server stored each.
func pushAll(t *testing.T, c *remote.Client, toks ...string) {
	t.Helper()
	sum, err := c.PushAll(context.Background(), toks, remote.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
}

// signer signs account claims for a fixed key, so that one account can have several versions.
type signer struct {
	t  *testing.T
	kp nkeys.KeyPair
}

func (s signer) sign(pub, name string, edit ...func(*jwt.AccountClaims)) string {
	s.t.Helper()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	for _, e := range edit {
		e(ac)
	}
	tok, err := ac.Encode(s.kp)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

func newAccountKey(t *testing.T) string {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func iat(t *testing.T, tok string) int64 {
	t.Helper()
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	return ac.IssuedAt
}

// nextSecond waits until the clock has passed the iat of tok, so that what is signed next is
// newer (JWT times are whole seconds).
func nextSecond(t *testing.T, tok string) {
	t.Helper()
	after := iat(t, tok)
	deadline := time.Now().Add(3 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Unix() <= after {
		if time.Now().After(deadline) {
			t.Fatal("clock did not pass the JWT's issue time")
		}
		<-tick.C
	}
}

// statuses maps "account name @ source" to the status found, for every entry.
func statuses(rep *drift.Report) map[string]drift.Status {
	out := map[string]drift.Status{}
	for _, e := range rep.Entries {
		out[e.Name+" @ "+e.Source] = e.Status
	}
	return out
}

func find(t *testing.T, rep *drift.Report, name, source string) drift.Entry {
	t.Helper()
	for _, e := range rep.Entries {
		if e.Name == name && e.Source == source {
			return e
		}
	}
	t.Fatalf("no entry for account %s at %s", name, source)
	return drift.Entry{}
}

// TestCheckFindsDriftPerServerAndAccountServer: two full resolvers and a signet serve that held
// the store's accounts, then changed behind signet's back. Every change is found, with the
// right status, at the server that holds it.
func TestCheckFindsDriftPerServerAndAccountServer(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	other := natstest.NewOperator(t, "Other")
	// S0 refuses deletes and S1 allows them: one delete request removes an account from S1 only.
	servers := natstest.StartClusterOf(t, op.Trust(), []natstest.Options{
		{Name: "S0", Resolver: natstest.Full},
		{Name: "S1", Resolver: natstest.Full, AllowDelete: true},
	})
	asURL := startAccountServer(t, op, nil)
	c, err := remote.Dial(servers[0].ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	sign := signer{t, op.KP}
	keys := map[string]string{}
	for _, n := range []string{"A", "B", "C", "D", "E", "F", "X", "U"} {
		keys[n] = newAccountKey(t)
	}
	bEarly := sign.sign(keys["B"], "B")
	cEarly := sign.sign(keys["C"], "C")
	nextSecond(t, bEarly)
	store := map[string]string{
		op.SysPub: op.SysJWT,
		keys["A"]: sign.sign(keys["A"], "A"),
		keys["B"]: bEarly,
		keys["C"]: sign.sign(keys["C"], "C"),
		keys["E"]: sign.sign(keys["E"], "E"),
		keys["F"]: sign.sign(keys["F"], "F"),
		keys["X"]: sign.sign(keys["X"], "X"),
	}
	// D: the servers get a version issued in the same second as the store's, with other limits.
	var d1, d2 string
	for range 5 {
		d1 = sign.sign(keys["D"], "D")
		d2 = sign.sign(keys["D"], "D", func(ac *jwt.AccountClaims) { ac.Limits.Conn = 7 })
		if iat(t, d1) == iat(t, d2) {
			break
		}
	}
	if iat(t, d1) != iat(t, d2) {
		t.Fatal("could not sign two versions of D in one second")
	}
	store[keys["D"]] = d1
	bLate := sign.sign(keys["B"], "B", func(ac *jwt.AccountClaims) { ac.Limits.Subs = 10 })
	unknown := sign.sign(keys["U"], "U")
	foreignX := signer{t, other.KP}.sign(keys["X"], "X")

	// What signet pushed: the store's accounts everywhere, except F (servers only) and C (the
	// account server has the early version).
	pushAll(t, c, op.SysJWT, store[keys["A"]], bEarly, store[keys["C"]], store[keys["E"]], store[keys["F"]], store[keys["X"]])
	postAll(t, asURL, op.SysJWT, store[keys["A"]], bEarly, cEarly, d1, store[keys["E"]], store[keys["X"]], unknown)

	// Behind signet's back, over the resolver protocol: a newer B, a D of the same age, an
	// account the store does not know, and an X signed by another operator (the full resolver
	// does not check who signed).
	pushAll(t, c, bLate, d2, unknown, foreignX)
	// E deleted from S1 only.
	del := jwt.NewGenericClaims(op.Pub)
	del.Data["accounts"] = []string{keys["E"]}
	delTok, err := del.Encode(op.KP)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Conn().Publish(remote.SubjectClaimsDelete, []byte(delTok)); err != nil {
		t.Fatal(err)
	}
	waitGone(t, filepath.Join(servers[1].Dir, keys["E"]+".jwt"))

	rep, err := drift.Check(context.Background(), drift.Options{
		Operator:      opClaims(t, op),
		Expected:      store,
		Servers:       []string{servers[0].ClientURL()},
		NATSOptions:   []nats.Option{op.SysUserOption()},
		AccountServer: asURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]drift.Status{}
	for _, src := range []string{"S0", "S1", asURL} {
		want["SYS @ "+src] = drift.InSync
		want["A @ "+src] = drift.InSync
		want["U @ "+src] = drift.Unknown
	}
	want["B @ S0"], want["B @ S1"], want["B @ "+asURL] = drift.Newer, drift.Newer, drift.InSync
	want["C @ S0"], want["C @ S1"], want["C @ "+asURL] = drift.InSync, drift.InSync, drift.Older
	want["D @ S0"], want["D @ S1"], want["D @ "+asURL] = drift.Different, drift.Different, drift.InSync
	want["E @ S0"], want["E @ S1"], want["E @ "+asURL] = drift.InSync, drift.Missing, drift.InSync
	want["F @ S0"], want["F @ S1"], want["F @ "+asURL] = drift.InSync, drift.InSync, drift.Missing
	want["X @ S0"], want["X @ S1"], want["X @ "+asURL] = drift.Untrusted, drift.Untrusted, drift.InSync
	got := statuses(rep)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: status %q, want %q", k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected entry %s: %q", k, g)
		}
	}
	if x := find(t, rep, "X", "S1"); x.Issuer != other.Pub || x.SourceIssuedAt == 0 {
		t.Errorf("untrusted X at S1: issuer %s, source iat %d; want issuer %s (the other operator)", x.Issuer, x.SourceIssuedAt, other.Pub)
	}
	if b := find(t, rep, "B", "S0"); b.SourceIssuedAt != iat(t, bLate) || b.StoreIssuedAt != iat(t, bEarly) {
		t.Errorf("newer B at S0: source iat %d store iat %d, want %d and %d", b.SourceIssuedAt, b.StoreIssuedAt, iat(t, bLate), iat(t, bEarly))
	}
	if rep.Clean() {
		t.Error("report with drift says it is clean")
	}
	for _, s := range rep.Sources {
		if s.Error != "" {
			t.Errorf("source %s: %s", s.Name, s.Error)
		}
		if s.Kind == drift.KindNATSServer && s.Resolver != drift.ResolverDirectory {
			t.Errorf("server %s: resolver %q, want %q", s.Name, s.Resolver, drift.ResolverDirectory)
		}
	}
	if names := sourceNames(rep); names != "S0,S1,"+asURL {
		t.Errorf("sources %s, want S0,S1,%s", names, asURL)
	}

	// The order is stable: a second check gives the same JSON.
	again, err := drift.Check(context.Background(), drift.Options{
		Operator: opClaims(t, op), Expected: store, Servers: []string{servers[1].ClientURL()},
		NATSOptions: []nats.Option{op.SysUserOption()}, AccountServer: asURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	j1, j2 := mustJSON(t, stripURLs(rep)), mustJSON(t, stripURLs(again))
	if j1 != j2 {
		t.Errorf("two checks differ:\n%s\n---\n%s", j1, j2)
	}
	if !strings.Contains(j1, `"status":"untrusted"`) || !strings.Contains(j1, `"store_iat":`) || !strings.Contains(j1, `"resolver":"directory"`) {
		t.Errorf("JSON lacks the documented fields: %s", j1)
	}
}

func waitGone(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there", path)
		}
		<-tick.C
	}
}

func opClaims(t *testing.T, op *natstest.Operator) *jwt.OperatorClaims {
	t.Helper()
	oc, err := jwt.DecodeOperatorClaims(op.JWT)
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

func sourceNames(rep *drift.Report) string {
	var out []string
	for _, s := range rep.Sources {
		out = append(out, s.Name)
	}
	return strings.Join(out, ",")
}

// stripURLs drops what differs between two checks through different servers of one cluster.
func stripURLs(rep *drift.Report) *drift.Report {
	cp := *rep
	cp.Sources = append([]drift.Source(nil), rep.Sources...)
	for i := range cp.Sources {
		cp.Sources[i].URL = ""
	}
	return &cp
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCheckCleanWhenServeKeepsServersCurrent: accounts posted to a signet serve connected to
// the cluster reach both full resolvers; nothing drifts, and the LIST and lookup answers of
// signet serve itself (it is a resolver peer) are not taken for a server's.
func TestCheckCleanWhenServeKeepsServersCurrent(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	servers := natstest.StartCluster(t, 2, op.Trust())
	asURL := startAccountServer(t, op, &accountserver.NATSConfig{
		Servers:         []string{servers[0].ClientURL()},
		UserCredentials: op.SysCredsFile(t),
		ReconnectWait:   50 * time.Millisecond,
		SyncInterval:    time.Hour,
	})
	store := map[string]string{op.SysPub: op.SysJWT}
	postAll(t, asURL, op.SysJWT)
	for i := range 3 {
		_, pub, tok := op.Account(t, fmt.Sprintf("A%d", i))
		store[pub] = tok
		postAll(t, asURL, tok)
	}
	for pub, tok := range store {
		for _, s := range servers {
			waitFile(t, filepath.Join(s.Dir, pub+".jwt"), tok)
		}
	}
	rep, err := drift.Check(context.Background(), drift.Options{
		Operator:      opClaims(t, op),
		Expected:      store,
		Servers:       []string{servers[1].ClientURL()},
		NATSOptions:   []nats.Option{op.SysUserOption()},
		AccountServer: asURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("drift on a synced system: %+v\nsources %+v", rep.Drift(), rep.Sources)
	}
	if len(rep.Entries) != 3*len(store) {
		t.Errorf("%d entries, want %d (every account at S0, S1 and the account server)", len(rep.Entries), 3*len(store))
	}
	if names := sourceNames(rep); names != "S0,S1,"+asURL {
		t.Errorf("sources %s, want S0,S1,%s (signet serve's own LIST answer is not a server)", names, asURL)
	}
}

func waitFile(t *testing.T, path, content string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil && string(b) == content {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not hold the expected JWT", path)
		}
		<-tick.C
	}
}

// TestCheckURLResolverReportsWhatItRuns: a nats-server with the URL resolver does not answer
// LIST; drift reports the accounts it has loaded with the JWT it runs (an account updated on
// the account server without a notification is older there), and does not call the accounts it
// has not loaded yet missing.
func TestCheckURLResolverReportsWhatItRuns(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	asURL := startAccountServer(t, op, nil)
	postAll(t, asURL, op.SysJWT)
	sign := signer{t, op.KP}
	akp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := akp.PublicKey()
	aOld := sign.sign(a, "A")
	b := newAccountKey(t)
	bTok := sign.sign(b, "B")
	postAll(t, asURL, aOld, bTok)
	ns := natstest.StartURL(t, op.Trust(), asURL+"/accounts/")
	ujwt, useed := op.User(t, akp, "u")
	nc, err := nats.Connect(ns.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nextSecond(t, aOld)
	aNew := sign.sign(a, "A", func(ac *jwt.AccountClaims) { ac.Limits.Conn = 9 })
	postAll(t, asURL, aNew) // no NATS link: the server keeps running aOld

	rep, err := drift.Check(context.Background(), drift.Options{
		Operator:      opClaims(t, op),
		Expected:      map[string]string{op.SysPub: op.SysJWT, a: aNew, b: bTok},
		Servers:       []string{ns.ClientURL()},
		NATSOptions:   []nats.Option{op.SysUserOption()},
		AccountServer: asURL,
		Timeout:       500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := statuses(rep)
	want := map[string]drift.Status{
		"SYS @ S": drift.InSync, "A @ S": drift.Older,
		"SYS @ " + asURL: drift.InSync, "A @ " + asURL: drift.InSync, "B @ " + asURL: drift.InSync,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: status %q, want %q", k, got[k], w)
		}
	}
	if s, ok := got["B @ S"]; ok {
		t.Errorf("B, not loaded on the URL-resolver server, reported there as %q", s)
	}
	if rep.Sources[0].Resolver != drift.ResolverLoaded || rep.Sources[0].Error != "" {
		t.Errorf("URL-resolver server source: %+v, want resolver %q and no error", rep.Sources[0], drift.ResolverLoaded)
	}
}

// TestCheckAttributesDifferingJWTs: two full resolvers hold different JWTs for one account (a
// file written into one server's directory behind its back). A lookup answer does not name its
// server, so while the account is loaded nowhere each server's entry is ambiguous; once a user
// of the account connects to S1, S1's accountz tells its JWT and S0's follows by elimination.
func TestCheckAttributesDifferingJWTs(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	servers := natstest.StartCluster(t, 2, op.Trust())
	c, err := remote.Dial(servers[0].ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	akp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := akp.PublicKey()
	sign := signer{t, op.KP}
	v1 := sign.sign(a, "A")
	pushAll(t, c, op.SysJWT, v1)
	nextSecond(t, v1)
	v2 := sign.sign(a, "A", func(ac *jwt.AccountClaims) { ac.Limits.Conn = 3 })
	if err := os.WriteFile(filepath.Join(servers[1].Dir, a+".jwt"), []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func() *drift.Report {
		t.Helper()
		rep, err := drift.Check(context.Background(), drift.Options{
			Operator: opClaims(t, op), Expected: map[string]string{op.SysPub: op.SysJWT, a: v1},
			Servers: []string{servers[0].ClientURL()}, NATSOptions: []nats.Option{op.SysUserOption()},
		})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := check()
	for _, src := range []string{"S0", "S1"} {
		e := find(t, rep, "A", src)
		if e.Status != drift.Ambiguous || !strings.Contains(e.Detail, "2 different JWTs") {
			t.Errorf("A at %s before it is loaded: %q (%s), want ambiguous between 2 JWTs", src, e.Status, e.Detail)
		}
	}

	ujwt, useed := op.User(t, akp, "u")
	nc, err := nats.Connect(servers[1].ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rep = check()
	if got := statuses(rep); got["A @ S0"] != drift.InSync || got["A @ S1"] != drift.Newer {
		t.Errorf("A once loaded on S1: S0 %q, S1 %q; want in-sync and newer", got["A @ S0"], got["A @ S1"])
	}
}
