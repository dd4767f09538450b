package spec

import (
	"fmt"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// benchSpec is n accounts with 10 exports each; every account but the first imports a stream of
// the one before it.
func benchSpec(n int) *Spec {
	sp := &Spec{Accounts: map[string]*Account{}}
	for i := range n {
		a := &Account{Limits: &Limits{Conns: i64(int64(100 + i))}}
		for j := range 10 {
			a.Exports = append(a.Exports, Export{Subject: fmt.Sprintf("acc%d.e%d.>", i, j), Type: "stream"})
		}
		if i > 0 {
			a.Imports = []Import{{Account: fmt.Sprintf("A%04d", i-1), Subject: fmt.Sprintf("acc%d.e0.>", i-1), LocalSubject: fmt.Sprintf("from%d.>", i-1)}}
		}
		sp.Accounts[fmt.Sprintf("A%04d", i)] = a
	}
	return sp
}

func newBenchStore(b *testing.B) (*store.Store, keystore.KeyStore) {
	b.Helper()
	dir := b.TempDir()
	ks := keystore.KeyStore{Dir: dir + "/keys"}
	kp, _ := nkeys.CreateOperator()
	pub, _ := kp.PublicKey()
	oc := jwt.NewOperatorClaims(pub)
	oc.Name = "BENCH"
	tok, err := oc.Encode(kp)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ks.Store(kp); err != nil {
		b.Fatal(err)
	}
	s, err := store.Stores{Dir: dir + "/stores"}.Create("BENCH", tok, false)
	if err != nil {
		b.Fatal(err)
	}
	return s, ks
}

func apply(b *testing.B, s *store.Store, ks keystore.KeyStore, l *Loaded) *Result {
	b.Helper()
	p, err := MakePlan(s, l, Options{})
	if err != nil {
		b.Fatal(err)
	}
	res, err := Apply(s, ks, p)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkPlan1000Accounts: plan of 1,000 accounts with 10 exports each against a store that
// already matches (the CI check of a repository).
func BenchmarkPlan1000Accounts(b *testing.B) {
	l, err := FromSpec(benchSpec(1000))
	if err != nil {
		b.Fatal(err)
	}
	s, ks := newBenchStore(b)
	apply(b, s, ks, l)
	for b.Loop() {
		p, err := MakePlan(s, l, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if p.Pending() {
			b.Fatalf("plan after apply has changes: %+v", p.Changes[0])
		}
	}
}

// BenchmarkApplyNoop1000Accounts: apply of the same spec a second time: a plan, then nothing
// signed or written.
func BenchmarkApplyNoop1000Accounts(b *testing.B) {
	l, err := FromSpec(benchSpec(1000))
	if err != nil {
		b.Fatal(err)
	}
	s, ks := newBenchStore(b)
	apply(b, s, ks, l)
	for b.Loop() {
		if res := apply(b, s, ks, l); len(res.Accounts) != 0 {
			b.Fatalf("no-op apply wrote %d accounts", len(res.Accounts))
		}
	}
}

// BenchmarkApplyCreate1000Accounts: the first apply to an empty operator: 1,000 account keys,
// 1,000 signed account JWTs written to the store.
func BenchmarkApplyCreate1000Accounts(b *testing.B) {
	l, err := FromSpec(benchSpec(1000))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		s, ks := newBenchStore(b)
		b.StartTimer()
		if res := apply(b, s, ks, l); len(res.Accounts) != 1000 {
			b.Fatalf("apply wrote %d accounts, want 1000", len(res.Accounts))
		}
	}
}
