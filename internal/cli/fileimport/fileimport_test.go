package fileimport_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

type fixture struct {
	t   *testing.T
	e   *clitest.Env
	s   *store.Store
	ks  keystore.KeyStore
	dir string // where the files to import are written
}

func newFixture(t *testing.T, opArgs ...string) *fixture {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun(append([]string{"add", "operator", "O", "--sys"}, opArgs...)...)
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, e: e, s: s, ks: keystore.KeyStore{Dir: e.KeysDir()}, dir: t.TempDir()}
}

func (x *fixture) key(pub string) nkeys.KeyPair {
	x.t.Helper()
	kp, err := x.ks.Get(pub)
	if err != nil {
		x.t.Fatal(err)
	}
	return kp
}

func (x *fixture) operator() *jwt.OperatorClaims {
	x.t.Helper()
	oc, _, err := x.s.Operator()
	if err != nil {
		x.t.Fatal(err)
	}
	return oc
}

func (x *fixture) write(name, content string) string {
	x.t.Helper()
	p := filepath.Join(x.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// encoder is any jwt claims.
type encoder interface {
	Encode(nkeys.KeyPair) (string, error)
}

func encode(t *testing.T, c encoder, kp nkeys.KeyPair) string {
	t.Helper()
	tok, err := c.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// account makes account claims named name with a new key.
func account(t *testing.T, name string) (*jwt.AccountClaims, nkeys.KeyPair) {
	t.Helper()
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	return ac, kp
}

// mustRefuse runs a command that must fail with want in its message and change no file.
func (x *fixture) mustRefuse(want string, args ...string) {
	x.t.Helper()
	before := clitest.Snapshot(x.t, x.e.Home)
	msg := x.e.MustFail(args...)
	if !strings.Contains(msg, want) {
		x.t.Errorf("signet %s: %q does not say %q", strings.Join(args, " "), msg, want)
	}
	if !maps.Equal(before, clitest.Snapshot(x.t, x.e.Home)) {
		x.t.Fatalf("signet %s failed but changed files", strings.Join(args, " "))
	}
}

func TestImportAccountStoresOnlyWhatTheOperatorIssued(t *testing.T) {
	t.Parallel()
	x := newFixture(t, "--generate-signing-key")
	oc := x.operator()
	opKP, skKP := x.key(oc.Subject), x.key(oc.SigningKeys[0])

	// Issued by the operator identity key: stored byte for byte.
	a, _ := account(t, "A")
	tokA := encode(t, a, opKP)
	x.e.MustRun("import", "account", "--file", x.write("A.jwt", tokA))
	if got, _ := x.s.AccountJWT("A"); got != tokA {
		t.Fatalf("stored JWT differs from the imported one")
	}
	// Issued by an operator signing key; nsc's -j spelling.
	b, _ := account(t, "B")
	x.e.MustRun("import", "account", "-j", x.write("B.jwt", encode(t, b, skKP)))
	if ac, _, err := x.s.Account("B"); err != nil || ac.Issuer != oc.SigningKeys[0] {
		t.Fatalf("account B: %v %v", ac, err)
	}

	// Again: needs --overwrite; then the new JWT replaces the old.
	a.Limits.Conn = 7
	newer := x.write("A2.jwt", encode(t, a, opKP))
	x.mustRefuse("--overwrite", "import", "account", "-f", newer)
	x.e.MustRun("import", "account", "-f", newer, "--overwrite")
	if ac, _, _ := x.s.Account("A"); ac.Limits.Conn != 7 {
		t.Fatalf("--overwrite kept the old JWT")
	}

	// Another operator's account is refused, and changes nothing...
	foreignOp, _ := nkeys.CreateOperator()
	c, _ := account(t, "C")
	foreign := x.write("C.jwt", encode(t, c, foreignOp))
	x.mustRefuse("not operator \"O\"", "import", "account", "-f", foreign)
	// ...unless --force re-signs it with this operator (its signing key, by the signer rule).
	x.e.MustRun("import", "account", "-f", foreign, "--force")
	if ac, _, _ := x.s.Account("C"); ac.Issuer != oc.SigningKeys[0] {
		t.Fatalf("--force: issuer %s", ac.Issuer)
	}
	// A self-signed account is signed by the operator; -K chooses the key.
	d, dKP := account(t, "D")
	x.e.MustRun("import", "account", "-f", x.write("D.jwt", encode(t, d, dKP)), "-K", oc.Subject)
	if ac, _, _ := x.s.Account("D"); ac.Issuer != oc.Subject {
		t.Fatalf("self-signed with -K identity: issuer %s", ac.Issuer)
	}

	// Same name, another key: refused even with --overwrite.
	other, _ := account(t, "A")
	x.mustRefuse("another key", "import", "account", "-f", x.write("A3.jwt", encode(t, other, opKP)), "--overwrite")
	// A tampered JWT, a user JWT, garbage, a missing file.
	parts := strings.Split(tokA, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	x.mustRefuse("valid account JWT", "import", "account", "-f", x.write("t.jwt", tampered))
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	_, someAccount := account(t, "X")
	x.mustRefuse("valid account JWT", "import", "account", "-f", x.write("u.jwt", encode(t, jwt.NewUserClaims(upub), someAccount)))
	x.mustRefuse("valid account JWT", "import", "account", "-f", x.write("g.jwt", "hello"))
	x.mustRefuse("read", "import", "account", "-f", filepath.Join(x.dir, "missing.jwt"))
	x.mustRefuse("--file", "import", "account")
	// An expired account is refused unless --skip.
	e, _ := account(t, "E")
	e.Expires = 1
	x.mustRefuse("--skip", "import", "account", "-f", x.write("E.jwt", encode(t, e, opKP)))

	// Under strict signing-key usage the identity key's accounts are refused.
	x.e.MustRun("edit", "operator", "--require-signing-keys")
	f, _ := account(t, "F")
	x.mustRefuse("requires signing keys", "import", "account", "-f", x.write("F.jwt", encode(t, f, opKP)))
}

func TestImportUserStoresOnlyWhatItsAccountIssued(t *testing.T) {
	t.Parallel()
	x := newFixture(t, "--generate-signing-key")
	x.e.MustRun("add", "account", "A", "--sk", "generate")
	x.e.MustRun("add", "account", "B")
	a, _, _ := x.s.Account("A")
	b, _, _ := x.s.Account("B")
	aKP, skKP, bKP := x.key(a.Subject), x.key(a.SigningKeys.Keys()[0]), x.key(b.Subject)

	newUser := func(name string) (*jwt.UserClaims, nkeys.KeyPair) {
		kp, _ := nkeys.CreateUser()
		pub, _ := kp.PublicKey()
		uc := jwt.NewUserClaims(pub)
		uc.Name = name
		return uc, kp
	}
	// creds formats a creds file by hand: jwt.FormatUserConfig refuses a seed of another user.
	creds := func(tok string, kp nkeys.KeyPair) string {
		seed, _ := kp.Seed()
		return "-----BEGIN NATS USER JWT-----\n" + tok + "\n------END NATS USER JWT------\n\n" +
			"-----BEGIN USER NKEY SEED-----\n" + string(seed) + "\n------END USER NKEY SEED------\n"
	}

	// A JWT issued by the account.
	u, _ := newUser("u")
	tokU := encode(t, u, aKP)
	x.e.MustRun("import", "user", "--file", x.write("u.jwt", tokU))
	if got, _ := x.s.UserJWT("A", "u"); got != tokU {
		t.Fatal("stored user JWT differs")
	}
	if x.ks.Has(u.Subject) {
		t.Fatal("a bare JWT put a key in the keystore")
	}
	// A creds file issued by a signing key: the seed is kept and the creds written.
	v, vKP := newUser("v")
	v.IssuerAccount = a.Subject
	tokV := encode(t, v, skKP)
	x.e.MustRun("import", "user", "-f", x.write("v.creds", creds(tokV, vKP)))
	if !x.ks.Has(v.Subject) {
		t.Fatal("the creds file's seed is not in the keystore")
	}
	if data, err := os.ReadFile(x.ks.CredsPath("O", "A", "v")); err != nil || !strings.Contains(string(data), tokV) {
		t.Fatalf("creds file: %v", err)
	}

	// Overwrite rules.
	u.Tags.Add("team:a")
	newer := x.write("u2.jwt", encode(t, u, aKP))
	x.mustRefuse("--overwrite", "import", "user", "-f", newer)
	x.e.MustRun("import", "user", "-f", newer, "--overwrite")

	// Refused: a user of an account the operator does not have.
	stranger, _ := nkeys.CreateAccount()
	w, _ := newUser("w")
	x.mustRefuse("import the account first", "import", "user", "-f", x.write("w.jwt", encode(t, w, stranger)))
	// Refused: signed by another account's key while claiming account A.
	z, _ := newUser("z")
	z.IssuerAccount = a.Subject
	x.mustRefuse("not account \"A\"", "import", "user", "-f", x.write("z.jwt", encode(t, z, bKP)))
	// Refused: signed by A's signing key without naming A as its issuer account.
	y, _ := newUser("y")
	x.mustRefuse("issuer account", "import", "user", "-f", x.write("y.jwt", encode(t, y, skKP)))
	// Refused: a creds file whose seed is another user's.
	q, _ := newUser("q")
	_, otherKP := newUser("other")
	x.mustRefuse("the seed is of", "import", "user", "-f", x.write("q.creds", creds(encode(t, q, aKP), otherKP)))
	// Refused: same name in the account, another key.
	u2, _ := newUser("u")
	x.mustRefuse("another key", "import", "user", "-f", x.write("u3.jwt", encode(t, u2, aKP)), "--overwrite")
	x.mustRefuse("valid user JWT", "import", "user", "-f", x.write("acct.jwt", encode(t, jwt.NewAccountClaims(a.Subject), aKP)))

	// Under strict signing-key usage, a user the account identity key signed is refused.
	x.e.MustRun("edit", "operator", "--require-signing-keys")
	r, _ := newUser("r")
	x.mustRefuse("requires signing keys", "import", "user", "-f", x.write("r.jwt", encode(t, r, aKP)))
}

func TestImportOperatorMakesAStoreAndReplacesOnlyWithOverwrite(t *testing.T) {
	t.Parallel()
	src := newFixture(t)
	_, opJWT, err := src.s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	file := src.write("O.jwt", opJWT)

	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("import", "operator", "--file", file)
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.OperatorJWT(); got != opJWT || !s.Info.Managed {
		t.Fatalf("imported store: managed %t, same JWT %t", s.Info.Managed, got == opJWT)
	}
	x := &fixture{t: t, e: e, s: s, dir: t.TempDir()}
	x.mustRefuse("--overwrite", "import", "operator", "-f", file)
	e.MustRun("import", "operator", "-f", file, "--overwrite")
	e.MustRun("import", "operator", "-f", file, "--name", "O2")
	if _, err := (store.Stores{Dir: e.StoresDir()}).Open("O2"); err != nil {
		t.Fatalf("--name: %v", err)
	}

	// Another operator named O: refused, even with --overwrite.
	other, _ := nkeys.CreateOperator()
	opub, _ := other.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "O"
	x.mustRefuse("another key", "import", "operator", "-f", x.write("O3.jwt", encode(t, oc, other)), "--overwrite")
	// An operator JWT signed by a key that is not its own.
	forger, _ := nkeys.CreateOperator()
	oc.Name = "P"
	x.mustRefuse("not its own key", "import", "operator", "-f", x.write("P.jwt", encode(t, oc, forger)))
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	x.mustRefuse("valid operator JWT", "import", "operator", "-f", x.write("A.jwt", encode(t, jwt.NewAccountClaims(apub), akp)))
}

func TestImportKeysStoresTheSeedsOfAFolder(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	dir := filepath.Join(x.dir, "keys")
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	var pubs []string
	for _, d := range []string{dir, dir, sub} {
		kp, _ := nkeys.CreateAccount()
		pub, _ := kp.PublicKey()
		seed, _ := kp.Seed()
		if err := os.WriteFile(filepath.Join(d, pub+".nk"), seed, 0o600); err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, pub)
	}
	x.e.MustRun("import", "keys", "--dir", dir)
	if !x.ks.Has(pubs[0]) || !x.ks.Has(pubs[1]) || x.ks.Has(pubs[2]) {
		t.Fatalf("without --recurse: %t %t %t", x.ks.Has(pubs[0]), x.ks.Has(pubs[1]), x.ks.Has(pubs[2]))
	}
	x.e.MustRun("import", "keys", "--dir", dir, "-R")
	if !x.ks.Has(pubs[2]) {
		t.Fatal("--recurse did not import the subfolder")
	}
	if err := os.WriteFile(filepath.Join(sub, "bad.nk"), []byte("not a seed"), 0o600); err != nil {
		t.Fatal(err)
	}
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	if err := os.WriteFile(filepath.Join(dir, pub+".nk"), seed, 0o600); err != nil {
		t.Fatal(err)
	}
	x.mustRefuse("bad.nk", "import", "keys", "--dir", dir, "-R")
	if x.ks.Has(pub) {
		t.Fatal("a failed import stored a key")
	}
}
