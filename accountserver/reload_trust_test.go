package accountserver

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
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

// trustingConfig is cfg with the trust of op instead (operator and system account); store,
// HTTP and NATS settings stay, as a reload keeps them anyway.
func trustingConfig(t testing.TB, cfg Config, op *natstest.Operator) Config {
	t.Helper()
	next := testConfig(t, op)
	next.HTTP, next.Store, next.NATS, next.Backend = cfg.HTTP, cfg.Store, cfg.NATS, cfg.Backend
	return next
}

func mustReload(t testing.TB, s *Server, cfg Config) {
	t.Helper()
	if err := s.Reload(cfg); err != nil {
		t.Fatal(err)
	}
}

// wantServed fails the test unless GET of pub answers tok (404 when tok is empty).
func wantServed(t testing.TB, s *Server, pub, tok, when string) {
	t.Helper()
	resp, body := get(t, accountsURL(s, pub))
	switch {
	case tok == "" && resp.StatusCode != http.StatusNotFound:
		t.Fatalf("%s: GET %s answered %d (served the jwt: %v), want 404", when, pub, resp.StatusCode, strings.Contains(body, "."))
	case tok != "" && (resp.StatusCode != http.StatusOK || body != tok):
		t.Fatalf("%s: GET %s answered %d, served the expected jwt: %v", when, pub, resp.StatusCode, body == tok)
	}
}

// lookupOverNATS is what a nats-server's cache resolver asks: the answer's JWT, empty for "not
// held".
func lookupOverNATS(t testing.TB, sys *nats.Conn, pub string) string {
	t.Helper()
	msg, err := sys.Request(fmt.Sprintf("$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP", pub), nil, 5*time.Second)
	if err != nil {
		t.Fatalf("lookup %s: %v", pub, err)
	}
	return string(msg.Data)
}

// listOverNATS returns the account keys signet lists on $SYS.REQ.CLAIMS.LIST.
func listOverNATS(t testing.TB, sys *nats.Conn) []string {
	t.Helper()
	msg, err := sys.Request("$SYS.REQ.CLAIMS.LIST", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		t.Fatalf("list answer %q: %v", msg.Data, err)
	}
	return resp.Data
}

