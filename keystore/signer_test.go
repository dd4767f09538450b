package keystore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
)

type keys struct {
	kp   nkeys.KeyPair
	pub  string
	seed string
}

func newAccountKey(t *testing.T) keys {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	return keys{kp, pub, string(seed)}
}

func pubOf(t *testing.T, kp nkeys.KeyPair) string {
	t.Helper()
	p, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignerChoosesKey(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	id, sk1, sk2, stranger := newAccountKey(t), newAccountKey(t), newAccountKey(t), newAccountKey(t)
	iss := keystore.Issuer{
		Kind: "account", Name: "A", Identity: id.pub,
		SigningKeys: []string{sk1.pub, sk2.pub},
		Roles:       map[string]string{"admin": sk2.pub},
	}
	// Nothing in the keystore: a clear error naming the account.
	_, err := ks.Signer(iss, "")
	if !errors.Is(err, keystore.ErrMissingKey) || !strings.Contains(err.Error(), `"A"`) {
		t.Errorf("empty keystore: %v", err)
	}
	// Only a signing key: it is used.
	if _, err := ks.Store(sk1.kp); err != nil {
		t.Fatal(err)
	}
	if kp, err := ks.Signer(iss, ""); err != nil || pubOf(t, kp) != sk1.pub {
		t.Errorf("signing key not chosen: %v", err)
	}
	// The identity key is preferred when present.
	if _, err := ks.Store(id.kp); err != nil {
		t.Fatal(err)
	}
	if kp, err := ks.Signer(iss, ""); err != nil || pubOf(t, kp) != id.pub {
		t.Errorf("identity key not preferred: %v", err)
	}
	// -K by public key, seed, seed file and role.
	seedFile := filepath.Join(t.TempDir(), "sk2.nk")
	if err := os.WriteFile(seedFile, []byte(sk2.seed), 0o600); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{sk1.pub: sk1.pub, sk2.seed: sk2.pub, seedFile: sk2.pub, id.pub: id.pub} {
		kp, err := ks.Signer(iss, spec)
		if err != nil || pubOf(t, kp) != want {
			t.Errorf("-K %.12s: %v", spec, err)
		}
	}
	// A signing key whose seed is missing, a stranger, an unknown role.
	if _, err := ks.Signer(iss, sk2.pub); !errors.Is(err, keystore.ErrMissingKey) {
		t.Errorf("-K public key without seed: %v", err)
	}
	if _, err := ks.Store(sk2.kp); err != nil {
		t.Fatal(err)
	}
	if kp, err := ks.Signer(iss, "admin"); err != nil || pubOf(t, kp) != sk2.pub {
		t.Errorf("-K role: %v", err)
	}
	if _, err := ks.Signer(iss, stranger.seed); err == nil || !strings.Contains(err.Error(), "not the identity key or a signing key") {
		t.Errorf("-K stranger: %v", err)
	}
	if _, err := ks.Signer(iss, "nobody"); err == nil {
		t.Error("-K unknown role: no error")
	}
	if _, err := ks.Signer(iss, stranger.seed); err == nil || strings.Contains(err.Error(), stranger.seed) {
		t.Errorf("error leaks a seed: %v", err)
	}
}

func TestSignerStrict(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	id, sk := newAccountKey(t), newAccountKey(t)
	if _, err := ks.Store(id.kp); err != nil {
		t.Fatal(err)
	}
	iss := keystore.Issuer{Kind: "operator", Name: "O", Identity: id.pub, RequireSigner: true}
	// Strict with no signing keys: tells the user to add one.
	if _, err := ks.Signer(iss, ""); !errors.Is(err, keystore.ErrMissingKey) || !strings.Contains(err.Error(), "--sk generate") {
		t.Errorf("strict without signing keys: %v", err)
	}
	iss.SigningKeys = []string{sk.pub}
	// The identity key is in the keystore but may not sign.
	if _, err := ks.Signer(iss, ""); !errors.Is(err, keystore.ErrMissingKey) || !strings.Contains(err.Error(), sk.pub) {
		t.Errorf("strict, signing key missing: %v", err)
	}
	if _, err := ks.Signer(iss, id.seed); err == nil || !strings.Contains(err.Error(), "requires signing keys") {
		t.Errorf("strict, -K identity: %v", err)
	}
	if _, err := ks.Store(sk.kp); err != nil {
		t.Fatal(err)
	}
	if kp, err := ks.Signer(iss, ""); err != nil || pubOf(t, kp) != sk.pub {
		t.Errorf("strict: signing key not chosen: %v", err)
	}
}
