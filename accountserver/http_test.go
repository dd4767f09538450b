package accountserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

func get(t testing.TB, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHTTPGet(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	s := startServer(t, testConfig(t, op))

	resp, body := get(t, s.ResolverURL())
	if resp.StatusCode != 200 || body != "" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("GET accounts/: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	resp, body = get(t, accountsURL(s, pub))
	sum := sha256.Sum256([]byte(tok))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	if resp.StatusCode != 200 || body != tok || resp.Header.Get("Content-Type") != "application/jwt" || resp.Header.Get("ETag") != etag {
		t.Fatalf("GET account: %d %v", resp.StatusCode, resp.Header)
	}
	if resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("Cache-Control for a jwt without exp: %q", resp.Header.Get("Cache-Control"))
	}
	if resp, body = get(t, accountsURL(s, pub), "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("If-None-Match: %d %q", resp.StatusCode, body)
	}
	if resp, _ = get(t, accountsURL(s, pub), "If-None-Match", `"other"`); resp.StatusCode != 200 {
		t.Fatalf("If-None-Match other: %d", resp.StatusCode)
	}
	if resp, body = get(t, accountsURL(s, pub)+"?text=true"); !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || body != tok {
		t.Fatalf("text: %v %q", resp.Header, body)
	}
	resp, body = get(t, accountsURL(s, pub)+"?decode=true")
	var doc struct {
		Header map[string]any `json:"header"`
		Claims map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.Claims["sub"] != pub || doc.Header["alg"] == nil {
		t.Fatalf("decode: %v %q", err, body)
	}
	if resp, _ = get(t, accountsURL(s, pub)+"?check=true"); resp.StatusCode != 200 {
		t.Fatalf("check on a live jwt: %d", resp.StatusCode)
	}

	// Unknown account, bad key.
	_, other, _ := op.Account(t, "B")
	if resp, _ = get(t, accountsURL(s, other)); resp.StatusCode != 404 {
		t.Fatalf("unknown: %d", resp.StatusCode)
	}
	if resp, _ = get(t, accountsURL(s, op.Pub)); resp.StatusCode != 400 {
		t.Fatalf("operator key as account: %d", resp.StatusCode)
	}
	if resp, _ = get(t, accountsURL(s, "nonsense")); resp.StatusCode != 400 {
		t.Fatalf("nonsense key: %d", resp.StatusCode)
	}
	// The system account comes from systemaccountjwtpath.
	if resp, body = get(t, accountsURL(s, op.SysPub)); resp.StatusCode != 200 || body != op.SysJWT {
		t.Fatalf("system account: %d", resp.StatusCode)
	}
}

func TestHTTPExpiry(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := testConfig(t, op)
	s := startServer(t, cfg)
	// A JWT that expired: stored directly (POST refuses nothing for expiry, but check=true hides it).
	_, pub, tok := op.Account(t, "old", func(ac *jwt.AccountClaims) { ac.Expires = time.Now().Add(-time.Hour).Unix() })
	if err := cfg.Backend.Put(pub, tok); err != nil {
		t.Fatal(err)
	}
	resp, _ := get(t, accountsURL(s, pub))
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "max-age=0" {
		t.Fatalf("expired without check: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if resp, _ = get(t, accountsURL(s, pub)+"?check=true"); resp.StatusCode != 404 {
		t.Fatalf("expired with check: %d", resp.StatusCode)
	}
	_, pub2, tok2 := op.Account(t, "new", func(ac *jwt.AccountClaims) { ac.Expires = time.Now().Add(time.Hour).Unix() })
	mustPost(t, s, pub2, tok2)
	resp, _ = get(t, accountsURL(s, pub2))
	age, err := strconv.Atoi(strings.TrimPrefix(resp.Header.Get("Cache-Control"), "max-age="))
	if err != nil || age <= 0 || age > 3600 {
		t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}

func TestHTTPPostRefusals(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	other := natstest.NewOperator(t, "X")
	cfg := testConfig(t, op)
	s := startServer(t, cfg)

	akp, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)

	selfSigned := func() string {
		ac := jwt.NewAccountClaims(pub)
		tok, err := ac.Encode(akp)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}()
	foreign := func() string {
		ac := jwt.NewAccountClaims(pub)
		tok, err := ac.Encode(other.KP)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}()
	_, otherPub, otherTok := op.Account(t, "B")
	older := func() string {
		return encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, time.Now().Add(-time.Hour).Unix())
	}()
	// Make the stored one newer than "older" for certain.
	newer := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, time.Now().Add(time.Minute).Unix())
	mustPost(t, s, pub, newer)

	cases := []struct {
		name string
		body string
		code int
	}{
		{"self-signed", selfSigned, 403},
		{"other operator", foreign, 403},
		{"mismatching key", otherTok, 400},
		{"older", older, 409},
		{"garbage", "not a jwt at all", 400},
		{"empty", "", 400},
		{"2 MiB of junk", strings.Repeat("x", 2<<20), 413},
		{"user jwt", func() string { tok, _ := op.User(t, akp, "u"); return tok }(), 400},
	}
	for _, c := range cases {
		code, body := post(t, s, pub, c.body)
		if code != c.code {
			t.Errorf("%s: got %d (%s), want %d", c.name, code, body, c.code)
		}
		if strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("%s: reason is not one line: %q", c.name, body)
		}
		if got, _ := cfg.Backend.Get(pub); got != newer {
			t.Fatalf("%s changed the store", c.name)
		}
	}
	if _, err := cfg.Backend.Get(otherPub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("mismatching key stored B: %v", err)
	}
	if cfg.Backend.Len() != 1 {
		t.Fatalf("store has %d accounts", cfg.Backend.Len())
	}
}

