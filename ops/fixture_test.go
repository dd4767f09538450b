package ops_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	storepkg "github.com/signet-dev/signet/store"
)

// fixture is an operator O (its key in the keystore) with an account A, in a temporary folder.
type fixture struct {
	dir string
	s   *storepkg.Store
	ks  keystore.KeyStore
}

// newFixture builds the fixture; it is shared by the examples, hence no testing.T.
func newFixture(dir string) (*fixture, error) {
	ks := keystore.KeyStore{Dir: filepath.Join(dir, "keys")}
	okp, err := nkeys.CreateOperator()
	if err != nil {
		return nil, err
	}
	if _, err := ks.Store(okp); err != nil {
		return nil, err
	}
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "O"
	tok, err := oc.Encode(okp)
	if err != nil {
		return nil, err
	}
	s, err := storepkg.Stores{Dir: filepath.Join(dir, "stores")}.Create("O", tok, false)
	if err != nil {
		return nil, err
	}
	akp, err := nkeys.CreateAccount()
	if err != nil {
		return nil, err
	}
	if _, err := ks.Store(akp); err != nil {
		return nil, err
	}
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Name = "A"
	atok, err := ops.SignAccount(s, ks, oc, ac, nil, "")
	if err != nil {
		return nil, err
	}
	if err := s.SaveAccount("A", atok); err != nil {
		return nil, err
	}
	return &fixture{dir: dir, s: s, ks: ks}, nil
}

func testFixture(t *testing.T) *fixture {
	t.Helper()
	fx, err := newFixture(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// exampleFixture is the fixture of an example, in a folder removed by the returned function.
func exampleFixture() (*fixture, func()) {
	dir, err := os.MkdirTemp("", "signet-example")
	if err != nil {
		panic(err)
	}
	fx, err := newFixture(dir)
	if err != nil {
		panic(err)
	}
	return fx, func() { _ = os.RemoveAll(dir) }
}

// snapshot is every file of the store and keystore (the lock aside): a failed operation
// must leave it as it was.
func (fx *fixture) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(fx.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "lock" || strings.HasPrefix(d.Name(), "swept") {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unchanged fails the test when the files differ from before.
func (fx *fixture) unchanged(t *testing.T, what string, before map[string]string) {
	t.Helper()
	after := fx.snapshot(t)
	for p, data := range after {
		if old, ok := before[p]; !ok {
			t.Errorf("%s: wrote %s", what, p)
		} else if old != data {
			t.Errorf("%s: changed %s", what, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: removed %s", what, p)
		}
	}
}

// refuses runs op, which must fail with an error containing want and leave every file of the
// store and keystore as it was.
func (fx *fixture) refuses(t *testing.T, what, want string, op func() error) {
	t.Helper()
	before := fx.snapshot(t)
	if err := op(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: got %v, want an error with %q", what, err, want)
	}
	fx.unchanged(t, what, before)
}

// withUser adds user U to account A; it returns a key of another account, a signer A refuses.
func (fx *fixture) withUser(t *testing.T) (foreignAccount string) {
	t.Helper()
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "U"}); err != nil {
		t.Fatal(err)
	}
	acc, _ := nkeys.CreateAccount()
	pub, _ := acc.PublicKey()
	return pub
}

// scopedKey adds a scoped signing key with role to account (through the library's own account
// edit), stores its seed, and returns its public key.
func (fx *fixture) scopedKey(t *testing.T, account, role string) string {
	t.Helper()
	sk, _ := nkeys.CreateAccount()
	skPub, _ := sk.PublicKey()
	if _, err := fx.ks.Store(sk); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.UpdateAccount(fx.s, fx.ks, ops.AccountUpdate{Account: account, Change: func(_ string, ac *jwt.AccountClaims) error {
		scope := jwt.NewUserScope()
		scope.Key, scope.Role = skPub, role
		ac.SigningKeys.AddScopedSigner(scope)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	return skPub
}

// account is the stored claims of an account of the fixture.
func (fx *fixture) account(t *testing.T, name string) *jwt.AccountClaims {
	t.Helper()
	ac, _, err := fx.s.Account(name)
	if err != nil {
		t.Fatal(err)
	}
	return ac
}
