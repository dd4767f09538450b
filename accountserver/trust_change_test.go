package accountserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
)

// revokes reports whether account JWT tok revokes user.
func revokes(t *testing.T, tok, user string) bool {
	t.Helper()
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	_, ok := ac.Revocations[user]
	return ok
}

// TestDroppedSigningKeyOpensNoRollback: a JWT signed by a signing key that a reload dropped is
// no longer served, but it still counts as the account's latest: an older JWT (signed by a key
// still trusted) is refused over HTTP and skipped by a pack merge, and a reload that trusts the
// key again serves the newer JWT, its revocation in place.
func TestDroppedSigningKeyOpensNoRollback(t *testing.T) {
	t.Parallel()
	sk1, _ := nkeys.CreateOperator()
	sk1Pub, _ := sk1.PublicKey()
	op := natstest.NewOperator(t, "O", func(c *jwt.OperatorClaims) { c.SigningKeys.Add(sk1Pub) })
	cfg := testConfig(t, op)
	s := startServer(t, cfg)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	now := time.Now().Unix()
	v1 := encodeWithIAT(t, jwt.NewAccountClaims(apub), op.KP, now-100) // by the operator's own key
	c2 := jwt.NewAccountClaims(apub)
	c2.Revoke(upub)
	v2 := encodeWithIAT(t, c2, sk1, now-50) // by SK1, revoking the user
	mustPost(t, s, apub, v1)
	mustPost(t, s, apub, v2)

	oc, err := jwt.DecodeOperatorClaims(op.JWT)
	if err != nil {
		t.Fatal(err)
	}
	oc.SigningKeys.Remove(sk1Pub)
	withoutSK1 := cfg
	if withoutSK1.OperatorJWT, err = oc.Encode(op.KP); err != nil {
		t.Fatal(err)
	}
	mustReload(t, s, withoutSK1)
	(&natsPeer{s: s}).onPackReply(&nats.Msg{Data: []byte(apub + "|" + v1)})
	if got, _ := cfg.Backend.Get(apub); got != v2 {
		t.Error("a pack line with the older v1 replaced v2 after SK1 was dropped")
	}
	if code, body := post(t, s, apub, v1); code != http.StatusConflict {
		t.Errorf("POST of the older v1 after SK1 was dropped: %d %s, want 409", code, body)
	}
	mustReload(t, s, cfg)
	if _, served := get(t, accountsURL(s, apub)); served != v2 || !revokes(t, served, upub) {
		t.Error("after a reload that trusts SK1 again, v2 (with its revocation) is not what is served")
	}
}