// TestReloadToAnotherOperatorStopsServingTheOldOperatorsJWTs: from the moment Reload returns
// with another operator, the JWTs stored under the old one are served nowhere (GET, a
// nats-server's URL resolver, LOOKUP, LIST, the HTTP and NATS packs) nor counted (/healthz,
// /metrics, the CLAIMS.PACK hash); a JWT of the new operator is stored and served, also for an
// account the store holds under the old one; and a reload back to the old operator serves its
// JWTs again.
func TestReloadToAnotherOperatorStopsServingTheOldOperatorsJWTs(t *testing.T) {
	t.Parallel()
	o1 := natstest.NewOperator(t, "O1")
	o2 := natstest.NewOperator(t, "O2")
	s, cfg, ns := urlResolverServer(t, o1)
	sys := sysConn(t, ns, o1)
	base := "http://" + s.HTTPAddr()

	akp, a, aTok := o1.Account(t, "A")
	bkp, b, bTok := o1.Account(t, "B")
	mustPost(t, s, a, aTok)
	mustPost(t, s, b, bTok)
	// The set-up works: the nats-server gets A through its URL resolver, LOOKUP answers B.
	aUser, aSeed := o1.User(t, akp, "u")
	if _, err := userConn(t, ns, aUser, aSeed); err != nil {
		t.Fatalf("before the reload, a user of A cannot connect: %v", err)
	}
	if got := lookupOverNATS(t, sys, b); got != bTok {
		t.Fatalf("before the reload, LOOKUP of B answered %q", got)
	}

	mustReload(t, s, trustingConfig(t, cfg, o2))
	wantServed(t, s, a, "", "after the reload to O2")
	wantServed(t, s, b, "", "after the reload to O2")
	if got := lookupOverNATS(t, sys, b); got != "" {
		t.Fatalf("after the reload to O2, LOOKUP of B answered a jwt (O1's: %v)", got == bTok)
	}
	ujwt, useed := o1.User(t, bkp, "u")
	if _, err := userConn(t, ns, ujwt, useed); err == nil {
		t.Fatal("after the reload to O2, the nats-server got B (signed by O1) through its URL resolver: its user connected")
	}
	if ids := listOverNATS(t, sys); contains(ids, a) || contains(ids, b) {
		t.Fatalf("after the reload to O2, LIST names O1's accounts: %v", ids)
	}
	if _, body := get(t, base+"/jwt/v1/pack"); body != "" {
		t.Fatalf("after the reload to O2, /jwt/v1/pack holds %q", body)
	}
	if lines := packOverNATS(t, sys, make([]byte, 32)); len(lines) != 0 {
		t.Fatalf("after the reload to O2, CLAIMS.PACK sent %d jwts", len(lines))
	}
	if _, body := get(t, base+"/healthz"); !strings.Contains(body, `"accounts":0`) {
		t.Fatalf("after the reload to O2, /healthz counts O1's accounts: %s", body)
	}
	if _, body := get(t, base+"/metrics"); metricValue(body, "signet_store_accounts") != 0 {
		t.Fatalf("after the reload to O2, signet_store_accounts is %v", metricValue(body, "signet_store_accounts"))
	}

	// B signed by O2: one issued before O1's stored JWT is refused (the stored JWT, not served,
	// still counts, or dropping a signing key would let the JWTs it signed be rolled back); one
	// issued later replaces it.
	bc := jwt.NewAccountClaims(b)
	bc.Name = "B"
	if code, body := post(t, s, b, encodeWithIAT(t, bc, o2.KP, time.Now().Unix()-600)); code != 409 {
		t.Fatalf("O2's jwt of B issued before O1's stored one: %d %s, want 409", code, body)
	}
	b2 := encodeWithIAT(t, bc, o2.KP, time.Now().Unix()+2) // after O1's, issued in this second
	mustPost(t, s, b, b2)
	wantServed(t, s, b, b2, "O2's jwt of B posted after the reload")
	if got := lookupOverNATS(t, sys, b); got != b2 {
		t.Fatalf("LOOKUP of B after O2's jwt was posted answered %q", got)
	}
	if lines := packOverNATS(t, sys, make([]byte, 32)); len(lines) != 1 || lines[0] != b+"|"+b2 {
		t.Fatalf("CLAIMS.PACK after O2's jwt was posted sent %d lines, want only B's", len(lines))
	}
	// A full resolver holding just what is served has the same store hash: A, held but not
	// served, is not in it, or the stores would exchange packs at every sync.
	if h := sha256.Sum256([]byte(b2)); len(packOverNATS(t, sys, h[:])) != 0 {
		t.Fatal("CLAIMS.PACK with the hash of what is served: the hashes differ (the store hash counts O1's A)")
	}

	// The store kept A: trusted again, it is served again.
	mustReload(t, s, cfg)
	wantServed(t, s, a, aTok, "after the reload back to O1")
	wantServed(t, s, b, "", "B (now O2's) after the reload back to O1")
	if got := lookupOverNATS(t, sys, a); got != aTok {
		t.Fatalf("after the reload back to O1, LOOKUP of A answered %q", got)
	}
}

