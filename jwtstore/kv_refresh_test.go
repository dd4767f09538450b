package jwtstore_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// refreshReplicas opens two replicas of one bucket on one JetStream server: a, the writer, and
// b, whose Refresh is under test, with bTimeout as its Timeout (0: the default). pub is an
// account a wrote and b serves.
func refreshReplicas(t *testing.T, bTimeout time.Duration) (a, b *jwtstore.KV, pub string) {
	t.Helper()
	js := natstest.StartJetStream(t)
	a = openKV(t, connectTo(t, js), jwtstore.KVOptions{})
	b = openKV(t, connectTo(t, js), jwtstore.KVOptions{Timeout: bTimeout})
	_, pub, v1 := natstest.NewOperator(t, "OP").Account(t, "A")
	if err := a.Commit(jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: v1}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b serves a's write", func() bool { got, _ := b.Get(pub); return got == v1 })
	return a, b, pub
}

// deleteWithTombstone deletes pub on k as accountserver's commitDelete does: its tombstone
// record first, the account's delete marker after it, in one batch.
func deleteWithTombstone(t *testing.T, k *jwtstore.KV, pub string, iat int64) {
	t.Helper()
	commitTombstone(t, k, pub, iat, []string{pub})
}

func commitTombstone(t *testing.T, k *jwtstore.KV, pub string, iat int64, deletes []string) {
	t.Helper()
	err := k.Commit(jwtstore.Batch{
		Records: []jwtstore.Record{{Area: ".deleted", Name: pub, Data: []byte(strconv.FormatInt(iat, 10)), Replace: true}},
		Deletes: deletes,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestKVRefreshNeverSkipsRecordsWrittenBeforeIt(t *testing.T) {
	// A short Timeout: a Refresh that waits for the stalled watch gives up soon.
	a, b, pub := refreshReplicas(t, 500*time.Millisecond)
	jwtstore.StallWatch(b)

	deleteWithTombstone(t, a, pub, time.Now().Unix())
	_, err := b.Refresh(pub)
	t.Logf("refresh with the watch stalled: %v", err)
	// ErrNotFound is an answer (the account is deleted), not a refusal: then the copy must hold
	// what the bucket held before the delete marker Refresh read.
	if err == nil || errors.Is(err, jwtstore.ErrNotFound) {
		if _, ok, _ := b.Record(".deleted", pub); !ok {
			t.Fatalf("refresh answered (%v) with b's watch stalled, and b's copy lacks the tombstone written before the delete", err)
		}
	}
	// Whatever Refresh said: a copy without the account but without its tombstone would take a
	// JWT issued before the delete for a new account (a replay).
	if _, err := b.Get(pub); errors.Is(err, jwtstore.ErrNotFound) {
		if _, ok, err := b.Record(".deleted", pub); err != nil || !ok {
			t.Fatalf("b's copy holds the account's deletion but not its tombstone (found %v, %v)", ok, err)
		}
	}
}

func TestKVRefreshAfterADeleteElsewhereHoldsItsTombstone(t *testing.T) {
	a, b, pub := refreshReplicas(t, 0)
	iat := time.Now().Unix()
	deleteWithTombstone(t, a, pub, iat)
	// Straight after the delete: b's watch may not have brought it yet; Refresh waits for it.
	e, err := b.Refresh(pub)
	if !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("refresh after the delete: %+v, %v; want ErrNotFound", e, err)
	}
	if e.Revision == 0 {
		t.Fatal("refresh after the delete: no revision to compare-and-set on")
	}
	data, ok, err := b.Record(".deleted", pub)
	if err != nil || !ok || string(data) != strconv.FormatInt(iat, 10) {
		t.Fatalf("tombstone in b's copy: %q, %v, %v; want %d", data, ok, err, iat)
	}
}

func TestKVRefreshDuringANewWatchNeverSkipsARecord(t *testing.T) {
	a, b, pub := refreshReplicas(t, 0)
	jwtstore.StallWatch(b)
	iat := time.Now().Unix()
	deleteWithTombstone(t, a, pub, iat)
	// A second delete of the account that stopped after its records (a crash): its tombstone
	// replaced the first one, and no delete marker came after it.
	commitTombstone(t, a, pub, iat+1, nil)

	// b watches again. A new watch brings each key's latest value, in stream order: the
	// account's delete marker first, then the tombstone, which replaced the one written before
	// that marker.
	step := jwtstore.StepNewWatch(t, b)
	if key := step(); key != "acc."+pub {
		t.Fatalf("the new watch brought %q first, not the account's delete marker", key)
	}
	type answer struct {
		err       error
		tombstone bool
	}
	answered := make(chan answer, 1)
	go func() {
		_, err := b.Refresh(pub)
		_, ok, _ := b.Record(".deleted", pub)
		answered <- answer{err, ok}
	}()
	check := func(r answer) {
		t.Helper()
		if (r.err == nil || errors.Is(r.err, jwtstore.ErrNotFound)) && !r.tombstone {
			t.Fatalf("refresh answered (%v) while the new watch had brought the account's delete marker but not yet its tombstone, and the copy lacks the tombstone", r.err)
		}
	}
	select {
	case r := <-answered: // before the watch brought every latest value: only with the tombstone
		check(r)
		return
	case <-time.After(300 * time.Millisecond):
	}
	if key := step(); key != "rec.deleted."+pub {
		t.Fatalf("the new watch brought %q second, not the tombstone", key)
	}
	if key := step(); key != "" {
		t.Fatalf("the new watch brought %q, not the mark that every latest value came", key)
	}
	select {
	case r := <-answered:
		check(r)
		if !errors.Is(r.err, jwtstore.ErrNotFound) {
			t.Fatalf("refresh after the watch brought the delete: %v, want ErrNotFound", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("refresh did not answer within 5s of the watch bringing every latest value")
	}
}