// encodeWithIAT signs claims with a chosen iat (jwt's Encode always stamps now) by rewriting
// the payload and signing again.
func encodeWithIAT(t testing.TB, ac *jwt.AccountClaims, kp nkeys.KeyPair, iat int64) string {
	t.Helper()
	tok, err := ac.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["iat"] = iat
	raw, _ = json.Marshal(m)
	toSign := parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw)
	sig, err := kp.Sign([]byte(toSign))
	if err != nil {
		t.Fatal(err)
	}
	return toSign + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func writeFile0600(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

// operatorWithSigningKey makes operator claims with one signing key.
func operatorWithSigningKey() (okp, skp nkeys.KeyPair, spub string, oc *jwt.OperatorClaims) {
	okp, _ = nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	skp, _ = nkeys.CreateOperator()
	spub, _ = skp.PublicKey()
	oc = jwt.NewOperatorClaims(opub)
	oc.SigningKeys.Add(spub)
	return okp, skp, spub, oc
}

// signingModeConfig is a memory-store configuration in signing mode: an operator with one
// signing key, whose seed is in a key file that sig (the signing block) is pointed at. It
// returns the operator's identity key and the signing key's public key too.
func signingModeConfig(t *testing.T, sig SigningConfig) (cfg Config, okp nkeys.KeyPair, spub string) {
	t.Helper()
	okp, skp, spub, oc := operatorWithSigningKey()
	opJWT, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := skp.Seed()
	sig.Key = filepath.Join(t.TempDir(), "op.nk")
	if err := writeFile0600(sig.Key, seed); err != nil {
		t.Fatal(err)
	}
	return Config{OperatorJWT: opJWT, HTTP: HTTPConfig{Port: -1}, Backend: jwtstore.NewMemory(), Signing: sig}, okp, spub
}

func TestHTTPStrictSigningKeys(t *testing.T) {
	t.Parallel()
	okp, skp, _, oc := operatorWithSigningKey()
	oc.StrictSigningKeyUsage = true
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	byOp, _ := jwt.NewAccountClaims(apub).Encode(okp)
	bySK, _ := jwt.NewAccountClaims(apub).Encode(skp)
	if _, err := VerifyAccountJWT(oc, byOp, apub); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("strict operator accepted an operator-signed account: %v", err)
	}
	if _, err := VerifyAccountJWT(oc, bySK, apub); err != nil {
		t.Fatalf("signing key refused: %v", err)
	}
	oc.StrictSigningKeyUsage = false
	if _, err := VerifyAccountJWT(oc, byOp, apub); err != nil {
		t.Fatalf("non-strict operator refused its own key: %v", err)
	}
	if _, err := VerifyAccountJWT(oc, bySK, "ABAD"); err == nil {
		t.Fatal("mismatching expected subject accepted")
	}

	// The server applies it: with a strict operator, a push signed by the operator's identity
	// key is refused and leaves the store alone; one signed by the signing key is stored.
	oc.StrictSigningKeyUsage = true
	opJWT, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{OperatorJWT: opJWT, HTTP: HTTPConfig{Port: -1}, Backend: jwtstore.NewMemory()}
	s := startServer(t, cfg)
	if code, body := post(t, s, apub, byOp); code != http.StatusForbidden {
		t.Fatalf("strict operator: POST of an identity-signed account: %d %s", code, body)
	}
	if _, err := cfg.Backend.Get(apub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("strict operator stored an identity-signed account: %v", err)
	}
	(&natsPeer{s: s}).onClaimsUpdate(&nats.Msg{Subject: subjClaims, Data: []byte(byOp)})
	if _, err := cfg.Backend.Get(apub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("strict operator stored an identity-signed account sent over NATS: %v", err)
	}
	mustPost(t, s, apub, bySK)
}

