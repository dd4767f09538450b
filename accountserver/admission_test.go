package accountserver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
)

// TestJWTsNoServerCouldUseAreNotStored: an account JWT that has expired, that is not valid yet,
// whose iat is further ahead of the server's clock than MaxClockSkew, or with a subject mapping
// nats-server cannot install (its full resolver refuses the JWT) is refused, over HTTP
// (400, as nats-account-server refused the first two) and over NATS ($SYS.REQ.CLAIMS.UPDATE
// answered with an error), and the account keeps its JWT: a nats-server still admits its user.
func TestJWTsNoServerCouldUseAreNotStored(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	port := freePort(t)
	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", port))
	s := startServer(t, cfg)
	ns := natstest.Start(t, op.Trust(), natstest.Options{Resolver: natstest.URL, URL: s.ResolverURL(), Extra: listenExtra(port)})
	waitConnected(t, s)
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()

	akp, pub, good := op.Account(t, "A")
	mustPost(t, s, pub, good)
	now := time.Now()
	claims := func(edit func(*jwt.AccountClaims)) *jwt.AccountClaims {
		ac := jwt.NewAccountClaims(pub)
		ac.Name = "A"
		edit(ac)
		return ac
	}
	bad := map[string]string{
		"expired": encodeWithIAT(t, claims(func(ac *jwt.AccountClaims) { ac.Expires = now.Add(-time.Minute).Unix() }),
			op.KP, now.Unix()+2),
		"not valid yet": encodeWithIAT(t, claims(func(ac *jwt.AccountClaims) { ac.NotBefore = now.Add(time.Hour).Unix() }),
			op.KP, now.Unix()+2),
		"issued an hour ahead": encodeWithIAT(t, claims(func(*jwt.AccountClaims) {}), op.KP, now.Add(time.Hour).Unix()),
		"with a mapping nats-server cannot install": encodeWithIAT(t, claims(func(ac *jwt.AccountClaims) {
			ac.Mappings = jwt.Mapping{"foo.*": {{Subject: "bar.{{wildcard(5)}}"}}}
		}), op.KP, now.Unix()+2),
	}
	// What nats-server itself does with the last one: its full resolver refuses it.
	full := natstest.StartFull(t, op.Trust())
	fsys, err := nats.Connect(full.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if msg, err := fsys.Request(subjClaims, []byte(bad["with a mapping nats-server cannot install"]), 5*time.Second); err != nil ||
		!strings.Contains(string(msg.Data), "wildcard index out of range") {
		t.Fatalf("a full resolver answered the unusable mapping with %v %v, want a refusal", msg, err)
	}
	for what, tok := range bad {
		if code, body := post(t, s, pub, tok); code != 400 {
			t.Errorf("POST of a JWT %s: %d %s, want 400", what, code, body)
		}
		msg, err := sys.Request(subjClaims, []byte(tok), 5*time.Second)
		if err != nil {
			t.Fatalf("CLAIMS.UPDATE of a JWT %s: %v", what, err)
		}
		var resp server.ServerAPIClaimUpdateResponse
		if err := json.Unmarshal(msg.Data, &resp); err != nil || resp.Error == nil {
			t.Errorf("CLAIMS.UPDATE of a JWT %s answered %s, want an error", what, msg.Data)
		}
		if got, _ := cfg.Backend.Get(pub); got != good {
			t.Fatalf("a JWT %s replaced the account's", what)
		}
	}
	if code, body := post(t, s, pub, bad["issued an hour ahead"]); !strings.Contains(body, "clock") {
		t.Errorf("far-ahead iat: %d %q does not say the clock is the matter", code, body)
	}
	// Within the allowed skew, a newer JWT is taken.
	newer := encodeWithIAT(t, claims(func(*jwt.AccountClaims) {}), op.KP, now.Unix()+3)
	mustPost(t, s, pub, newer)
	ujwt, useed := op.User(t, akp, "u")
	nc, err := nats.Connect(ns.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatalf("the account's user was refused after the refused updates: %v", err)
	}
	nc.Close()
}

// TestSigningModeRefusesAnOlderSelfSignedJWT: in signing mode a self-signed JWT is re-signed
// with the time of signing, so its own iat decides: one not newer than the stored JWT (a
// captured earlier version sent again) is refused with 409 and changes nothing; a newer one is
// signed and stored; after a delete, a self-signed JWT of before it does not bring the account
// back.
func TestSigningModeRefusesAnOlderSelfSignedJWT(t *testing.T) {
	t.Parallel()
	cfg, okp, _ := signingModeConfig(t, SigningConfig{})
	s := startServer(t, cfg)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	version := func(name string, iat int64) string {
		ac := jwt.NewAccountClaims(apub)
		ac.Name = name
		return encodeWithIAT(t, ac, akp, iat)
	}
	now := time.Now().Unix()
	captured := version("before", now-10_000)
	mustPost(t, s, apub, version("current", now))
	stored, _ := cfg.Backend.Get(apub)
	// Sent again a second later, so that it would be signed in a second of its own.
	time.Sleep(time.Until(time.Unix(now+1, 0)))
	if code, body := post(t, s, apub, captured); code != 409 {
		t.Errorf("an older self-signed JWT: %d %s, want 409", code, body)
	}
	if got, _ := cfg.Backend.Get(apub); got != stored {
		t.Fatal("an older self-signed JWT replaced the stored one")
	}
	next := version("next", now+2)
	mustPost(t, s, apub, next)
	got, _ := cfg.Backend.Get(apub)
	if ac, err := jwt.DecodeAccountClaims(got); err != nil || ac.Name != "next" {
		t.Fatalf("a newer self-signed JWT was not taken: %v %v", ac, err)
	}
	// Deleted (after the second "next" says it was issued in), the account does not come back
	// with a self-signed JWT of before the deletion, although its re-signed copy would carry a
	// later iat.
	time.Sleep(time.Until(time.Unix(now+3, 0)))
	if code := httpDelete(t, s, apub, deleteRequest(t, okp, time.Minute, apub)); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	time.Sleep(time.Until(time.Unix(time.Now().Unix()+1, 0)))
	if code, body := post(t, s, apub, next); code != 409 {
		t.Errorf("a self-signed JWT of before the deletion: %d %s, want 409", code, body)
	}
	if _, err := cfg.Backend.Get(apub); err == nil {
		t.Fatal("a self-signed JWT of before the deletion brought the account back")
	}
}

// TestDeletedAccountComesBackOnlyWithANewerJWT: after an operator-signed delete, no JWT of the
// account issued before the deletion brings it back, whether it is the JWT it had or an older
// one, over HTTP (409), NATS or a pack merge, after a restart too; one issued later does, and
// the account can then be deleted again.
func TestDeletedAccountComesBackOnlyWithANewerJWT(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	cfg := dirConfig(t, op)
	natsConfig(t, &cfg, op, ns.ClientURL())
	s, stop := runServer(t, cfg)
	waitConnected(t, s)
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	_, pub, _ := op.Account(t, "A")
	now := time.Now().Unix()
	version := func(iat int64) string { return encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, iat) }
	v1, v2 := version(now-10), version(now-5)
	mustPost(t, s, pub, v1)
	mustPost(t, s, pub, v2)
	if code := httpDelete(t, s, pub, deleteRequest(t, op.KP, time.Minute, pub)); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	refused := func(when string) {
		t.Helper()
		for _, tok := range []string{v1, v2} {
			if code, body := post(t, s, pub, tok); code != 409 {
				t.Errorf("%s: POST of a JWT the deleted account had: %d %s, want 409", when, code, body)
			}
			if msg, err := sys.Request(subjClaims, []byte(tok), 5*time.Second); err != nil {
				t.Errorf("%s: CLAIMS.UPDATE of a JWT the deleted account had: %v", when, err)
			} else if !strings.Contains(string(msg.Data), `"error"`) {
				t.Errorf("%s: CLAIMS.UPDATE of a JWT the deleted account had: %s, want an error", when, msg.Data)
			}
			(&natsPeer{s: s}).onPackReply(&nats.Msg{Data: []byte(pub + "|" + tok)})
		}
		if _, err := s.Store().Get(pub); err == nil {
			t.Fatalf("%s: a JWT issued before the deletion brought the account back", when)
		}
	}
	refused("after the delete")
	stop()
	s, stop = runServer(t, cfg)
	waitConnected(t, s)
	refused("after a restart")

	v3 := version(time.Now().Unix() + 1)
	mustPost(t, s, pub, v3)
	if code := httpDelete(t, s, pub, deleteRequest(t, op.KP, 2*time.Minute, pub)); code != 200 {
		t.Fatalf("second delete: %d", code)
	}
	if code, _ := post(t, s, pub, v3); code != 409 {
		t.Fatalf("the JWT of the second life, after the second delete: %d, want 409", code)
	}
	stop()
}

