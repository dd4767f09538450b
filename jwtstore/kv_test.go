package jwtstore_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

func connectTo(t *testing.T, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func openKV(t *testing.T, nc *nats.Conn, opts jwtstore.KVOptions) *jwtstore.KV {
	t.Helper()
	k, err := jwtstore.OpenKV(nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKVReplicasSeeEachOthersWritesAndRefuseStaleRevisions(t *testing.T) {
	js := natstest.StartJetStreamCluster(t, 3)
	op := natstest.NewOperator(t, "OP")
	a := openKV(t, connectTo(t, js[0]), jwtstore.KVOptions{Replicas: 3})
	b := openKV(t, connectTo(t, js[2]), jwtstore.KVOptions{Replicas: 3})

	_, pub, v1 := op.Account(t, "A")
	if err := a.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: v1}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b serves a's write", func() bool { got, _ := b.Get(pub); return got == v1 })

	// b decides on "absent" (revision 0) although a wrote first: refused, nothing changes.
	_, _, other := op.Account(t, "A-other")
	err := b.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: other, Revision: 0}}})
	if !errors.Is(err, jwtstore.ErrConflict) {
		t.Fatalf("create over an existing account: %v, want ErrConflict", err)
	}
	e1, err := b.Entry(pub)
	if err != nil || e1.Revision == 0 {
		t.Fatalf("entry %+v, %v", e1, err)
	}
	if err := a.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: v1 + "x", Revision: e1.Revision}}}); err != nil {
		t.Fatal(err)
	}
	// b still writes on e1's revision: the bucket moved on, so it is refused.
	err = b.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: other, Revision: e1.Revision}}})
	if !errors.Is(err, jwtstore.ErrConflict) {
		t.Fatalf("write on a stale revision: %v, want ErrConflict", err)
	}
	fresh, err := b.Refresh(pub)
	if err != nil || fresh.JWT != v1+"x" || fresh.Revision <= e1.Revision {
		t.Fatalf("refresh: %+v, %v", fresh, err)
	}
	for _, k := range []*jwtstore.KV{a, b} {
		if got, _ := k.Get(pub); got != v1+"x" {
			t.Fatalf("a replica serves %q", got)
		}
	}
	ha, _ := a.Hash()
	eventually(t, "hashes agree", func() bool { hb, _ := b.Hash(); return ha == hb })

	if err := b.Commit(jwtstore.Batch{Deletes: []string{pub}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a sees the delete", func() bool { _, err := a.Get(pub); return errors.Is(err, jwtstore.ErrNotFound) })
	// Created again after the delete, from the revision the copy knows.
	e, err := a.Entry(pub)
	if !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("entry after delete: %v", err)
	}
	if err := a.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: v1, Revision: e.Revision}}}); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
}

