package ops_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	storepkg "github.com/signet-dev/signet/store"
)

type key struct {
	kp   nkeys.KeyPair
	pub  string
	seed string
}

func newKey(t *testing.T, create func() (nkeys.KeyPair, error)) key {
	t.Helper()
	kp, err := create()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	return key{kp, pub, string(seed)}
}

func store(t *testing.T, ks keystore.KeyStore, keys ...key) {
	t.Helper()
	for _, k := range keys {
		if _, err := ks.Store(k.kp); err != nil {
			t.Fatal(err)
		}
	}
}

// chosen is the public key Signer picks, or the error it gives.
func chosen(ks keystore.KeyStore, iss ops.Issuer, spec, previous string) string {
	kp, err := ops.Signer(ks, iss, spec, previous)
	if err != nil {
		return "error: " + err.Error()
	}
	pub, _ := kp.PublicKey()
	return pub
}

func TestSignerPrefersSigningKeysOverTheIdentityKey(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	id, sk1, sk2 := newKey(t, nkeys.CreateOperator), newKey(t, nkeys.CreateOperator), newKey(t, nkeys.CreateOperator)
	oc := jwt.NewOperatorClaims(id.pub)
	oc.Name = "O"
	// No signing keys: the identity key signs.
	store(t, ks, id)
	if got := chosen(ks, ops.OperatorIssuer("O", oc), "", ""); got != id.pub {
		t.Errorf("no signing keys: got %s, want the identity key", got)
	}
	// A signing key in the keystore wins over the identity key.
	oc.SigningKeys.Add(sk1.pub, sk2.pub)
	store(t, ks, sk1, sk2)
	first := min(sk1.pub, sk2.pub)
	if got := chosen(ks, ops.OperatorIssuer("O", oc), "", ""); got != first {
		t.Errorf("signing keys present: got %s, want the first signing key %s", got, first)
	}
	// The key that signed the entity before is kept while it is still a signing key...
	otherKey := sk1
	if sk2.pub > sk1.pub {
		otherKey = sk2
	}
	other := otherKey.pub
	if got := chosen(ks, ops.OperatorIssuer("O", oc), "", other); got != other {
		t.Errorf("previous signer: got %s, want %s", got, other)
	}
	// ...but a previous identity signature does not pull the identity key back in.
	if got := chosen(ks, ops.OperatorIssuer("O", oc), "", id.pub); got != first {
		t.Errorf("previously identity-signed: got %s, want the signing key %s", got, first)
	}
	// -K overrides, by public key, seed and seed file; the identity key may be asked for.
	seedFile := filepath.Join(t.TempDir(), "sk.nk")
	if err := os.WriteFile(seedFile, []byte(otherKey.seed), 0o600); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{id.pub: id.pub, other: other, sk1.seed: sk1.pub, seedFile: other} {
		if got := chosen(ks, ops.OperatorIssuer("O", oc), spec, ""); got != want {
			t.Errorf("-K %.10s: got %s, want %s", spec, got, want)
		}
	}
	// Signing keys whose seeds are gone: the identity key signs, as the operator allows it.
	if err := ks.Remove(sk1.pub); err != nil {
		t.Fatal(err)
	}
	if err := ks.Remove(sk2.pub); err != nil {
		t.Fatal(err)
	}
	if got := chosen(ks, ops.OperatorIssuer("O", oc), "", ""); got != id.pub {
		t.Errorf("signing key seeds missing: got %s, want the identity key", got)
	}
}

