package accountserver

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
)

// FuzzDeleteRequest signs delete requests built from fuzzed claims with the operator's own key
// (or a stranger's), so the fuzzer reaches past the signature check: whatever the claims, a
// request is admitted only when a trusted key signed it, it names only valid account keys and
// never the system account, it carries an id, and its deadline lies within the replay window;
// and the same request is never admitted twice.
func FuzzDeleteRequest(f *testing.F) {
	op := natstest.NewOperator(f, "O")
	oc, err := jwt.DecodeOperatorClaims(op.JWT)
	if err != nil {
		f.Fatal(err)
	}
	stranger, _ := nkeys.CreateOperator()
	_, pubA, _ := op.Account(f, "A")
	_, pubB, _ := op.Account(f, "B")
	win := int64(DeleteWindow / time.Second)
	for _, c := range []struct {
		accounts    string
		iat, exp    int64
		jti         string
		byStranger  bool
		useOperator bool
	}{
		{`["` + pubA + `"]`, 0, 60, "id1", false, true},
		{`["` + pubA + `","` + pubB + `"]`, 0, 60, "id2", false, true},
		{`["` + pubA + `"]`, -10, 0, "id3", false, true},
		{`["` + pubA + `"]`, 0, -1, "id4", false, true},
		{`["` + pubA + `"]`, 0, win + 10, "id5", false, true},
		{`["` + op.SysPub + `"]`, 0, 60, "id6", false, true},
		{`["not-a-key"]`, 0, 60, "id7", false, true},
		{`[]`, 0, 60, "id8", false, true},
		{`"` + pubA + `"`, 0, 60, "id9", false, true},
		{`["` + pubA + `"]`, 0, 60, "", false, true},
		{`["` + pubA + `"]`, 0, 60, "id10", true, true},
		{`[1, null, {"a":1}]`, 5, 5, "id11", false, true},
	} {
		f.Add(c.accounts, c.iat, c.exp, c.jti, c.byStranger)
	}
	f.Fuzz(func(t *testing.T, accounts string, iatOff, expOff int64, jti string, byStranger bool) {
		var list any
		if err := json.Unmarshal([]byte(accounts), &list); err != nil {
			list = accounts
		}
		signer := op.KP
		if byStranger {
			signer = stranger
		}
		pub, _ := signer.PublicKey()
		gc := jwt.NewGenericClaims(pub)
		now := time.Now()
		if iatOff != 0 {
			gc.IssuedAt = now.Unix() + iatOff%(4*win)
		}
		if expOff != 0 {
			gc.Expires = now.Unix() + expOff%(4*win)
		}
		gc.Data["accounts"] = list
		token, err := gc.Encode(signer)
		if err != nil {
			return
		}
		// Encode stamps iat and a jti of its own; a request carrying the fuzzed ones is
		// signed again over the edited claims, as a hand-made request would be.
		if jti != "" || iatOff != 0 {
			token = resign(t, token, signer, iatOff, jti, now, win)
		}
		req, err := VerifyDeleteRequest(oc, token, now)
		if err != nil {
			return
		}
		got, id, deadline := req.Accounts, req.ID, req.Deadline
		if byStranger {
			t.Fatalf("a request signed by a stranger was admitted: %v", got)
		}
		if id == "" {
			t.Fatal("admitted a request without an id")
		}
		if deadline <= now.Unix()-win || deadline > now.Unix()+2*win {
			t.Fatalf("deadline %d outside the replay window around %d", deadline, now.Unix())
		}
		if len(got) == 0 {
			t.Fatal("admitted a request naming no account")
		}
		for _, a := range got {
			if !nkeys.IsValidPublicAccountKey(a) || a == op.SysPub {
				t.Fatalf("admitted account %q", a)
			}
		}
		g := &deleteGuard{seen: map[string]int64{}}
		if err := g.admit(id, deadline, now); err != nil {
			t.Fatalf("first use refused: %v", err)
		}
		if err := g.admit(id, deadline, now); err == nil {
			t.Fatal("the same request was admitted twice")
		}
	})
}

// resign rewrites a signed generic claims token with the fuzzed iat and jti and signs it again.
func resign(t *testing.T, token string, kp nkeys.KeyPair, iatOff int64, jti string, now time.Time, win int64) string {
	t.Helper()
	gc, err := jwt.DecodeGeneric(token)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	raw, _ := json.Marshal(gc)
	_ = json.Unmarshal(raw, &m)
	if iatOff != 0 {
		m["iat"] = now.Unix() + iatOff%(4*win)
	}
	if jti != "" {
		m["jti"] = jti
	}
	return signRaw(t, m, kp)
}

// signRaw signs claims given as a map, the way jwt/v2 lays a token out.
func signRaw(t *testing.T, claims map[string]any, kp nkeys.KeyPair) string {
	t.Helper()
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"ed25519-nkey"}`))
	raw, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	toSign := header + "." + base64.RawURLEncoding.EncodeToString(raw)
	sig, err := kp.Sign([]byte(toSign))
	if err != nil {
		t.Fatal(err)
	}
	return toSign + "." + base64.RawURLEncoding.EncodeToString(sig)
}
