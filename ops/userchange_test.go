package ops_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

func TestEditUser(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	u, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "U", Header: ops.Header{Tags: []string{"old"}}})
	if err != nil {
		t.Fatal(err)
	}
	bearer := true
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := ops.EditUser(fx.s, fx.ks, ops.EditUserRequest{
		Account:     "A",
		User:        u.PublicKey, // by public key: the user named U changes
		Header:      ops.Header{Expiry: "30d", RmTags: []string{"OLD"}, Tags: []string{"team:x"}},
		Permissions: authz.UserPermOptions{AllowSub: []string{"b.>"}, Bearer: &bearer},
		Now:         now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Account != "A" || res.Name != "U" || res.PublicKey != u.PublicKey || len(res.Changes) == 0 {
		t.Errorf("result: %+v", res)
	}
	uc, tok, err := fx.s.User("A", "U")
	if err != nil {
		t.Fatal(err)
	}
	if tok != res.JWT || !uc.Sub.Allow.Contains("b.>") || !uc.BearerToken ||
		uc.Expires != now.Add(30*24*time.Hour).Unix() || len(uc.Tags) != 1 || uc.Tags[0] != "team:x" {
		t.Errorf("stored user: %+v", uc)
	}
	if users, _ := fx.s.ListUsers("A"); len(users) != 1 {
		t.Errorf("users after the edit: %v", users)
	}
	creds, err := os.ReadFile(res.CredsPath)
	if err != nil || !strings.Contains(string(creds), res.JWT) {
		t.Errorf("creds %s not rewritten: %v", res.CredsPath, err)
	}
}

// An edit of a user signed by a scoped key keeps it scoped: it keeps its signer and carries no
// permissions of its own; a permission change needs a non-scoped signer, which unscopes it.
func TestEditUserScoped(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	skPub := fx.scopedKey(t, "A", "svc")
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "S", Signer: "svc"}); err != nil {
		t.Fatal(err)
	}
	fx.refuses(t, "permissions on a scoped user", "is scoped", func() error {
		_, err := ops.EditUser(fx.s, fx.ks, ops.EditUserRequest{Account: "A", User: "S", Permissions: authz.UserPermOptions{AllowPub: []string{"x"}}})
		return err
	})

	res, err := ops.EditUser(fx.s, fx.ks, ops.EditUserRequest{Account: "A", User: "S", Header: ops.Header{Tags: []string{"t"}}})
	if err != nil {
		t.Fatal(err)
	}
	uc, _ := jwt.DecodeUserClaims(res.JWT)
	if uc.Issuer != skPub || !uc.HasEmptyPermissions() {
		t.Errorf("scoped user edited: issuer %s, permissions %+v", uc.Issuer, uc.UserPermissionLimits)
	}
	ac := fx.account(t, "A")
	res, err = ops.EditUser(fx.s, fx.ks, ops.EditUserRequest{Account: "A", User: "S", Signer: ac.Subject, Permissions: authz.UserPermOptions{AllowPub: []string{"x"}}})
	if err != nil {
		t.Fatal(err)
	}
	uc, _ = jwt.DecodeUserClaims(res.JWT)
	if uc.Issuer != ac.Subject || !uc.Pub.Allow.Contains("x") {
		t.Errorf("re-signed with the identity key: issuer %s, pub %v", uc.Issuer, uc.Pub.Allow)
	}
}

func TestEditUserBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	accPub := fx.withUser(t)
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "V"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  ops.EditUserRequest
		want string
	}{
		{"no name, two users", ops.EditUserRequest{Account: "A", Header: ops.Header{Tags: []string{"t"}}}, "user name is required"},
		{"no such account", ops.EditUserRequest{Account: "B", User: "U"}, "B"},
		{"no such user", ops.EditUserRequest{Account: "A", User: "W"}, "W"},
		{"nothing to edit", ops.EditUserRequest{Account: "A", User: "U"}, "nothing to edit"},
		{"bad expiry", ops.EditUserRequest{Account: "A", User: "U", Header: ops.Header{Expiry: "soon"}}, "--expiry"},
		{"bad permission", ops.EditUserRequest{Account: "A", User: "U", Permissions: authz.UserPermOptions{AllowPub: []string{"a..b"}}}, "a..b"},
		{"foreign signer", ops.EditUserRequest{Account: "A", User: "U", Signer: accPub}, "not the identity key or a signing key"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.EditUser(fx.s, fx.ks, tc.req); return err })
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	var users []*ops.AddUserResult
	for _, n := range []string{"U", "V", "W"} {
		u, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: n})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	u, v, w := users[0], users[1], users[2]
	at := time.Unix(1_800_000_000, 0)
	// U by name and V by public key, revoked, with their creds and keys.
	res, err := ops.DeleteUser(fx.s, fx.ks, ops.DeleteUserRequest{Account: "A", Users: []string{"U", v.PublicKey}, Revoke: true, At: at, RmCreds: true, RmKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Account != "A" || len(res.Deleted) != 2 || res.Deleted[0] != (ops.DeletedUser{Name: "U", PublicKey: u.PublicKey}) || res.Deleted[1].Name != "V" {
		t.Errorf("result: %+v", res)
	}
	if res.Revoked == nil || len(res.Revoked.Revocations) != 2 {
		t.Fatalf("revocations: %+v", res.Revoked)
	}
	ac := fx.account(t, "A")
	if ac.Revocations[u.PublicKey] != at.Unix() || ac.Revocations[v.PublicKey] != at.Unix() {
		t.Errorf("stored revocations: %v", ac.Revocations)
	}
	for _, x := range []*ops.AddUserResult{u, v} {
		if fx.s.HasUser("A", x.Name) || fx.ks.Has(x.PublicKey) {
			t.Errorf("user %s or its key left", x.Name)
		}
		if _, err := os.Stat(x.CredsPath); !os.IsNotExist(err) {
			t.Errorf("creds of %s left: %v", x.Name, err)
		}
	}
	// W without revocation: the account is not re-signed; key and creds stay.
	before := fx.account(t, "A")
	res, err = ops.DeleteUser(fx.s, fx.ks, ops.DeleteUserRequest{Account: "A", Users: []string{"W"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Revoked != nil || fx.s.HasUser("A", "W") {
		t.Errorf("delete without revocation: %+v", res)
	}
	if after := fx.account(t, "A"); after.IssuedAt != before.IssuedAt || after.Revocations[w.PublicKey] != 0 {
		t.Error("the account changed without revocation")
	}
	if _, err := os.Stat(w.CredsPath); err != nil || !fx.ks.Has(w.PublicKey) {
		t.Errorf("W's creds or key removed unasked: %v", err)
	}
}

func TestDeleteUserBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "U"}); err != nil {
		t.Fatal(err)
	}
	opk, _ := nkeys.CreateOperator()
	foreign, _ := opk.PublicKey()
	for _, tc := range []struct {
		name string
		req  ops.DeleteUserRequest
		want string
	}{
		{"no user", ops.DeleteUserRequest{Account: "A", Revoke: true}, "user name is required"},
		{"no such account", ops.DeleteUserRequest{Account: "B", Users: []string{"U"}, Revoke: true}, "B"},
		// U exists, V does not: U is neither revoked nor deleted.
		{"one missing", ops.DeleteUserRequest{Account: "A", Users: []string{"U", "V"}, Revoke: true, RmCreds: true, RmKey: true}, "V"},
		{"foreign signer", ops.DeleteUserRequest{Account: "A", Users: []string{"U"}, Revoke: true, Signer: foreign, RmKey: true}, "revoke before delete"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.DeleteUser(fx.s, fx.ks, tc.req); return err })
	}
}