func TestSignerForUsersPrefersUnscopedKeys(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	id, unscoped, scoped := newKey(t, nkeys.CreateAccount), newKey(t, nkeys.CreateAccount), newKey(t, nkeys.CreateAccount)
	ac := jwt.NewAccountClaims(id.pub)
	ac.Name = "A"
	scope := jwt.NewUserScope()
	scope.Key = scoped.pub
	scope.Role = "service"
	ac.SigningKeys.AddScopedSigner(scope)
	store(t, ks, id, scoped)
	// Only a scoped signing key besides the identity key: the identity key signs (a scoped key
	// is never picked by itself while anything else can sign, as it would scope the user).
	if got := chosen(ks, ops.AccountIssuer("A", ac, false), "", ""); got != id.pub {
		t.Errorf("identity + scoped: got %s, want the identity key", got)
	}
	// A user that a scoped key signed keeps it.
	if got := chosen(ks, ops.AccountIssuer("A", ac, false), "", scoped.pub); got != scoped.pub {
		t.Errorf("scoped previous signer: got %s, want it kept", got)
	}
	// An unscoped signing key comes first.
	ac.SigningKeys.Add(unscoped.pub)
	store(t, ks, unscoped)
	if got := chosen(ks, ops.AccountIssuer("A", ac, false), "", ""); got != unscoped.pub {
		t.Errorf("unscoped + scoped + identity: got %s, want the unscoped signing key", got)
	}
	// -K by role.
	if got := chosen(ks, ops.AccountIssuer("A", ac, false), "service", ""); got != scoped.pub {
		t.Errorf("-K role: got %s", got)
	}
	// Nothing but a scoped key at hand: it is the only key that can sign.
	if err := ks.Remove(unscoped.pub); err != nil {
		t.Fatal(err)
	}
	if err := ks.Remove(id.pub); err != nil {
		t.Fatal(err)
	}
	if got := chosen(ks, ops.AccountIssuer("A", ac, false), "", ""); got != scoped.pub {
		t.Errorf("only a scoped key: got %s", got)
	}
}

