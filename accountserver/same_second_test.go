package accountserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
)

// Two different JWTs of one account issued in the same second cannot be ordered: whichever
// arrives second is refused on every ingest path (HTTP, the NATS resolver protocol, a pack
// merge), and the stored one stays.
func TestSameSecondDifferentJWTIsRefusedOnEveryPath(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	s, cfg := connectedServer(t, op, ns)
	_, pub, _ := op.Account(t, "A")
	iat := time.Now().Unix()
	first := jwt.NewAccountClaims(pub)
	first.Name = "A"
	stored := encodeWithIAT(t, first, op.KP, iat)
	mustPost(t, s, pub, stored)
	revoked := jwt.NewAccountClaims(pub)
	revoked.Name = "A"
	revoked.Limits.Conn = 1
	same := encodeWithIAT(t, revoked, op.KP, iat)

	code, body := post(t, s, pub, same)
	if code != http.StatusConflict || !strings.Contains(body, "same second") {
		t.Errorf("HTTP POST of a different JWT of the same second: %d %s", code, body)
	}
	if code, body := post(t, s, pub, stored); code != http.StatusOK {
		t.Errorf("re-POST of the stored JWT itself: %d %s", code, body)
	}

	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	// nats-server answers too; look for signet's answer among the replies.
	inbox := nats.NewInbox()
	replies, err := sys.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.PublishRequest("$SYS.REQ.ACCOUNT."+pub+".CLAIMS.UPDATE", inbox, []byte(same)); err != nil {
		t.Fatal(err)
	}
	refused := false
	for !refused {
		msg, err := replies.NextMsg(5 * time.Second)
		if err != nil {
			t.Errorf("no reply refuses a different JWT of the same second over NATS: %v", err)
			break
		}
		var resp server.ServerAPIClaimUpdateResponse
		if json.Unmarshal(msg.Data, &resp) == nil && resp.Error != nil && strings.Contains(resp.Error.Description, "same second") {
			refused = true
		}
	}
	if got, err := cfg.Backend.Get(pub); err != nil || got != stored {
		t.Errorf("the NATS update replaced the stored JWT (err %v)", err)
	}

	(&natsPeer{s: s}).onPackReply(&nats.Msg{Data: []byte(pub + "|" + same)})
	if got, err := cfg.Backend.Get(pub); err != nil || got != stored {
		t.Errorf("the stored JWT was replaced (err %v, replaced by the same-second one: %t)", err, got == same)
	}
}