// TestUntrustedJWTsStayOnDiskAndAreServedAgainOnceTrusted: a directory store keeps the files of
// an operator a reload stopped trusting (it serves none of them, also after a restart), and
// serves them again after a reload that trusts that operator again.
func TestUntrustedJWTsStayOnDiskAndAreServedAgainOnceTrusted(t *testing.T) {
	t.Parallel()
	o1 := natstest.NewOperator(t, "O1")
	o2 := natstest.NewOperator(t, "O2")
	cfg := dirConfig(t, o1)
	s, stop := runServer(t, cfg)
	_, a, aTok := o1.Account(t, "A")
	mustPost(t, s, a, aTok)
	onDisk := func(when string) {
		t.Helper()
		if data, err := os.ReadFile(filepath.Join(cfg.Store.Dir, a+".jwt")); err != nil || string(data) != aTok {
			t.Fatalf("%s: the file of A holds O1's jwt: %v (%v)", when, string(data) == aTok, err)
		}
	}

	trust2 := trustingConfig(t, cfg, o2)
	mustReload(t, s, trust2)
	wantServed(t, s, a, "", "after the reload to O2")
	onDisk("after the reload to O2")

	mustReload(t, s, cfg)
	wantServed(t, s, a, aTok, "after the reload back to O1")

	mustReload(t, s, trust2)
	stop()
	s, _ = runServer(t, trust2)
	wantServed(t, s, a, "", "after a restart trusting O2")
	onDisk("after a restart trusting O2")
}

// TestReloadStopsServingWhatARemovedSigningKeySigned: the operator's signing keys are part of
// the trust a reload changes. Without its signing key SK1, what SK1 signed is not served; with
// strict signing-key usage, neither is what the operator's identity key signed.
func TestReloadStopsServingWhatARemovedSigningKeySigned(t *testing.T) {
	t.Parallel()
	sk1, _ := nkeys.CreateOperator()
	sk2, _ := nkeys.CreateOperator()
	sk1Pub, _ := sk1.PublicKey()
	sk2Pub, _ := sk2.PublicKey()
	op := natstest.NewOperator(t, "O", func(c *jwt.OperatorClaims) { c.SigningKeys.Add(sk1Pub, sk2Pub) })
	cfg := testConfig(t, op)
	s := startServer(t, cfg)
	signed := func(name string, kp nkeys.KeyPair) (string, string) {
		t.Helper()
		akp, _ := nkeys.CreateAccount()
		pub, _ := akp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		tok, err := ac.Encode(kp)
		if err != nil {
			t.Fatal(err)
		}
		mustPost(t, s, pub, tok)
		return pub, tok
	}
	bySK1, bySK1Tok := signed("by SK1", sk1)
	bySK2, bySK2Tok := signed("by SK2", sk2)
	byOp, byOpTok := signed("by the operator key", op.KP)

	reissued := func(edit func(*jwt.OperatorClaims)) Config {
		t.Helper()
		oc, err := jwt.DecodeOperatorClaims(op.JWT)
		if err != nil {
			t.Fatal(err)
		}
		edit(oc)
		next := cfg
		if next.OperatorJWT, err = oc.Encode(op.KP); err != nil {
			t.Fatal(err)
		}
		return next
	}
	mustReload(t, s, reissued(func(oc *jwt.OperatorClaims) { oc.SigningKeys.Remove(sk1Pub) }))
	wantServed(t, s, bySK1, "", "after a reload without SK1")
	wantServed(t, s, bySK2, bySK2Tok, "after a reload without SK1")
	wantServed(t, s, byOp, byOpTok, "after a reload without SK1")

	strict := reissued(func(oc *jwt.OperatorClaims) { oc.StrictSigningKeyUsage = true })
	strict.SystemAccountJWTPath = "" // signed by the identity key, which strict usage refuses
	mustReload(t, s, strict)
	wantServed(t, s, byOp, "", "after a reload to strict signing-key usage")
	wantServed(t, s, bySK1, bySK1Tok, "after a reload to strict signing-key usage (SK1 is back)")
}

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
	_, apub := accountKeys(t)
	upub := userKey(t)
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
	akp, apub := accountKeys(t)
	upub := userKey(t)
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
	akp, apub := accountKeys(t)
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
	akp, apub := accountKeys(t)
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