func TestSignerRefusesKeysTheIssuerDoesNotOwn(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	id, sk, stranger := newKey(t, nkeys.CreateAccount), newKey(t, nkeys.CreateAccount), newKey(t, nkeys.CreateAccount)
	ac := jwt.NewAccountClaims(id.pub)
	ac.Name = "A"
	ac.SigningKeys.Add(sk.pub)
	iss := ops.AccountIssuer("A", ac, false)
	// Nothing in the keystore: a clear error naming the account.
	if _, err := ops.Signer(ks, iss, "", ""); !errors.Is(err, keystore.ErrMissingKey) || !strings.Contains(err.Error(), `"A"`) {
		t.Errorf("empty keystore: %v", err)
	}
	// -K with a public key whose seed is missing.
	if _, err := ops.Signer(ks, iss, sk.pub, ""); !errors.Is(err, keystore.ErrMissingKey) {
		t.Errorf("-K public key without seed: %v", err)
	}
	// A stranger's seed is refused, and the error does not echo it.
	_, err := ops.Signer(ks, iss, stranger.seed, "")
	if err == nil || !strings.Contains(err.Error(), "not the identity key or a signing key") {
		t.Errorf("-K stranger: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), stranger.seed) {
		t.Errorf("error leaks a seed: %v", err)
	}
	if _, err := ops.Signer(ks, iss, "nobody", ""); err == nil {
		t.Error("-K unknown role: no error")
	}
}

func TestSignerUnderStrictUsageNeverUsesTheIdentityKey(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	id, sk := newKey(t, nkeys.CreateOperator), newKey(t, nkeys.CreateOperator)
	store(t, ks, id)
	oc := jwt.NewOperatorClaims(id.pub)
	oc.Name = "O"
	oc.StrictSigningKeyUsage = true
	// Strict with no signing keys: tells the user to add one.
	if _, err := ops.Signer(ks, ops.OperatorIssuer("O", oc), "", ""); !errors.Is(err, keystore.ErrMissingKey) || !strings.Contains(err.Error(), "--sk generate") {
		t.Errorf("strict without signing keys: %v", err)
	}
	oc.SigningKeys.Add(sk.pub)
	// The identity key is in the keystore but may not sign; the error names the key needed.
	if _, err := ops.Signer(ks, ops.OperatorIssuer("O", oc), "", ""); !errors.Is(err, keystore.ErrMissingKey) || !strings.Contains(err.Error(), sk.pub) {
		t.Errorf("strict, signing key missing: %v", err)
	}
	if _, err := ops.Signer(ks, ops.OperatorIssuer("O", oc), id.seed, ""); err == nil || !strings.Contains(err.Error(), "requires signing keys") {
		t.Errorf("strict, -K identity: %v", err)
	}
	store(t, ks, sk)
	if got := chosen(ks, ops.OperatorIssuer("O", oc), "", id.pub); got != sk.pub {
		t.Errorf("strict: got %s, want the signing key", got)
	}
	// An account under a strict operator signs its users with its signing keys only.
	aid := newKey(t, nkeys.CreateAccount)
	store(t, ks, aid)
	ac := jwt.NewAccountClaims(aid.pub)
	ac.Name = "A"
	if _, err := ops.Signer(ks, ops.AccountIssuer("A", ac, true), "", ""); !errors.Is(err, keystore.ErrMissingKey) || !strings.Contains(err.Error(), "signet edit account A --sk generate") {
		t.Errorf("account under strict operator without signing keys: %v", err)
	}
}

// Quick successive signings of one account each get a later iat than the one before, so no two
// versions of an account share an issue time.
func TestAccountVersionsGetStrictlyIncreasingIssueTimes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stores := storepkg.Stores{Dir: filepath.Join(dir, "stores")}
	ks := keystore.KeyStore{Dir: filepath.Join(dir, "keys")}
	op := newKey(t, nkeys.CreateOperator)
	store(t, ks, op)
	oc := jwt.NewOperatorClaims(op.pub)
	oc.Name = "O"
	opTok, err := oc.Encode(op.kp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := stores.Create("O", opTok, false)
	if err != nil {
		t.Fatal(err)
	}
	acc := newKey(t, nkeys.CreateAccount)
	ac := jwt.NewAccountClaims(acc.pub)
	ac.Name = "A"
	var last int64
	for i := range 3 {
		ac.Limits.Conn = int64(i + 1)
		tok, err := ops.SignAccount(s, ks, oc, ac, acc.kp, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := jwt.DecodeAccountClaims(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got.IssuedAt <= last {
			t.Fatalf("version %d issued at %d, not after the previous version (%d)", i+1, got.IssuedAt, last)
		}
		last = got.IssuedAt
	}
	// A stored JWT from far ahead of this clock is an error, not a long wait.
	ac.IssuedAt = time.Now().Add(time.Hour).Unix()
	if _, err := ops.SignAccount(s, ks, oc, ac, acc.kp, ""); err == nil || !strings.Contains(err.Error(), "clock") {
		t.Errorf("stored iat an hour ahead: %v", err)
	}
}

// TestSignerTakesAKThatNamesNoKeyAsTheIdentityKeyUnlessStrict: a -K that names no key (a
// mistyped seed, a seed file that is not there, a key with a bad checksum, a role the account
// lacks) is taken as the identity key, as nsc takes it; under strict signing-key usage it stays
// an error, and a -K that names a key is never replaced (a stranger's key is still refused).
func TestSignerTakesAKThatNamesNoKeyAsTheIdentityKeyUnlessStrict(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	id, sk, stranger := newKey(t, nkeys.CreateOperator), newKey(t, nkeys.CreateOperator), newKey(t, nkeys.CreateOperator)
	store(t, ks, id, sk)
	oc := jwt.NewOperatorClaims(id.pub)
	oc.Name = "O"
	oc.SigningKeys.Add(sk.pub)
	badSum := []byte(id.pub) // one character off: the checksum no longer matches
	badSum[10] = map[bool]byte{true: 'B', false: 'A'}[badSum[10] == 'A']
	noKey := []string{"SOBADSEED", filepath.Join(t.TempDir(), "absent.nk"), string(badSum), "nosuchrole"}
	for _, spec := range noKey {
		if got := chosen(ks, ops.OperatorIssuer("O", oc), spec, ""); got != id.pub {
			t.Errorf("-K %q: got %s, want the identity key", spec, got)
		}
	}
	if got := chosen(ks, ops.OperatorIssuer("O", oc), stranger.pub, ""); !strings.Contains(got, "not the identity key or a signing key") {
		t.Errorf("-K a stranger's public key: %s", got)
	}
	oc.StrictSigningKeyUsage = true
	for _, spec := range noKey {
		if got := chosen(ks, ops.OperatorIssuer("O", oc), spec, ""); !strings.HasPrefix(got, "error: -K") {
			t.Errorf("strict, -K %q: got %s, want an error", spec, got)
		}
	}
}
