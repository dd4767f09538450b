package ops_test

import (
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

// bearerScope adds a scoped signing key with role to account A whose template says bearer
// (or not) and returns its public key.
func (fx *fixture) bearerScope(t *testing.T, role string, bearer bool) string {
	t.Helper()
	res, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "generate", Role: role, Permissions: authz.UserPermOptions{Bearer: &bearer}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Key
}

// disallowBearerRequest is `edit account A --disallow-bearer`.
func disallowBearerRequest() ops.EditAccountRequest {
	yes := true
	return ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{DisallowBearer: &yes}}}
}

// disallowBearer sets --disallow-bearer on account A.
func (fx *fixture) disallowBearer(t *testing.T) *ops.EditAccountResult {
	t.Helper()
	res, err := ops.EditAccount(fx.s, fx.ks, disallowBearerRequest())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A user signed by a scoped key whose template says bearer is a bearer user, which nats-server
// refuses in an account that disallows bearer tokens: add user and edit user -K with that key
// are refused there, as --bearer is, and write nothing; a scope without bearer signs as before.
func TestScopedBearerSignerRefusedWhereTheAccountDisallowsBearer(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	fx.bearerScope(t, "svc", true)
	fx.bearerScope(t, "plain", false)
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "U", Signer: "plain"}); err != nil {
		t.Fatal(err)
	}
	fx.disallowBearer(t)

	fx.refuses(t, "add user -K svc", `user "V" would be a bearer user, which the server refuses`, func() error {
		_, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "V", Signer: "svc"})
		return err
	})
	fx.refuses(t, "edit user -K svc", "--sk svc --bearer=false", func() error {
		_, err := ops.EditUser(fx.s, fx.ks, ops.EditUserRequest{Account: "A", User: "U", Signer: "svc"})
		return err
	})
	yes := true
	fx.refuses(t, "add user --bearer", `user "V" cannot be a bearer user`, func() error {
		_, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "V", Permissions: authz.UserPermOptions{Bearer: &yes}})
		return err
	})
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "V", Signer: "plain"}); err != nil {
		t.Errorf("add user -K plain (no bearer in its template): %v", err)
	}
}

// --disallow-bearer is refused while a user is a bearer user through its scope, naming the
// user and the scope's fix; once the scope drops bearer it is accepted, with a warning for a
// bearer scope that signs no user yet.
func TestDisallowBearerRefusedWhileAScopeMakesAUserBearer(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	fx.bearerScope(t, "svc", true)
	fx.bearerScope(t, "idle", true)
	for _, u := range []string{"s1", "s2"} {
		if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: u, Signer: "svc"}); err != nil {
			t.Fatal(err)
		}
	}
	before := fx.snapshot(t)
	_, err := ops.EditAccount(fx.s, fx.ks, disallowBearerRequest())
	fx.unchanged(t, "edit account --disallow-bearer", before)
	for _, want := range []string{`user "s1" of account "A" is a bearer user through scoped signing key`, `user "s2" of account "A"`, "--sk svc --bearer=false"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("edit account --disallow-bearer with scoped bearer users: got %v, want an error with %q", err, want)
		}
	}

	no := false
	if _, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "svc", Permissions: authz.UserPermOptions{Bearer: &no}}); err != nil {
		t.Fatal(err)
	}
	res := fx.disallowBearer(t)
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `(role "idle") says --bearer`) {
		t.Errorf("warnings: %q, want one for the idle bearer scope", res.Warnings)
	}
}

// In an account that disallows bearer tokens, bearer in the template of a scoped key that signs
// users is refused, naming them, and changes nothing; on a key that signs none it is accepted
// with a warning (add user refuses the users it would sign).
func TestEditSigningKeyBearerRefusedWhereItsUsersWouldBeRefused(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	fx.bearerScope(t, "svc", false)
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "s1", Signer: "svc"}); err != nil {
		t.Fatal(err)
	}
	fx.disallowBearer(t)
	yes := true
	fx.refuses(t, "edit signing-key svc --bearer", `signs user(s) "s1": with --bearer in its template the server would refuse them`, func() error {
		_, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "svc", Permissions: authz.UserPermOptions{Bearer: &yes}})
		return err
	})
	res, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "generate", Role: "idle", Permissions: authz.UserPermOptions{Bearer: &yes}})
	if err != nil {
		t.Fatalf("bearer on a scope without users: %v", err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `account "A" disallows bearer tokens`) {
		t.Errorf("warnings: %q, want the disallow-bearer one", res.Warnings)
	}
}

// TestIsBearerUserReadsAUserAsTheServerDoes: nats-server binds a user to the account its
// issuer_account names (its issuer when empty), puts the template of that account's scoped
// signing key that signed it in place of its own permissions, bearer included, and checks
// bearer then. A user bound to another account, or to none, is no bearer user of this one.
func TestIsBearerUserReadsAUserAsTheServerDoes(t *testing.T) {
	t.Parallel()
	key := func(create func() (nkeys.KeyPair, error)) string {
		kp, err := create()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		return pub
	}
	acc, other, plain, upub := key(nkeys.CreateAccount), key(nkeys.CreateAccount), key(nkeys.CreateAccount), key(nkeys.CreateUser)
	ac := jwt.NewAccountClaims(acc)
	bearerScope := jwt.NewUserScope()
	bearerScope.Key, bearerScope.Template.BearerToken = key(nkeys.CreateAccount), true
	quietScope := jwt.NewUserScope()
	quietScope.Key = key(nkeys.CreateAccount)
	ac.SigningKeys.Add(plain)
	ac.SigningKeys.AddScopedSigner(bearerScope)
	ac.SigningKeys.AddScopedSigner(quietScope)
	for _, tc := range []struct {
		name                  string
		issuer, issuerAccount string
		own                   bool // the user's own bearer_token
		bearer                bool
		scope                 *jwt.UserScope
	}{
		{"identity key, own bearer", acc, "", true, true, nil},
		{"identity key, no bearer", acc, "", false, false, nil},
		{"identity key, issuer_account the account", acc, acc, true, true, nil},
		{"unscoped signing key, own bearer", plain, acc, true, true, nil},
		{"scope with bearer", bearerScope.Key, acc, false, true, bearerScope},
		{"scope without bearer, own bearer", quietScope.Key, acc, true, false, quietScope},
		{"scope with bearer, issuer_account another account", bearerScope.Key, other, false, false, nil},
		{"scope with bearer, no issuer_account", bearerScope.Key, "", false, false, nil},
		{"identity key, own bearer, issuer_account another account", acc, other, true, false, nil},
	} {
		uc := jwt.NewUserClaims(upub)
		uc.Issuer, uc.IssuerAccount, uc.BearerToken = tc.issuer, tc.issuerAccount, tc.own
		if got := ops.IsBearerUser(uc, ac); got != tc.bearer {
			t.Errorf("%s: IsBearerUser = %t, want %t", tc.name, got, tc.bearer)
		}
		if got := ops.UserScope(uc, ac); got != tc.scope {
			t.Errorf("%s: UserScope = %+v, want %+v", tc.name, got, tc.scope)
		}
	}
	if ops.IsBearerUser(jwt.NewUserClaims(upub), nil) || ops.UserScope(jwt.NewUserClaims(upub), nil) != nil {
		t.Error("a user of no account is a bearer or scoped user")
	}
}
