package keystore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestLayoutAndModes(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: filepath.Join(t.TempDir(), "keys")}
	for _, create := range []func() (nkeys.KeyPair, error){nkeys.CreateOperator, nkeys.CreateAccount, nkeys.CreateUser, nkeys.CreateCurveKeys} {
		kp, _ := create()
		pub, _ := kp.PublicKey()
		p, err := ks.Store(kp)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(ks.Dir, "keys", pub[:1], pub[1:3], pub+".nk")
		if p != want || ks.KeyPath(pub) != want {
			t.Errorf("key path %s, want %s", p, want)
		}
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s: mode %v", p, m)
		}
		for _, d := range []string{filepath.Dir(p), filepath.Dir(filepath.Dir(p)), filepath.Join(ks.Dir, "keys"), ks.Dir} {
			if m := mode(t, d); m != 0o700 {
				t.Errorf("%s: mode %v", d, m)
			}
		}
		data, _ := os.ReadFile(p)
		seed, _ := kp.Seed()
		if string(data) != string(seed) {
			t.Errorf("%s holds %q, want the bare seed", p, data)
		}
		got, err := ks.Get(pub)
		if err != nil {
			t.Fatal(err)
		}
		if gp, _ := got.PublicKey(); gp != pub || !ks.Has(pub) {
			t.Errorf("Get(%s) = %s", pub, gp)
		}
		// Storing again is fine.
		if _, err := ks.Store(kp); err != nil {
			t.Errorf("store twice: %v", err)
		}
	}
	ig, err := os.ReadFile(filepath.Join(ks.Dir, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"**/*.nk", "**/*.creds"} {
		if !strings.Contains(string(ig), line) {
			t.Errorf(".gitignore lacks %q", line)
		}
	}
	keys, err := ks.List()
	if err != nil || len(keys) != 4 {
		t.Errorf("List = %v, %v", keys, err)
	}
}

func TestGetErrors(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	if _, err := ks.Get(pub); !errors.Is(err, keystore.ErrNoKey) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := ks.Get("nope"); err == nil {
		t.Error("bad public key: no error")
	}
	// A file holding another key's seed is refused.
	other, _ := nkeys.CreateUser()
	oseed, _ := other.Seed()
	if err := os.MkdirAll(filepath.Dir(ks.KeyPath(pub)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ks.KeyPath(pub), oseed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Get(pub); err == nil {
		t.Error("seed of another key accepted")
	}
	if _, err := ks.Store(kp); err == nil {
		t.Error("overwrote a different seed")
	}
	if err := os.WriteFile(ks.KeyPath(pub), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Get(pub); err == nil {
		t.Error("garbage seed accepted")
	}
	if err := ks.Remove(pub); err != nil {
		t.Fatal(err)
	}
	if ks.Has(pub) {
		t.Error("removed key still there")
	}
	if err := ks.Remove(pub); err != nil {
		t.Errorf("removing a missing key: %v", err)
	}
	pubOnly, _ := nkeys.FromPublicKey(pub)
	if _, err := ks.Store(pubOnly); err == nil {
		t.Error("stored a key without a seed")
	}
}

func TestCreds(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	akp, _ := nkeys.CreateAccount()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	seed, _ := ukp.Seed()
	tok, err := jwt.NewUserClaims(upub).Encode(akp)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ks.WriteCreds("O", "A", "U", tok, seed)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(ks.Dir, "creds", "O", "A", "U.creds"); p != want || ks.CredsPath("O", "A", "U") != want {
		t.Errorf("creds path %s, want %s", p, want)
	}
	if m := mode(t, p); m != 0o600 {
		t.Errorf("creds mode %v", m)
	}
	for _, d := range []string{filepath.Join(ks.Dir, "creds"), filepath.Join(ks.Dir, "creds", "O"), ks.AccountCredsDir("O", "A")} {
		if m := mode(t, d); m != 0o700 {
			t.Errorf("%s: mode %v", d, m)
		}
	}
	data, _ := os.ReadFile(p)
	if got, err := jwt.ParseDecoratedJWT(data); err != nil || got != tok {
		t.Errorf("creds JWT: %v", err)
	}
	if kp, err := jwt.ParseDecoratedUserNKey(data); err != nil {
		t.Errorf("creds seed: %v", err)
	} else if pub, _ := kp.PublicKey(); pub != upub {
		t.Errorf("creds seed is of %s", pub)
	}
	if err := ks.RemoveCreds("O", "A", "U"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err == nil {
		t.Error("creds not removed")
	}
	if err := ks.RemoveCreds("O", "A", "U"); err != nil {
		t.Errorf("removing missing creds: %v", err)
	}
	if _, err := ks.WriteCreds("O", "A", "U", "not a jwt", seed); err == nil {
		t.Error("creds of a garbage JWT written")
	}
}

func TestResolveKey(t *testing.T) {
	t.Parallel()
	ks := keystore.KeyStore{Dir: t.TempDir()}
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	hasSeed := func(k nkeys.KeyPair) bool { _, err := k.Seed(); return err == nil }
	check := func(what, value string, wantSeed bool) {
		t.Helper()
		got, err := ks.ResolveKey(value)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if gp, _ := got.PublicKey(); gp != pub {
			t.Errorf("%s: key %s", what, gp)
		}
		if hasSeed(got) != wantSeed {
			t.Errorf("%s: has seed = %v, want %v", what, hasSeed(got), wantSeed)
		}
	}
	check("seed", string(seed), true)
	check("seed with spaces", " "+string(seed)+"\n", true)
	check("public key not in keystore", pub, false)
	if _, err := ks.Store(kp); err != nil {
		t.Fatal(err)
	}
	check("public key in keystore", pub, true)
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "seed.nk")
	_ = os.WriteFile(seedFile, append(seed, '\n'), 0o600)
	check("seed file", seedFile, true)
	pubFile := filepath.Join(dir, "pub.txt")
	_ = os.WriteFile(pubFile, []byte(pub+"\n"), 0o600)
	check("public key file", pubFile, false)

	// A creds file gives the user's seed.
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	useed, _ := ukp.Seed()
	tok, _ := jwt.NewUserClaims(upub).Encode(kp)
	creds, _ := jwt.FormatUserConfig(tok, useed)
	credsFile := filepath.Join(dir, "u.creds")
	_ = os.WriteFile(credsFile, creds, 0o600)
	if got, err := ks.ResolveKey(credsFile); err != nil {
		t.Errorf("creds file: %v", err)
	} else if gp, _ := got.PublicKey(); gp != upub {
		t.Errorf("creds file gave %s", gp)
	}

	garbage := filepath.Join(dir, "garbage")
	_ = os.WriteFile(garbage, []byte("hello"), 0o600)
	for _, bad := range []string{"", "  ", garbage, filepath.Join(dir, "missing")} {
		if _, err := ks.ResolveKey(bad); err == nil {
			t.Errorf("ResolveKey(%q): no error", bad)
		}
	}
	// A mistyped seed is never echoed back.
	typo := string(seed[:len(seed)-3]) + "AAA"
	_, err := ks.ResolveKey(typo)
	if err == nil {
		t.Fatal("mistyped seed accepted")
	}
	if strings.Contains(err.Error(), string(seed[4:20])) {
		t.Errorf("error leaks the seed: %v", err)
	}
}
