package accountserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
)

// A delete answers with the number of accounts it removed: an account named twice counts once,
// one the store does not hold counts not at all (and, as with nats-server's full resolver, is no
// error).
func TestDeleteCountsTheAccountsItRemoved(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	s, _ := connectedServer(t, op, ns)
	_, a, aTok := op.Account(t, "A")
	_, b, bTok := op.Account(t, "B")
	mustPost(t, s, a, aTok)
	mustPost(t, s, b, bTok)
	unknown := func() string {
		kp, _ := nkeys.CreateAccount()
		pub, _ := kp.PublicKey()
		return pub
	}

	code, body := request(t, http.MethodDelete, accountsURL(s, a), deleteRequest(t, op.KP, time.Minute, a, a))
	if code != http.StatusOK || strings.TrimSpace(body) != "deleted 1 account" {
		t.Errorf("HTTP delete of [A, A]: %d %q, want 200 \"deleted 1 account\"", code, body)
	}
	c := unknown()
	code, body = request(t, http.MethodDelete, accountsURL(s, c), deleteRequest(t, op.KP, time.Minute, c))
	if code != http.StatusOK || strings.TrimSpace(body) != "deleted 0 accounts" {
		t.Errorf("HTTP delete of an account not stored: %d %q, want 200 \"deleted 0 accounts\"", code, body)
	}

	sys := sysConn(t, ns, op)
	r := signetAnswer(t, sys, "$SYS.REQ.CLAIMS.DELETE", deleteRequest(t, op.KP, time.Minute, b, unknown(), b))
	if r.Data == nil || r.Data.Message != "deleted 1 accounts" {
		t.Errorf("NATS delete of [B, unknown, B]: %s, want \"deleted 1 accounts\"", r.raw)
	}
	if s.Store().Len() != 0 {
		t.Errorf("%d accounts left", s.Store().Len())
	}
}