// TestSigningKeyRotationOpensNoSelfSignedReplay: in signing mode, after a reload replaces the
// server's signing key (so the stored re-signed JWT is no longer served), a self-signed JWT
// older than the account's last one is still refused.
func TestSigningKeyRotationOpensNoSelfSignedReplay(t *testing.T) {
	t.Parallel()
	cfg, okp, sk1Pub := signingModeConfig(t, SigningConfig{})
	s := startServer(t, cfg)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	now := time.Now().Unix()
	v1 := encodeWithIAT(t, jwt.NewAccountClaims(apub), akp, now-100)
	c2 := jwt.NewAccountClaims(apub)
	c2.Revoke(upub)
	v2 := encodeWithIAT(t, c2, akp, now-50)
	mustPost(t, s, apub, v1)
	mustPost(t, s, apub, v2)

	sk2, _ := nkeys.CreateOperator()
	sk2Pub, _ := sk2.PublicKey()
	oc, err := jwt.DecodeOperatorClaims(cfg.OperatorJWT)
	if err != nil {
		t.Fatal(err)
	}
	oc.SigningKeys.Remove(sk1Pub)
	oc.SigningKeys.Add(sk2Pub)
	rotated := cfg
	if rotated.OperatorJWT, err = oc.Encode(okp); err != nil {
		t.Fatal(err)
	}
	seed, _ := sk2.Seed()
	rotated.Signing.Key = filepath.Join(t.TempDir(), "sk2.nk")
	if err := os.WriteFile(rotated.Signing.Key, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	mustReload(t, s, rotated)
	if code, body := post(t, s, apub, v1); code != http.StatusConflict {
		t.Errorf("the older self-signed v1 after the signing key's rotation: %d %s, want 409", code, body)
	}
	// A newer self-signed JWT is signed with the new key and served.
	mustPost(t, s, apub, encodeWithIAT(t, c2, akp, now-40))
	_, served := get(t, accountsURL(s, apub))
	ac, err := jwt.DecodeAccountClaims(served)
	if err != nil || ac.Issuer != sk2Pub || !revokes(t, served, upub) {
		t.Fatalf("after a newer self-signed update: served %v (err %v), want it signed by the new key with the revocation", ac, err)
	}
}

// TestFileOfAnOperatorNoLongerTrustedIsServedAgainOnceTrusted: a directory store restarted
// under another operator keeps the old operator's file in its index after reading it (a GET
// answers 404), and serves it again after a reload that trusts its operator.
func TestFileOfAnOperatorNoLongerTrustedIsServedAgainOnceTrusted(t *testing.T) {
	t.Parallel()
	o1 := natstest.NewOperator(t, "O1")
	o2 := natstest.NewOperator(t, "O2")
	cfg := dirConfig(t, o1)
	s, stop := runServer(t, cfg)
	_, a, aTok := o1.Account(t, "A")
	mustPost(t, s, a, aTok)
	stop()
	s, _ = runServer(t, trustingConfig(t, cfg, o2))
	wantServed(t, s, a, "", "a restart trusting O2")
	mustReload(t, s, cfg)
	wantServed(t, s, a, aTok, "a reload back to O1")
}

// TestReSigningWaitsOutsideTheKeyLock: in signing mode a self-signed update that must wait for
// the server's clock (its re-signed JWT needs a second after the stored one) does not hold the
// key lock it shares with other accounts while it waits: an update of another account on the
// same lock is answered while it still waits.
func TestReSigningWaitsOutsideTheKeyLock(t *testing.T) {
	t.Parallel()
	cfg, okp, _ := signingModeConfig(t, SigningConfig{})
	s := startServer(t, cfg)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	var bpub string
	for bpub == "" || s.lockKey(bpub) != s.lockKey(apub) {
		kp, _ := nkeys.CreateAccount()
		bpub, _ = kp.PublicKey()
	}
	// The stored JWT is issued 3 s ahead of the server's clock: a self-signed update waits
	// about 3 s for its re-signed JWT to follow it.
	ahead := time.Now().Unix() + 3
	stored := encodeWithIAT(t, jwt.NewAccountClaims(apub), okp, ahead)
	mustPost(t, s, apub, stored)
	update := encodeWithIAT(t, jwt.NewAccountClaims(apub), akp, ahead+1)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post(accountsURL(s, apub), "application/jwt", strings.NewReader(update))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	// B's update, once A's has had time to start waiting.
	time.Sleep(200 * time.Millisecond)
	bTok, err := jwt.NewAccountClaims(bpub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	mustPost(t, s, bpub, bTok)
	// B is answered while A still waits: A's update is not stored yet (had B waited for A's
	// lock, it would be).
	if got, _ := cfg.Backend.Get(apub); got != stored {
		t.Fatal("B's update was answered only after A's: A waited for the clock holding the key lock B needs (or did not wait)")
	}
	if code := <-done; code != http.StatusOK {
		t.Fatalf("A's self-signed update after its wait: %d, want 200", code)
	}
}

// TestSelfSignedRecordOfAnotherJWTDoesNotLowerTheBar: the signing-mode record of an account's
// last self-signed iat counts only for the very JWT it was written with. A record naming another
// JWT (a replica whose write lost the compare-and-set to another's wrote it) leaves the stored
// JWT's own iat as the bar, so a self-signed JWT of before that is refused.
func TestSelfSignedRecordOfAnotherJWTDoesNotLowerTheBar(t *testing.T) {
	t.Parallel()
	cfg, _, _ := signingModeConfig(t, SigningConfig{})
	s := startServer(t, cfg)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	now := time.Now().Unix()
	mustPost(t, s, apub, encodeWithIAT(t, jwt.NewAccountClaims(apub), akp, now-50))
	stored, err := cfg.Backend.Get(apub)
	if err != nil {
		t.Fatal(err)
	}
	// The lost replica's record: its own self-signed iat (older) and its own re-signed JWT.
	lost := selfSigned{self: now - 100, stored: stored + "x"}
	if err := s.commitUpdate(apub, stored, 0, lost); err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, s, apub, encodeWithIAT(t, jwt.NewAccountClaims(apub), akp, now-80)); code != http.StatusConflict {
		t.Errorf("a self-signed JWT older than the stored one's, with another JWT's record: %d %s, want 409", code, body)
	}
}
