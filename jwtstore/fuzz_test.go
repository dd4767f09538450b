package jwtstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// FuzzDirLoad puts any content in a store file named after an account key: opening the store
// and reading it never panics, and what is served under the key is exactly the file's content
// and an account JWT for that key; anything else is not served.
func FuzzDirLoad(f *testing.F) {
	akp, _ := nkeys.CreateAccount()
	pub, _ := akp.PublicKey()
	okp, _ := nkeys.CreateOperator()
	own, _ := jwt.NewAccountClaims(pub).Encode(okp)
	_, other := newAccountJWT(f, "other")
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	user, _ := jwt.NewUserClaims(upub).Encode(akp)
	for _, seed := range []string{own, own + "\n", other, user, "", "a.b.c", "not a jwt", "{}", own[:len(own)/2]} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, pub+".jwt"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := OpenDir(dir, DirOptions{OnError: func(error) {}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		got, err := d.Get(pub)
		if err != nil {
			return
		}
		if got != string(content) {
			t.Fatalf("served %q for a file holding %q", got, content)
		}
		if sub, ok := peekAccountSubject(got); !ok || sub != pub {
			t.Fatalf("served content that is no account JWT for %s: %q", pub, got)
		}
	})
}
