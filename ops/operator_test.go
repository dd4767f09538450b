package ops_test

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/ops"
	storepkg "github.com/signet-dev/signet/store"
)

func (fx *fixture) stores() storepkg.Stores {
	return storepkg.Stores{Dir: filepath.Join(fx.dir, "stores")}
}

func (fx *fixture) operator(t *testing.T) *jwt.OperatorClaims {
	t.Helper()
	oc, _, err := fx.s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

func TestAddOperator(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	res, err := ops.AddOperator(fx.stores(), fx.ks, ops.AddOperatorRequest{
		Name:               "P",
		GenerateSigningKey: true,
		OperatorSettings:   ops.OperatorSettings{ServiceURLs: []string{"nats://localhost:4222"}},
		System:             true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.KeyGenerated || !fx.ks.Has(res.PublicKey) || len(res.SigningKeys) != 1 || !fx.ks.Has(res.SigningKeys[0]) || len(res.Changes) != 1 {
		t.Errorf("result: %+v", res)
	}
	oc, _, err := res.Store.Operator()
	if err != nil {
		t.Fatal(err)
	}
	sys := res.System
	if oc.Name != "P" || oc.Subject != res.PublicKey || oc.SystemAccount != sys.Account.PublicKey || oc.OperatorServiceURLs[0] != "nats://localhost:4222" {
		t.Errorf("stored operator: %+v", oc)
	}
	// The operator has signing keys, so SYS has one too and its user sys is signed by it.
	uc, _, err := res.Store.User("SYS", "sys")
	if err != nil {
		t.Fatal(err)
	}
	if sys.SigningKey == "" || uc.Issuer != sys.SigningKey || uc.IssuerAccount != sys.Account.PublicKey || !fx.ks.Has(sys.SigningKey) {
		t.Errorf("sys user issuer %s, system account signing key %q", uc.Issuer, sys.SigningKey)
	}
	// -K: the given key, stored.
	okp, _ := nkeys.CreateOperator()
	seed, _ := okp.Seed()
	opub, _ := okp.PublicKey()
	res, err = ops.AddOperator(fx.stores(), fx.ks, ops.AddOperatorRequest{Name: "Q", Signer: string(seed)})
	if err != nil {
		t.Fatal(err)
	}
	if res.KeyGenerated || res.PublicKey != opub || !fx.ks.Has(opub) || res.System != nil {
		t.Errorf("result with -K: %+v", res)
	}
}

func TestAddOperatorBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	akp, _ := nkeys.CreateAccount()
	aseed, _ := akp.Seed()
	other, _ := nkeys.CreateOperator()
	opub, _ := other.PublicKey()
	for _, tc := range []struct {
		name string
		req  ops.AddOperatorRequest
		want string
	}{
		{"no name", ops.AddOperatorRequest{}, "name is required"},
		{"bad name", ops.AddOperatorRequest{Name: "a/b"}, "operator name"},
		{"exists", ops.AddOperatorRequest{Name: "O"}, "already exists"},
		{"account key as -K", ops.AddOperatorRequest{Name: "P", Signer: string(aseed)}, "not an operator key"},
		{"public key as -K", ops.AddOperatorRequest{Name: "P", Signer: opub}, "not its public key"},
		{"bad service url", ops.AddOperatorRequest{Name: "P", OperatorSettings: ops.OperatorSettings{ServiceURLs: []string{"http://x"}}}, "service url"},
		{"bad account server", ops.AddOperatorRequest{Name: "P", OperatorSettings: ops.OperatorSettings{AccountServer: "ftp://x"}}, "--account-jwt-server-url"},
		{"bad signing key", ops.AddOperatorRequest{Name: "P", OperatorSettings: ops.OperatorSettings{SigningKeys: []string{string(aseed)}}}, "not an operator key"},
		{"bad expiry", ops.AddOperatorRequest{Name: "P", Header: ops.Header{Expiry: "soon"}}, "soon"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.AddOperator(fx.stores(), fx.ks, tc.req); return err })
	}
}

func TestEditOperator(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	before := fx.operator(t)
	res, err := ops.EditOperator(fx.s, fx.ks, ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{
		SigningKeys:   []string{"generate"},
		ServiceURLs:   []string{"nats://a:4222"},
		AccountServer: "http://a:9090/jwt/v1",
		SystemAccount: "A", // by name
	}})
	if err != nil {
		t.Fatal(err)
	}
	oc := fx.operator(t)
	ac := fx.account(t, "A")
	if oc.IssuedAt < before.IssuedAt || len(oc.SigningKeys) != 1 || !fx.ks.Has(oc.SigningKeys[0]) || oc.AccountServerURL != "http://a:9090/jwt/v1" ||
		oc.SystemAccount != ac.Subject || len(res.Changes) != 4 || res.JWT == "" || res.Resigned != nil {
		t.Errorf("operator %+v, result %+v", oc, res)
	}
	// Strict usage: account A, signed by the identity key, is re-signed by the signing key.
	// A user signed by A's identity key cannot be re-signed (A has no signing key) until A has one.
	fx.withUser(t)
	if _, err := fx.s.ListUsers("A"); err != nil { // writes the list's journal, a cache
		t.Fatal(err)
	}
	fx.refuses(t, "strict without an account signing key", "cannot be re-signed", func() error {
		_, err := ops.EditOperator(fx.s, fx.ks, ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{RequireSK: true, SigningKeys: []string{"generate"}}})
		return err
	})
	if _, err := ops.EditAccount(fx.s, fx.ks, ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{SigningKeys: []string{"generate"}}}); err != nil {
		t.Fatal(err)
	}
	res, err = ops.EditOperator(fx.s, fx.ks, ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{RequireSK: true}})
	if err != nil {
		t.Fatal(err)
	}
	// A was re-signed by the operator signing key when it got its own; its user U is re-signed now.
	if res.Resigned == nil || len(res.Resigned.Users) != 1 || len(res.Creds) != 1 {
		t.Fatalf("result: %+v", res)
	}
	ac = fx.account(t, "A")
	uc, _, _ := fx.s.User("A", "U")
	if !fx.operator(t).StrictSigningKeyUsage || ac.Issuer != oc.SigningKeys[0] || uc.Issuer == ac.Subject {
		t.Errorf("not re-signed for strict usage: account issuer %s, user issuer %s", ac.Issuer, uc.Issuer)
	}
	// AutoPush alone changes signet's setting, not the JWT.
	jwtBefore, _ := fx.s.OperatorJWT()
	on := true
	res, err = ops.EditOperator(fx.s, fx.ks, ops.EditOperatorRequest{AutoPush: &on})
	if err != nil {
		t.Fatal(err)
	}
	if jwtAfter, _ := fx.s.OperatorJWT(); res.JWT != "" || jwtAfter != jwtBefore || !fx.s.AutoPush() {
		t.Errorf("auto push alone: result %+v, auto push %t", res, fx.s.AutoPush())
	}
}

func TestEditOperatorBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	on := true
	for _, tc := range []struct {
		name string
		req  ops.EditOperatorRequest
		want string
	}{
		{"nothing to edit", ops.EditOperatorRequest{}, "nothing to edit"},
		{"no such system account", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{SystemAccount: "B"}}, "--system-account"},
		{"system account not an account key", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{SystemAccount: upub}}, "--system-account"},
		{"user key as signing key", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{SigningKeys: []string{upub}}}, "not an operator key"},
		{"bad service url", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{RmServiceURLs: []string{"nats://"}}}, "service url"},
		{"account server twice", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{AccountServer: "http://a", RmAccountServer: true}}, "exclusive"},
		{"strict and not", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{RequireSK: true, NoRequireSK: true}}, "exclusive"},
		// No operator signing key: account A cannot be re-signed; the auto push stays off too.
		{"strict without signing keys", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{RequireSK: true}, AutoPush: &on}, "cannot be re-signed"},
		// A wrong -K: the generated signing key is not stored either.
		{"wrong signer", ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{SigningKeys: []string{"generate"}}, Signer: upub}, "not the identity key"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.EditOperator(fx.s, fx.ks, tc.req); return err })
	}
}
