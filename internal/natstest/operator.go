// Package natstest starts embedded nats-servers for tests: operator-mode servers that trust a
// given operator JWT and use one of nats-server's account resolvers (memory, URL, full, cache),
// and clusters of full-resolver servers. It also makes throwaway operators with a system account
// and a system user, for tests that do not need the signet store.
//
// Every server is shut down by t.Cleanup; every port is random. Servers are configured through a
// generated configuration file read with server.ProcessConfigFile, so what is tested is what a
// user's nats-server.conf would do.
package natstest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Trust is what an operator-mode server needs to know: the operator JWT it trusts, the system
// account's public key and that account's JWT (preloaded into the server's resolver).
type Trust struct {
	OperatorJWT      string
	SystemAccount    string
	SystemAccountJWT string
}

// Operator is a throwaway operator made in memory: its key, its JWT (with SystemAccount set),
// the system account, and one user of the system account.
type Operator struct {
	KP  nkeys.KeyPair
	Pub string
	JWT string

	SysKP  nkeys.KeyPair
	SysPub string
	SysJWT string

	SysUserJWT  string
	SysUserSeed []byte
}

// OperatorOption changes the operator claims before NewOperator signs them.
type OperatorOption func(*jwt.OperatorClaims)

// WithAccountServerURL sets the operator's account server URL (like "http://host:port/jwt/v1").
func WithAccountServerURL(u string) OperatorOption {
	return func(c *jwt.OperatorClaims) { c.AccountServerURL = u }
}

// NewOperator creates an operator named name with a system account "SYS" and a system user.
// It fails the test on any error.
func NewOperator(t testing.TB, name string, opts ...OperatorOption) *Operator {
	t.Helper()
	okp, err := nkeys.CreateOperator()
	must(t, err)
	opub, err := okp.PublicKey()
	must(t, err)
	skp, err := nkeys.CreateAccount()
	must(t, err)
	spub, err := skp.PublicKey()
	must(t, err)

	oc := jwt.NewOperatorClaims(opub)
	oc.Name = name
	oc.SystemAccount = spub
	for _, o := range opts {
		o(oc)
	}
	ojwt, err := oc.Encode(okp)
	must(t, err)

	sc := jwt.NewAccountClaims(spub)
	sc.Name = "SYS"
	sjwt, err := sc.Encode(okp)
	must(t, err)

	op := &Operator{KP: okp, Pub: opub, JWT: ojwt, SysKP: skp, SysPub: spub, SysJWT: sjwt}
	op.SysUserJWT, op.SysUserSeed = op.User(t, skp, "sys")
	return op
}

// Trust returns what a server needs to trust this operator.
func (o *Operator) Trust() Trust {
	return Trust{OperatorJWT: o.JWT, SystemAccount: o.SysPub, SystemAccountJWT: o.SysJWT}
}

// Account creates an account named name signed by the operator key and returns its key pair,
// public key and JWT. edit, if given, changes the claims before signing.
func (o *Operator) Account(t testing.TB, name string, edit ...func(*jwt.AccountClaims)) (nkeys.KeyPair, string, string) {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	must(t, err)
	pub, err := kp.PublicKey()
	must(t, err)
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	for _, e := range edit {
		e(ac)
	}
	tok, err := ac.Encode(o.KP)
	must(t, err)
	return kp, pub, tok
}

// Accounts creates n operator-signed accounts named A0..A<n-1> and returns public key -> JWT.
func (o *Operator) Accounts(t testing.TB, n int) map[string]string {
	t.Helper()
	out := make(map[string]string, n)
	for i := range n {
		_, pub, tok := o.Account(t, fmt.Sprintf("A%d", i))
		out[pub] = tok
	}
	return out
}

// SelfSignedAccount creates an account JWT signed by the account's own key, as a client of a
// managed operator pushes it, and returns the key pair, public key and JWT.
func SelfSignedAccount(t testing.TB, name string) (nkeys.KeyPair, string, string) {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	must(t, err)
	pub, err := kp.PublicKey()
	must(t, err)
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	tok, err := ac.Encode(kp)
	must(t, err)
	return kp, pub, tok
}

// User creates a user of the account whose key is accountKP and returns its JWT and seed.
func (o *Operator) User(t testing.TB, accountKP nkeys.KeyPair, name string) (string, []byte) {
	t.Helper()
	ukp, err := nkeys.CreateUser()
	must(t, err)
	upub, err := ukp.PublicKey()
	must(t, err)
	seed, err := ukp.Seed()
	must(t, err)
	uc := jwt.NewUserClaims(upub)
	uc.Name = name
	tok, err := uc.Encode(accountKP)
	must(t, err)
	return tok, seed
}

// SysUserOption is a nats.Option authenticating as the operator's system user.
func (o *Operator) SysUserOption() nats.Option {
	return nats.UserJWTAndSeed(o.SysUserJWT, string(o.SysUserSeed))
}

// SysCredsFile writes the system user's creds file (mode 0600) into a test temp dir and
// returns its path.
func (o *Operator) SysCredsFile(t testing.TB) string {
	t.Helper()
	creds, err := jwt.FormatUserConfig(o.SysUserJWT, o.SysUserSeed)
	must(t, err)
	p := filepath.Join(t.TempDir(), "sys.creds")
	must(t, os.WriteFile(p, creds, 0o600))
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
