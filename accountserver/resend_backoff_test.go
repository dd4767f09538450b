package accountserver

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/signet-dev/signet/internal/natstest"
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

// TestOnlyANatsServersAnswerConfirmsAnAnnouncement: an announcement is confirmed (its outbox
// entry may go) by a nats-server's answer, the one a real nats-server gives on the subject signet
// announces on, and not by the answer of a nats-account-server or of another signet serve
// listening on the same subject: neither applies the change to a running account.
func TestOnlyANatsServersAnswerConfirmsAnAnnouncement(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	_, pub, tok := op.Account(t, "A")
	real, err := sys.Request(fmt.Sprintf(subjUpdateOld, pub), []byte(tok), 5*time.Second)
	if err != nil {
		t.Fatalf("a nats-server did not answer an update on %s: %v", subjUpdateOld, err)
	}
	// nats-account-server's answer (server/core/nats.go respondToUpdate): no server id.
	nas := fmt.Sprintf(`{"server":{"name":"nats-account-server","host":"h","ver":"1.0.0","seq":1,"id":"","time":"2026-01-02T03:04:05Z"},"data":{"code":200,"account":%q,"message":"Updated jwt"}}`, pub)
	other := &natsPeer{info: server.ServerInfo{Name: "replica", Host: "signet", ID: "SIGNET" + nuid.Next(), Version: "signet"}}
	signet, err := json.Marshal(server.ServerAPIClaimUpdateResponse{Server: other.serverInfo(),
		Data: &server.ClaimUpdateStatus{Account: pub, Code: 200, Message: "jwt updated"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from    string
		answer  []byte
		confirm bool
	}{
		{"nats-server", real.Data, true},
		{"nats-account-server", []byte(nas), false},
		{"another signet serve", signet, false},
	} {
		s := &Server{log: testLogger(t)}
		s.metrics = newMetrics(s)
		p := &natsPeer{s: s, pending: map[string]struct{}{}, inflight: map[string]sentNote{},
			bySeq: map[uint64]string{}, unanswered: map[string]int{}, deletes: map[string]*fwdDelete{}}
		p.inflight[pub] = sentNote{seq: 7, at: time.Now(), settled: true}
		p.bySeq[7] = pub
		p.onNotifyReply(&nats.Msg{Subject: "_INBOX.x.7", Data: c.answer})
		_, waiting := p.inflight[pub]
		if confirmed := !waiting && slices.Contains(p.confirmed, pub); confirmed != c.confirm {
			t.Errorf("answer from %s: confirmed %v, want %v (%s)", c.from, confirmed, c.confirm, c.answer)
		}
	}
}
