package keystore_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
)

// FuzzResolveKeyFile feeds -K files of any content (seed files, decorated creds, public keys,
// garbage): resolving never panics, a key that comes back with a seed took that seed from the
// file, and no error repeats a seed the file held.
func FuzzResolveKeyFile(f *testing.F) {
	ukp, _ := nkeys.CreateUser()
	useed, _ := ukp.Seed()
	upub, _ := ukp.PublicKey()
	akp, _ := nkeys.CreateAccount()
	aseed, _ := akp.Seed()
	uc := jwt.NewUserClaims(upub)
	tok, _ := uc.Encode(akp)
	creds, _ := jwt.FormatUserConfig(tok, useed)
	for _, seed := range [][]byte{
		useed, aseed, append(append([]byte{}, aseed...), '\n'), creds, []byte(upub),
		[]byte("-----BEGIN USER NKEY SEED-----\n" + string(useed) + "\n------END USER NKEY SEED------\n"),
		[]byte(string(useed[:20])), []byte(strings.Repeat("S", 58)), {}, []byte("garbage"),
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	ks := keystore.KeyStore{Dir: filepath.Join(dir, "keys")}
	f.Fuzz(func(t *testing.T, content []byte) {
		p := filepath.Join(t.TempDir(), "key.nk")
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		kp, err := ks.ResolveKey(p)
		if err != nil {
			for _, w := range strings.Fields(string(content)) {
				if _, serr := nkeys.FromSeed([]byte(w)); serr == nil && strings.Contains(err.Error(), w) {
					t.Fatalf("error repeats a seed of the file: %v", err)
				}
			}
			return
		}
		if seed, err := kp.Seed(); err == nil && !strings.Contains(string(content), string(seed)) {
			t.Fatalf("resolved a seed that is not in the file")
		}
	})
}
