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
