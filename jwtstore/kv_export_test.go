package jwtstore

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StallWatch stops k's watch where it is, as one that lost its consumer does, and leaves k
// otherwise open (its context live), so a test sees what k serves while the bucket moves on
// without it.
func StallWatch(k *KV) {
	k.cancel()
	<-k.watchDone
	k.ctx, k.cancel = context.WithCancel(context.Background())
}

// StepNewWatch starts on k, whose watch StallWatch stopped, a new watch of the bucket, as k
// does after losing one, but hands what it brings to k one entry per call of the function it
// returns, which tells the entry's bucket key ("" for the mark that every latest value came).
func StepNewWatch(t *testing.T, k *KV) func() string {
	t.Helper()
	w, err := k.kv.WatchAll(k.ctx)
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan jetstream.KeyValueEntry)
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.drain(gatedWatch(gate), false)
	}()
	t.Cleanup(func() {
		close(gate)
		<-done
		w.Stop()
	})
	return func() string {
		t.Helper()
		var e jetstream.KeyValueEntry
		select {
		case e = <-w.Updates():
		case <-time.After(5 * time.Second):
			t.Fatal("the new watch brought nothing within 5s")
		}
		select {
		case gate <- e:
		case <-time.After(5 * time.Second):
			t.Fatal("the store took no entry from the new watch within 5s")
		}
		if e == nil {
			return ""
		}
		return e.Key()
	}
}

// gatedWatch is a watch whose entries a test hands on.
type gatedWatch chan jetstream.KeyValueEntry

func (g gatedWatch) Updates() <-chan jetstream.KeyValueEntry { return g }
func (g gatedWatch) Stop() error                             { return nil }
