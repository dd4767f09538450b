package remote

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/signet-dev/signet/internal/natstest"
)

// dialSys connects to s as a fresh short-lived system user signed by the system account key.
func dialSys(t testing.TB, s *natstest.Server, op *natstest.Operator) *Client {
	t.Helper()
	ujwt, useed, err := SystemUser(op.SysKP, op.SysPub, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(s.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func jwtList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// dirAccounts lists the accounts in a resolver directory.
func dirAccounts(t testing.TB, dir string) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range ents {
		if pub, ok := strings.CutSuffix(e.Name(), ".jwt"); ok {
			got[pub] = true
		}
	}
	return got
}

func TestPushListPackDeleteCluster(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	servers := natstest.StartCluster(t, 3, op.Trust())
	accounts := op.Accounts(t, 1000)
	c := dialSys(t, servers[1], op)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	found, err := c.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 3 {
		t.Fatalf("Servers found %d servers, want 3: %+v", len(found), found)
	}

	var calls, last int
	sum, err := c.PushAll(ctx, jwtList(accounts), PushOptions{Progress: func(done, total int) {
		calls++
		if done < last || total != 1000 {
			t.Errorf("progress went %d -> %d of %d", last, done, total)
		}
		last = done
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.Err(); err != nil {
		t.Fatalf("push not OK: %v", err)
	}
	if !sum.Complete || len(sum.Servers) != 3 || last != 1000 || calls == 0 {
		t.Fatalf("summary %+v, progress last %d calls %d", sum, last, calls)
	}
	for _, sv := range sum.Servers {
		if sv.OK != 1000 || sv.Failed != 0 || sv.Missing != 0 {
			t.Errorf("server %s: ok %d failed %d missing %d", sv.Server.Name, sv.OK, sv.Failed, sv.Missing)
		}
	}
	if _, err := json.Marshal(sum); err != nil {
		t.Fatalf("summary does not marshal: %v", err)
	}
	// Every server has every account on disk, with the pushed content.
	for _, s := range servers {
		got := dirAccounts(t, s.Dir)
		for pub, tok := range accounts {
			if !got[pub] {
				t.Fatalf("server %s lacks account %s", s.Name(), pub)
			}
			b, err := os.ReadFile(filepath.Join(s.Dir, pub+".jwt"))
			if err != nil || string(b) != tok {
				t.Fatalf("server %s has other content for %s: %v", s.Name(), pub, err)
			}
		}
	}

	lr, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lr.Servers) != 3 || len(lr.Unanswered) != 0 {
		t.Fatalf("list answered by %d servers, unanswered %v", len(lr.Servers), lr.Unanswered)
	}
	union := lr.Union()
	if len(union) != 1001 { // + the system account
		t.Fatalf("list union has %d accounts, want 1001", len(union))
	}

	pack, err := c.Pack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for pub, tok := range accounts {
		if pack[pub] != tok {
			t.Fatalf("pack lacks or changed account %s", pub)
		}
	}
	if pack[op.SysPub] == "" {
		t.Fatal("pack lacks the system account")
	}

	var victim string
	for pub := range accounts {
		victim = pub
		break
	}
	dsum, err := c.Delete(ctx, op.KP, []string{victim}, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dsum.Err(); err != nil {
		t.Fatalf("delete not OK: %v", err)
	}
	for _, s := range servers {
		if dirAccounts(t, s.Dir)[victim] {
			t.Fatalf("server %s still has deleted account %s", s.Name(), victim)
		}
	}
	lr, err = c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sa := range lr.Servers {
		if i := sort.SearchStrings(sa.Accounts, victim); i < len(sa.Accounts) && sa.Accounts[i] == victim {
			t.Fatalf("server %s still lists %s", sa.Server.Name, victim)
		}
		if len(sa.Accounts) != 1000 {
			t.Fatalf("server %s lists %d accounts after delete, want 1000", sa.Server.Name, len(sa.Accounts))
		}
	}
}

func TestPushReportsServerThatDoesNotAnswer(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	servers := natstest.StartClusterOf(t, op.Trust(), []natstest.Options{
		{Name: "full", Resolver: natstest.Full},
		{Name: "mem", Resolver: natstest.Memory},
	})
	c := dialSys(t, servers[0], op)
	accounts := op.Accounts(t, 20)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Servers returns as soon as both servers have answered the ping (the default timeout
	// only bounds a missing one).
	found, err := c.Servers(ctx)
	if err != nil || len(found) != 2 {
		t.Fatalf("servers: %+v, %v", found, err)
	}
	// The memory server never answers, so every push waits out the idle timeout. A short one
	// keeps the test quick, but on a loaded machine the full server may pause longer than that
	// between answers; then the push is repeated with a doubled timeout (pushing the same JWTs
	// again is harmless) until the full server's answers all arrive in time.
	var sum Summary
	for idle := 250 * time.Millisecond; ; idle *= 2 {
		sum, err = c.PushAll(ctx, jwtList(accounts), PushOptions{Servers: found, Timeout: idle})
		if err != nil {
			t.Fatal(err)
		}
		if !contains(sum.Unanswered, "full") {
			break
		}
		t.Logf("the full server did not answer every update within %v; retrying with %v", idle, 2*idle)
	}
	if sum.Complete || sum.OK() {
		t.Fatalf("push reported complete although the memory server cannot answer: %+v", sum)
	}
	if len(sum.Unanswered) != 1 || sum.Unanswered[0] != "mem" {
		t.Fatalf("unanswered = %v, want [mem]", sum.Unanswered)
	}
	for _, sv := range sum.Servers {
		switch sv.Server.Name {
		case "full":
			if sv.OK != 20 || sv.Missing != 0 {
				t.Errorf("full: %+v", sv)
			}
		case "mem":
			if sv.OK != 0 || sv.Missing != 20 {
				t.Errorf("mem: %+v", sv)
			}
		}
	}
	if err := sum.Err(); err == nil || !strings.Contains(err.Error(), "mem") {
		t.Fatalf("Err() = %v, want it to name mem", err)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestPushRefusalIsReported(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	s := natstest.StartFull(t, op.Trust())
	c := dialSys(t, s, op)
	_, pub, good := op.Account(t, "good")
	sum, err := c.PushAll(context.Background(), []string{good, "not-a-jwt"}, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Complete || len(sum.Servers) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	sv := sum.Servers[0]
	if sv.OK != 1 || sv.Failed != 1 || len(sv.Failures) != 1 || sv.Failures[0].Message == "" {
		t.Fatalf("server summary %+v", sv)
	}
	if sum.OK() || sum.Err() == nil {
		t.Fatal("a refused update must make the summary not OK")
	}
	if !dirAccounts(t, s.Dir)[pub] {
		t.Fatal("the good account did not arrive")
	}
}

func TestNoResolverIsAnError(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	s := natstest.StartMemory(t, op.Trust(), nil)
	c := dialSys(t, s, op)
	c.Timeout = 2 * time.Second
	_, _, tok := op.Account(t, "A")
	if _, err := c.PushAll(context.Background(), []string{tok}, PushOptions{}); !errors.Is(err, ErrNoResponders) {
		t.Fatalf("push to a memory-resolver server: err = %v, want ErrNoResponders", err)
	}
	if _, err := c.Pack(context.Background()); !errors.Is(err, ErrNoResponders) {
		t.Fatalf("pack from a memory-resolver server: err = %v, want ErrNoResponders", err)
	}
}

func TestCacheResolverAnswersPush(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	s := natstest.StartCache(t, op.Trust())
	c := dialSys(t, s, op)
	_, _, tok := op.Account(t, "A")
	sum, err := c.PushAll(context.Background(), []string{tok}, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Complete || sum.Servers[0].OK != 1 {
		t.Fatalf("cache resolver answer not counted: %+v", sum)
	}
}

func TestSystemUserWithSigningKey(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	sk, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	skPub, _ := sk.PublicKey()
	sysJWT := resignSys(t, op, skPub)
	tr := op.Trust()
	tr.SystemAccountJWT = sysJWT
	s := natstest.StartFull(t, tr)
	ujwt, useed, err := SystemUser(sk, op.SysPub, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(s.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatalf("user signed by the system account's signing key cannot connect: %v", err)
	}
	defer c.Close()
	if _, err := c.Servers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := SystemUser(sk, "not-a-key", time.Minute); err == nil {
		t.Fatal("SystemUser accepted a bad account key")
	}
	okp, _ := nkeys.CreateOperator()
	if _, _, err := SystemUser(okp, op.SysPub, time.Minute); err == nil {
		t.Fatal("SystemUser accepted an operator key as signer")
	}
}

// resignSys returns the operator's system account JWT with signing key sk added.
func resignSys(t testing.TB, op *natstest.Operator, sk string) string {
	t.Helper()
	ac, err := jwt.DecodeAccountClaims(op.SysJWT)
	if err != nil {
		t.Fatal(err)
	}
	ac.SigningKeys.Add(sk)
	tok, err := ac.Encode(op.KP)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLookup(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	servers := natstest.StartCluster(t, 2, op.Trust())
	c := dialSys(t, servers[0], op)
	c.Timeout = 2 * time.Second
	_, pub, tok := op.Account(t, "A")
	sum, err := c.PushAll(context.Background(), []string{tok}, PushOptions{})
	if err != nil || !sum.OK() {
		t.Fatalf("push: %v %v", err, sum.Err())
	}
	got, err := c.Lookup(context.Background(), pub)
	if err != nil || got != tok {
		t.Fatalf("lookup: %v (same JWT: %v)", err, got == tok)
	}
	_, other, _ := op.Account(t, "B")
	if _, err := c.Lookup(context.Background(), other); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup of an unknown account: %v, want ErrNotFound", err)
	}
}