func TestHTTPDelete(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := testConfig(t, op)
	s := startServer(t, cfg)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	del := func(body string) int {
		req, _ := http.NewRequest(http.MethodDelete, accountsURL(s, pub), strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	akp, _ := nkeys.CreateAccount()
	if code := del(deleteRequest(t, akp, time.Minute, pub)); code != 403 && code != 400 {
		t.Fatalf("delete signed by an account: %d", code)
	}
	if code := del(deleteRequest(t, op.KP, 24*time.Hour, pub)); code != 400 {
		t.Fatalf("delete valid for a day: %d", code)
	}
	if code := del(deleteRequest(t, op.KP, time.Minute, op.SysPub)); code != 400 {
		t.Fatalf("delete not naming the account: %d", code)
	}
	if _, err := cfg.Backend.Get(pub); err != nil {
		t.Fatalf("refused deletes removed the account: %v", err)
	}
	req := deleteRequest(t, op.KP, time.Minute, pub)
	if code := del(req); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if _, err := cfg.Backend.Get(pub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("account still stored: %v", err)
	}
	// The JWT it had does not bring it back; one issued after the deletion does.
	if code, _ := post(t, s, pub, tok); code != 409 {
		t.Fatalf("the deleted account's own JWT, sent again: %d, want 409", code)
	}
	mustPost(t, s, pub, encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, time.Now().Unix()+1))
	if code := del(req); code != 403 {
		t.Fatalf("replayed delete: %d", code)
	}
	if _, err := cfg.Backend.Get(pub); err != nil {
		t.Fatal("replayed delete removed the account")
	}
	// Without exp, the iat window applies.
	if code := del(deleteRequest(t, op.KP, 0, pub)); code != 200 {
		t.Fatalf("delete with iat only: %d", code)
	}
}

func TestHTTPOperatorPackHelpHealthMetrics(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	s := startServer(t, testConfig(t, op))
	base := "http://" + s.HTTPAddr()
	accts := op.Accounts(t, 3)
	for pub, tok := range accts {
		mustPost(t, s, pub, tok)
	}
	if resp, body := get(t, base+"/jwt/v1/operator"); resp.StatusCode != 200 || body != op.JWT {
		t.Fatalf("operator: %d", resp.StatusCode)
	}
	if _, body := get(t, base+"/jwt/v1/operator?decode=true"); !json.Valid([]byte(body)) || !strings.Contains(body, op.Pub) {
		t.Fatalf("operator decode: %q", body)
	}
	_, body := get(t, base+"/jwt/v1/pack")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 3 {
		t.Fatalf("pack: %d lines", len(lines))
	}
	for _, l := range lines {
		pub, tok, _ := strings.Cut(l, "|")
		if accts[pub] != tok {
			t.Fatalf("pack line %q", l)
		}
	}
	if _, body = get(t, base+"/jwt/v1/pack?max=2"); strings.Count(body, "\n") != 2 {
		t.Fatalf("pack max=2: %q", body)
	}
	if resp, _ := get(t, base+"/jwt/v1/pack?max=x"); resp.StatusCode != 400 {
		t.Fatalf("pack max=x: %d", resp.StatusCode)
	}
	if _, body = get(t, base+"/jwt/v1/help"); !strings.Contains(body, "/jwt/v1/accounts/<pub>") {
		t.Fatalf("help: %q", body)
	}
	resp, body := get(t, base+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 200 || !h.Store.Readable || h.Store.Accounts != 3 || h.NATS.Configured {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	_, body = get(t, base+"/metrics")
	for _, want := range []string{
		`signet_http_requests_total{code="200",route="post_account"} 3`,
		`signet_store_accounts 3`,
		`signet_nats_connected 0`,
		`signet_http_request_duration_seconds_bucket{route="pack"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestDirStoreServer(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := testConfig(t, op)
	cfg.Backend = nil
	cfg.Store = StoreConfig{Dir: t.TempDir(), Shard: true}
	s := startServer(t, cfg)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	resp, body := get(t, accountsURL(s, pub))
	if resp.StatusCode != 200 || body != tok {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	_, body = get(t, "http://"+s.HTTPAddr()+"/healthz")
	if !strings.Contains(body, `"writable":true`) {
		t.Fatalf("healthz: %s", body)
	}
}

func TestReadOnlyStoreServer(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	dir := t.TempDir()
	cfg := testConfig(t, op)
	cfg.Backend = nil
	cfg.Store = StoreConfig{Dir: dir, ReadOnly: true}
	s := startServer(t, cfg)
	_, pub, tok := op.Account(t, "A")
	if code, _ := post(t, s, pub, tok); code != 403 {
		t.Fatalf("POST to read-only: %d", code)
	}
	w, err := jwtstore.OpenDir(dir, jwtstore.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put(pub, tok); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "read-only store to see the new file", func() bool {
		resp, body := get(t, accountsURL(s, pub))
		return resp.StatusCode == 200 && body == tok
	})
}

// TestReloadRereadsReadOnlyStore: Reload (what SIGHUP does) re-reads a read-only directory, so a
// file written while nothing watched is served afterwards, and a rewritten file's new JWT too.
func TestReloadRereadsReadOnlyStore(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	dir := t.TempDir()
	ro, err := jwtstore.OpenDir(dir, jwtstore.DirOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close() // stop its watcher: only Reload can find what changes now
	cfg := testConfig(t, op)
	cfg.Backend = ro
	s := startServer(t, cfg)
	w, err := jwtstore.OpenDir(dir, jwtstore.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, pub, tok := op.Account(t, "A")
	if err := w.Put(pub, tok); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, accountsURL(s, pub)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("before reload: %d, want 404 (the test needs a store that has not seen the file)", resp.StatusCode)
	}
	if err := s.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, accountsURL(s, pub)); resp.StatusCode != 200 || body != tok {
		t.Fatalf("after reload: %d, served the written jwt: %v", resp.StatusCode, body == tok)
	}
	newer := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, time.Now().Add(time.Minute).Unix())
	if err := w.Put(pub, newer); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, accountsURL(s, pub)); resp.StatusCode != 200 || body != newer {
		t.Fatalf("after second reload: %d, served the rewritten jwt: %v", resp.StatusCode, body == newer)
	}
}

// TestReloadSwitchesOperator: after Reload with another operator (and its system account), the
// new operator JWT and system account are served, accounts of the new operator are accepted and
// those of the old one refused; a reload that fails keeps the configuration in effect.
func TestReloadSwitchesOperator(t *testing.T) {
	t.Parallel()
	oldOp := natstest.NewOperator(t, "O")
	newOp := natstest.NewOperator(t, "N")
	s := startServer(t, testConfig(t, oldOp))
	base := "http://" + s.HTTPAddr()
	_, oldPub, oldTok := oldOp.Account(t, "old")
	_, newPub, newTok := newOp.Account(t, "new")
	if code, body := post(t, s, newPub, newTok); code != http.StatusForbidden {
		t.Fatalf("new operator's account before reload: %d %s", code, body)
	}

	bad := testConfig(t, newOp)
	bad.OperatorJWT, bad.OperatorJWTPath = "", filepath.Join(t.TempDir(), "missing.jwt")
	if err := s.Reload(bad); err == nil {
		t.Fatal("reload with a missing operator file succeeded")
	}
	if _, body := get(t, base+"/jwt/v1/operator"); body != oldOp.JWT {
		t.Fatal("a failed reload changed the operator")
	}

	if err := s.Reload(testConfig(t, newOp)); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, base+"/jwt/v1/operator"); resp.StatusCode != 200 || body != newOp.JWT {
		t.Fatalf("operator after reload: %d, is the new one: %v", resp.StatusCode, body == newOp.JWT)
	}
	if resp, body := get(t, accountsURL(s, newOp.SysPub)); resp.StatusCode != 200 || body != newOp.SysJWT {
		t.Fatalf("new system account after reload: %d", resp.StatusCode)
	}
	if resp, _ := get(t, accountsURL(s, oldOp.SysPub)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("old system account after reload: %d, want 404", resp.StatusCode)
	}
	mustPost(t, s, newPub, newTok)
	if code, body := post(t, s, oldPub, oldTok); code != http.StatusForbidden {
		t.Fatalf("old operator's account after reload: %d %s", code, body)
	}
}

// TestReloadChangesSigningPolicy: a reload with new default limits signs the next push with them.
func TestReloadChangesSigningPolicy(t *testing.T) {
	t.Parallel()
	cfg, _, _ := signingModeConfig(t, SigningConfig{DefaultLimits: Limits{Conns: 5}})
	s := startServer(t, cfg)
	conns := func() int64 {
		t.Helper()
		_, pub, self := natstest.SelfSignedAccount(t, "A")
		mustPost(t, s, pub, self)
		stored, err := cfg.Backend.Get(pub)
		if err != nil {
			t.Fatal(err)
		}
		ac, err := jwt.DecodeAccountClaims(stored)
		if err != nil {
			t.Fatal(err)
		}
		return ac.Limits.Conn
	}
	if n := conns(); n != 5 {
		t.Fatalf("before reload: conns %d, want 5", n)
	}
	next := cfg
	next.Signing.DefaultLimits.Conns = 7
	if err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	if n := conns(); n != 7 {
		t.Fatalf("after reload: conns %d, want the reloaded default 7", n)
	}
}

func TestSigningMode(t *testing.T) {
	t.Parallel()
	cfg, _, spub := signingModeConfig(t, SigningConfig{DefaultLimits: Limits{Conns: 5}, MaxLimits: Limits{Payload: 1000}})
	s := startServer(t, cfg)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.Payload = 1 << 20
	self, _ := ac.Encode(akp)
	mustPost(t, s, apub, self)
	stored, err := cfg.Backend.Get(apub)
	if err != nil {
		t.Fatal(err)
	}
	got, err := jwt.DecodeAccountClaims(stored)
	if err != nil || got.Issuer != spub || got.Limits.Conn != 5 || got.Limits.Payload != 1000 {
		t.Fatalf("signed account: %+v %v", got, err)
	}
	// Signed by some other account key: still refused.
	other, _ := nkeys.CreateAccount()
	bad, _ := jwt.NewAccountClaims(apub).Encode(other)
	if code, _ := post(t, s, apub, bad); code != 403 {
		t.Fatalf("foreign-signed in signing mode: %d", code)
	}
	// Signing is for pushes over HTTP; the resolver protocol still takes operator-signed JWTs only.
	bkp, _ := nkeys.CreateAccount()
	bpub, _ := bkp.PublicKey()
	bself, _ := jwt.NewAccountClaims(bpub).Encode(bkp)
	(&natsPeer{s: s}).onClaimsUpdate(&nats.Msg{Subject: subjClaims, Data: []byte(bself)})
	if _, err := cfg.Backend.Get(bpub); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Fatalf("self-signed account signed via NATS: %v", err)
	}
}

// TestDeleteRefusesExpiredRequest: a delete request past its exp, or (without exp) issued
// outside the window, is refused, over HTTP and by VerifyDeleteRequest, and deletes nothing.
func TestDeleteRefusesExpiredRequest(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := testConfig(t, op)
	s := startServer(t, cfg)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	expired := deleteRequest(t, op.KP, -time.Minute, pub)
	req, _ := http.NewRequest(http.MethodDelete, accountsURL(s, pub), strings.NewReader(expired))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired delete request: %d %s", resp.StatusCode, body)
	}
	if got, err := cfg.Backend.Get(pub); err != nil || got != tok {
		t.Fatalf("expired delete request removed the account: %v", err)
	}

	oc, err := jwt.DecodeOperatorClaims(op.JWT)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * DeleteWindow)
	if _, err := VerifyDeleteRequest(oc, deleteRequest(t, op.KP, time.Minute, pub), later); err == nil {
		t.Fatal("a delete request checked after its exp was accepted")
	}
	if _, err := VerifyDeleteRequest(oc, deleteRequest(t, op.KP, 0, pub), later); err == nil {
		t.Fatal("a delete request without exp, issued before the window, was accepted")
	}
	if _, err := VerifyDeleteRequest(oc, deleteRequest(t, op.KP, time.Minute, pub), time.Now()); err != nil {
		t.Fatalf("a live delete request was refused: %v", err)
	}
}