func TestKVRecordIsCreatedOnceAcrossReplicas(t *testing.T) {
	js := natstest.StartJetStream(t)
	a := openKV(t, connectTo(t, js), jwtstore.KVOptions{})
	b := openKV(t, connectTo(t, js), jwtstore.KVOptions{})
	rec := jwtstore.Record{Area: ".deletes", Name: "abc123", Data: []byte("1700000000")}
	if err := a.Commit(jwtstore.Batch{Records: []jwtstore.Record{rec}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(jwtstore.Batch{Records: []jwtstore.Record{rec}}); !errors.Is(err, jwtstore.ErrRecordExists) {
		t.Fatalf("second create: %v, want ErrRecordExists", err)
	}
	eventually(t, "b lists the record", func() bool {
		recs, _ := b.Records(".deletes")
		return len(recs) == 1 && string(recs[0].Data) == "1700000000"
	})
	if err := b.RemoveRecord(".deletes", "abc123"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a forgets the record", func() bool { recs, _ := a.Records(".deletes"); return len(recs) == 0 })
}

func TestKVHandsEachChangeToOneReplicaAndAnotherWhenItLeaves(t *testing.T) {
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	opts := jwtstore.KVOptions{AckWait: time.Second}
	writer := openKV(t, connectTo(t, js), opts)

	var mu sync.Mutex
	got := map[string]int{}
	collect := func(who string, keep bool, k **jwtstore.KV) func(jwtstore.Record) {
		return func(r jwtstore.Record) {
			mu.Lock()
			got[r.Name]++
			mu.Unlock()
			if !keep {
				go (*k).RemoveRecord(r.Area, r.Name)
			}
		}
	}
	var r1, r2 *jwtstore.KV
	r1 = openKV(t, connectTo(t, js), opts)
	r2 = openKV(t, connectTo(t, js), opts)
	if err := r1.Announce(collect("r1", false, &r1)); err != nil {
		t.Fatal(err)
	}
	if err := r2.Announce(collect("r2", false, &r2)); err != nil {
		t.Fatal(err)
	}
	accounts := op.Accounts(t, 20)
	for pub, tok := range accounts {
		if err := writer.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: tok}}}); err != nil {
			t.Fatal(err)
		}
	}
	del := jwtstore.Record{Area: ".outbox", Name: "delete-0a1b", Data: []byte("token")}
	if err := writer.Commit(jwtstore.Batch{Records: []jwtstore.Record{del}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every change handed out", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 21
	})
	time.Sleep(2500 * time.Millisecond) // past AckWait: nothing may come a second time
	mu.Lock()
	for name, n := range got {
		if n != 1 {
			t.Errorf("%s handed out %d times, want once", name, n)
		}
	}
	mu.Unlock()
	if recs, _ := writer.Records(".outbox"); len(recs) != 0 {
		t.Fatalf("the writer holds %d changes it was never handed", len(recs))
	}

	// A replica that holds a change and goes away without finishing: another one gets it.
	r1.Close()
	r2.Close()
	var held []jwtstore.Record
	var hmu sync.Mutex
	var keeper *jwtstore.KV
	keeper = openKV(t, connectTo(t, js), opts)
	if err := keeper.Announce(func(r jwtstore.Record) { hmu.Lock(); held = append(held, r); hmu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	_, pub, tok := op.Account(t, "late")
	if err := writer.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: tok}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the keeper holds the change", func() bool { hmu.Lock(); defer hmu.Unlock(); return len(held) == 1 })
	recs, _ := keeper.Records(".outbox")
	if len(recs) != 1 || recs[0].Name != pub {
		t.Fatalf("keeper's outbox: %+v", recs)
	}
	time.Sleep(2 * time.Second) // kept alive past AckWait: not handed to anyone else
	successor := openKV(t, connectTo(t, js), opts)
	var again []string
	var amu sync.Mutex
	if err := successor.Announce(func(r jwtstore.Record) { amu.Lock(); again = append(again, r.Name); amu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	amu.Lock()
	if len(again) != 0 {
		t.Fatalf("a change held by a live replica was handed to another: %v", again)
	}
	amu.Unlock()
	keeper.Close() // gives it back
	eventually(t, "the successor gets the change the keeper left", func() bool {
		amu.Lock()
		defer amu.Unlock()
		return len(again) == 1 && again[0] == pub
	})
}

func TestKVHistoryKeepsRevisionsAndAcceptFiltersWhatIsServed(t *testing.T) {
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	nc := connectTo(t, js)
	_, pub, tok := op.Account(t, "A")
	w := openKV(t, nc, jwtstore.KVOptions{History: 5})
	for i := 0; i < 7; i++ {
		if err := w.Put(pub, fmt.Sprintf("%s-%d", tok, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Delete(pub); err != nil {
		t.Fatal(err)
	}
	h, err := w.History(pub)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 5 || !h[4].Deleted || h[3].JWT != tok+"-6" || h[0].JWT != tok+"-3" {
		t.Fatalf("history: %+v", h)
	}
	if _, err := w.History("ADOESNOTEXIST"); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("history of an absent account: %v", err)
	}

	var refused []string
	var mu sync.Mutex
	strict := openKV(t, nc, jwtstore.KVOptions{
		Accept: func(pub, jwt string) error {
			if strings.HasSuffix(jwt, "-bad") {
				return errors.New("not trusted")
			}
			return nil
		},
		OnError: func(err error) { mu.Lock(); refused = append(refused, err.Error()); mu.Unlock() },
	})
	if err := w.Put(pub, tok+"-bad"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refused jwt is reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(refused) == 1 })
	if _, err := strict.Get(pub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("a refused jwt is served: %v", err)
	}
	if got, _ := w.Get(pub); got != tok+"-bad" {
		t.Fatalf("the store without Accept serves %q", got)
	}
}

// TestKVRangesAndCountsByIssuerFromItsCopy: a KV store ranges over and counts the JWTs of the
// issuers keep accepts from its local copy, each with its entry, none left unread.
func TestKVRangesAndCountsByIssuerFromItsCopy(t *testing.T) {
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	other := natstest.NewOperator(t, "OTHER")
	k := openKV(t, connectTo(t, js), jwtstore.KVOptions{})
	_, a, aTok := op.Account(t, "A")
	_, b, bTok := other.Account(t, "B")
	for pub, tok := range map[string]string{a: aTok, b: bTok} {
		if err := k.Put(pub, tok); err != nil {
			t.Fatal(err)
		}
	}
	opOnly := func(iss string) bool { return iss == op.Pub }
	got := map[string]jwtstore.Entry{}
	if err := k.RangeIssuedBy(opOnly, func(pub string, e jwtstore.Entry) bool { got[pub] = e; return true }); err != nil {
		t.Fatal(err)
	}
	e := got[a]
	e.Revision = 0 // the copy's; a writer takes it from Entry
	if len(got) != 1 || e != jwtstore.NewEntry(aTok) {
		t.Fatalf("ranged over %d accounts (A with its entry: %v), want only A", len(got), e == jwtstore.NewEntry(aTok))
	}
	if n, unread := k.LenIssuedBy(opOnly); n != 1 || unread != 0 {
		t.Fatalf("LenIssuedBy(OP) = %d, %d unread; want 1, 0", n, unread)
	}
}
