package accountserver

import (
	"strconv"
	"testing"
	"time"
)

// TestUnansweredAnnouncementsAreResentLessAndLessOften: an announcement no nats-server answers
// is made again after 5 s, then after 10 s, 20 s ... up to 5 min 20 s; an answer, a new change
// of the account or a new connection brings the wait back to 5 s.
func TestUnansweredAnnouncementsAreResentLessAndLessOften(t *testing.T) {
	t.Parallel()
	p := &natsPeer{s: &Server{log: testLogger(t)}, pending: map[string]struct{}{}, inflight: map[string]sentNote{},
		bySeq: map[uint64]string{}, unanswered: map[string]int{}, deletes: map[string]*fwdDelete{}}
	const pub = "ACCOUNT"
	t0 := time.Unix(1_000_000, 0)
	send := func(at time.Time) {
		delete(p.pending, pub)
		seq := uint64(at.UnixNano())
		p.inflight[pub] = sentNote{seq: seq, at: at, settled: true}
		p.bySeq[seq] = pub
	}
	resentAfter := func(at time.Time) time.Duration {
		t.Helper()
		send(at)
		for d := time.Second; d <= 10*time.Minute; d += time.Second {
			p.resendStale(at.Add(d))
			if _, ok := p.pending[pub]; ok {
				return d
			}
		}
		t.Fatal("never resent")
		return 0
	}
	at := t0
	for _, want := range []time.Duration{5, 10, 20, 40, 80, 160, 320, 320} {
		got := resentAfter(at)
		if got != want*time.Second {
			t.Fatalf("resent after %v, want %v", got, want*time.Second)
		}
		at = at.Add(got)
	}
	// An answer resets it.
	send(at)
	p.confirm("_INBOX.x." + strconv.FormatUint(uint64(at.UnixNano()), 10))
	if got := resentAfter(at); got != 5*time.Second {
		t.Errorf("after an answer: resent after %v, want 5s", got)
	}
	// So does a new change of the account.
	resentAfter(at)
	p.enqueue(pub)
	if got := resentAfter(at); got != 5*time.Second {
		t.Errorf("after a new change: resent after %v, want 5s", got)
	}
}