// TestStoreFolderFilesTheOperatorDidNotSignAreNotServed: a JWT file put in the store folder
// behind signet's back is served only if the operator signed it: another operator's JWT under a
// valid name is not served over HTTP, in the pack, or over NATS (LOOKUP answers empty), while a
// trusted file put there the same way is.
func TestStoreFolderFilesTheOperatorDidNotSignAreNotServed(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	other := natstest.NewOperator(t, "X")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	cfg := dirConfig(t, op)
	natsConfig(t, &cfg, op, ns.ClientURL())
	_, foreignPub, foreign := other.Account(t, "F")
	_, trustedPub, trusted := op.Account(t, "T")
	for pub, tok := range map[string]string{foreignPub: foreign, trustedPub: trusted} {
		if err := os.WriteFile(filepath.Join(cfg.Store.Dir, pub+".jwt"), []byte(tok), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, stop := runServer(t, cfg)
	defer stop()
	waitConnected(t, s)
	if resp, body := get(t, accountsURL(s, foreignPub)); resp.StatusCode != 404 {
		t.Errorf("GET of another operator's JWT put in the folder: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, accountsURL(s, trustedPub)); resp.StatusCode != 200 || body != trusted {
		t.Errorf("GET of a trusted JWT put in the folder: %d", resp.StatusCode)
	}
	_, pack := get(t, "http://"+s.HTTPAddr()+"/jwt/v1/pack")
	if strings.Contains(pack, foreignPub) || !strings.Contains(pack, trustedPub) {
		t.Errorf("pack: holds the foreign account %v, the trusted one %v", strings.Contains(pack, foreignPub), strings.Contains(pack, trustedPub))
	}
	sys, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	msg, err := sys.Request(fmt.Sprintf("$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP", foreignPub), nil, 5*time.Second)
	if err != nil || len(msg.Data) != 0 {
		t.Errorf("LOOKUP of another operator's JWT put in the folder: %v %q, want an empty answer", err, msg.Data)
	}
}

// TestSigningModeTakesUpdatesFromAnAccountWhoseClockIsBehind: in signing mode the server signs
// each version with its own time, one second of its own after the stored one, while a
// self-signed update is measured against the account's own previous iat. An account whose clock
// runs a minute behind the server's can update itself, also twice within a second; its older
// versions sent again are still refused; and after an operator-signed update, a self-signed JWT
// issued (by the server's clock) before that update does not replace it.
func TestSigningModeTakesUpdatesFromAnAccountWhoseClockIsBehind(t *testing.T) {
	t.Parallel()
	cfg, okp, _ := signingModeConfig(t, SigningConfig{})
	s := startServer(t, cfg)
	akp, apub := accountKeys(t)
	now := time.Now().Unix()
	version := func(name string, iat int64) string {
		ac := jwt.NewAccountClaims(apub)
		ac.Name = name
		return encodeWithIAT(t, ac, akp, iat)
	}
	stored := func() *jwt.AccountClaims {
		t.Helper()
		tok, err := cfg.Backend.Get(apub)
		if err != nil {
			t.Fatal(err)
		}
		ac, err := jwt.DecodeAccountClaims(tok)
		if err != nil {
			t.Fatal(err)
		}
		return ac
	}
	v1, v2, v3 := version("v1", now-60), version("v2", now-59), version("v3", now-58)
	var iats []int64
	for _, v := range []string{v1, v2, v3} {
		mustPost(t, s, apub, v)
		iats = append(iats, stored().IssuedAt)
	}
	if got := stored(); got.Name != "v3" || !(iats[0] < iats[1] && iats[1] < iats[2]) {
		t.Fatalf("stored %q, re-signed iats %v: want v3, each version in a second of its own", got.Name, iats)
	}
	for _, v := range []string{v1, v2, v3} {
		if code, body := post(t, s, apub, v); code != 409 {
			t.Errorf("an earlier self-signed version sent again: %d %s, want 409", code, body)
		}
	}
	if got := stored(); got.Name != "v3" {
		t.Fatalf("a replayed version replaced v3: stored %q", got.Name)
	}
	byOperator := jwt.NewAccountClaims(apub)
	byOperator.Name = "operator"
	mustPost(t, s, apub, encodeWithIAT(t, byOperator, okp, iats[2]+1))
	if code, body := post(t, s, apub, version("v4", now-57)); code != 409 {
		t.Errorf("a self-signed JWT from before the operator's update: %d %s, want 409", code, body)
	}
	if got := stored(); got.Name != "operator" {
		t.Fatalf("the operator's update was replaced by %q", got.Name)
	}
	mustPost(t, s, apub, version("v5", iats[2]+2))
	if got := stored(); got.Name != "v5" {
		t.Fatalf("a self-signed JWT issued after the operator's update: stored %q, want v5", got.Name)
	}
	// An operator-signed JWT two minutes ahead of the server's clock: the server cannot re-sign
	// a version after it (it would have to wait two minutes), which is a conflict, not a wait.
	ahead := time.Now().Unix() + 120
	byOperator.Name = "ahead"
	mustPost(t, s, apub, encodeWithIAT(t, byOperator, okp, ahead))
	if code, body := post(t, s, apub, version("v6", ahead+10)); code != 409 || !strings.Contains(body, "clock") {
		t.Errorf("a self-signed update after a JWT issued ahead of the server's clock: %d %s, want 409 naming the clock", code, body)
	}
	if got := stored(); got.Name != "ahead" {
		t.Fatalf("stored %q, want the operator's JWT issued ahead", got.Name)
	}
}
