package ops_test

import (
	"os"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

func TestAddUser(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	ac := fx.account(t, "A")
	res, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{
		Account:     ac.Subject, // by public key
		Name:        "U",
		Header:      ops.Header{Expiry: "30d", Tags: []string{"team:x"}},
		Permissions: authz.UserPermOptions{AllowPub: []string{"a.>"}, Subs: "10"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Account != "A" || res.Name != "U" || !res.KeyGenerated || !nkeys.IsValidPublicUserKey(res.PublicKey) || len(res.Changes) == 0 {
		t.Errorf("result: %+v", res)
	}
	uc, tok, err := fx.s.User("A", "U")
	if err != nil {
		t.Fatal(err)
	}
	if tok != res.JWT || uc.Subject != res.PublicKey || uc.Issuer != ac.Subject {
		t.Errorf("stored user differs from the result: %+v", uc)
	}
	if uc.Expires == 0 || len(uc.Tags) != 1 || uc.Subs != 10 || !uc.Pub.Allow.Contains("a.>") {
		t.Errorf("header or permissions not applied: %+v", uc)
	}
	creds, err := os.ReadFile(res.CredsPath)
	if err != nil || !strings.Contains(string(creds), res.JWT) {
		t.Errorf("creds %s: %v", res.CredsPath, err)
	}
	if !fx.ks.Has(res.PublicKey) {
		t.Error("the user's key is not in the keystore")
	}
}

func TestAddUserScopedBySigningKeyRole(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	skPub := fx.scopedKey(t, "A", "svc")
	res, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "S", Signer: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	uc, err := jwt.DecodeUserClaims(res.JWT)
	if err != nil {
		t.Fatal(err)
	}
	if uc.Issuer != skPub || !uc.HasEmptyPermissions() {
		t.Errorf("user not scoped by the role's key: issuer %s", uc.Issuer)
	}
	// A scoped signer refuses permissions of the user's own, and nothing is written.
	fx.refuses(t, "scoped signer with permissions", "scoped signing key", func() error {
		_, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "T", Signer: "svc", Permissions: authz.UserPermOptions{AllowPub: []string{"x"}}})
		return err
	})
}

func TestAddUserBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	accPub := fx.withUser(t)
	for _, tc := range []struct {
		name string
		req  ops.AddUserRequest
		want string
	}{
		{"no name", ops.AddUserRequest{Account: "A"}, "user name is required"},
		{"bad name", ops.AddUserRequest{Account: "A", Name: "a/b"}, "user name"},
		{"no such account", ops.AddUserRequest{Account: "B", Name: "V"}, "B"},
		{"exists", ops.AddUserRequest{Account: "A", Name: "U"}, "already exists"},
		{"bad expiry", ops.AddUserRequest{Account: "A", Name: "V", Header: ops.Header{Expiry: "soon"}}, "--expiry"},
		{"bad permission", ops.AddUserRequest{Account: "A", Name: "V", Permissions: authz.UserPermOptions{AllowPub: []string{"a..b"}}}, "a..b"},
		{"not a user key", ops.AddUserRequest{Account: "A", Name: "V", PublicKey: accPub}, "not a user key"},
		{"foreign signer", ops.AddUserRequest{Account: "A", Name: "V", Signer: accPub}, "not the identity key or a signing key"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.AddUser(fx.s, fx.ks, tc.req); return err })
	}
}
