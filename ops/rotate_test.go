package ops_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

// withScopedUsers gives account A a scoped signing key with role svc and users U1 and U2 it
// signed, U2 revoked; it returns the key.
func (fx *fixture) withScopedUsers(t *testing.T) string {
	t.Helper()
	sk, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "generate", Role: "svc", Permissions: authz.UserPermOptions{AllowPub: []string{"x.>"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"U1", "U2"} {
		if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: u, Signer: "svc"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A", Users: []string{"U2"}, At: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return sk.Key
}

func TestRotateAccountSigningKey(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	old := fx.withScopedUsers(t)
	res, err := ops.RotateSigningKey(fx.s, fx.ks, ops.RotateSigningKeyRequest{Account: "A", Old: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Account != "A" || res.Old != old || !res.KeyAdded || len(res.Reissued) != 2 || res.Reissued[0].Name != "U1" || res.Reissued[0].CredsPath == "" || !slices.Equal(res.KeptRevoked, []string{"U2"}) {
		t.Errorf("result: %+v", res)
	}
	ac := fx.account(t, "A")
	sc, ok := ac.SigningKeys.GetScope(res.New)
	us, _ := sc.(*jwt.UserScope)
	if ac.SigningKeys.Contains(old) || !ok || us == nil || us.Role != "svc" || !us.Template.Pub.Allow.Contains("x.>") || !fx.ks.Has(res.New) {
		t.Errorf("account after rotation: keys %v, scope %+v", ac.SigningKeys.Keys(), sc)
	}
	for _, u := range []string{"U1", "U2"} {
		uc, _, err := fx.s.User("A", u)
		if err != nil {
			t.Fatal(err)
		}
		if uc.Issuer != res.New {
			t.Errorf("user %s signed by %s, want %s", u, uc.Issuer, res.New)
		}
		if revoked := ac.IsClaimRevoked(uc); revoked != (u == "U2") {
			t.Errorf("user %s revoked: %t", u, revoked)
		}
	}
	if _, err := os.Stat(filepath.Join(fx.s.Dir, ".signet", "rotations", old+".json")); !os.IsNotExist(err) {
		t.Errorf("journal left: %v", err)
	}
}

func TestRotateOperatorSigningKey(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	if _, err := ops.EditOperator(fx.s, fx.ks, ops.EditOperatorRequest{OperatorSettings: ops.OperatorSettings{SigningKeys: []string{"generate"}}}); err != nil {
		t.Fatal(err)
	}
	old := fx.operator(t).SigningKeys[0]
	if _, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{Name: "B"}); err != nil { // signed by old
		t.Fatal(err)
	}
	res, err := ops.RotateSigningKey(fx.s, fx.ks, ops.RotateSigningKeyRequest{Operator: true, Old: old})
	if err != nil {
		t.Fatal(err)
	}
	oc := fx.operator(t)
	if len(res.Reissued) != 1 || res.Reissued[0].Name != "B" || !slices.Equal(oc.SigningKeys, []string{res.New}) {
		t.Errorf("result %+v, operator keys %v", res, oc.SigningKeys)
	}
	if iss := fx.account(t, "B").Issuer; iss != res.New {
		t.Errorf("account B signed by %s, want %s", iss, res.New)
	}
}

func TestRotateResumesAfterInterruption(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	old := fx.withScopedUsers(t)
	p := fx.s.UserPath("A", "U2")
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.RotateSigningKey(fx.s, fx.ks, ops.RotateSigningKeyRequest{Account: "A", Old: "svc"}); err == nil {
		t.Fatal("rotation over a damaged user JWT did not stop")
	}
	if ac := fx.account(t, "A"); !ac.SigningKeys.Contains(old) || len(ac.SigningKeys) != 2 {
		t.Fatalf("after the interruption the account lists %v", ac.SigningKeys.Keys())
	}
	if err := os.WriteFile(p, good, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := ops.RotateSigningKey(fx.s, fx.ks, ops.RotateSigningKeyRequest{Account: "A", Old: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Old != old || res.KeyAdded || len(fx.account(t, "A").SigningKeys) != 1 {
		t.Errorf("resumed: %+v", res)
	}
}

func TestRotateBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	old := fx.withScopedUsers(t)
	if _, err := fx.s.ListUsers("A"); err != nil { // writes the list's journal, a cache
		t.Fatal(err)
	}
	ac := fx.account(t, "A")
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	other, _ := nkeys.CreateAccount()
	otherPub, _ := other.PublicKey()
	for _, tc := range []struct {
		name string
		req  ops.RotateSigningKeyRequest
		want string
	}{
		{"no old key", ops.RotateSigningKeyRequest{Account: "A"}, "--old is required"},
		{"no such account", ops.RotateSigningKeyRequest{Account: "B", Old: old}, "B"},
		{"no such role", ops.RotateSigningKeyRequest{Account: "A", Old: "nope"}, "not an account public key or a role"},
		{"identity key", ops.RotateSigningKeyRequest{Account: "A", Old: ac.Subject}, "identity key"},
		{"not on the account", ops.RotateSigningKeyRequest{Account: "A", Old: otherPub}, "nothing to rotate"},
		{"new is old", ops.RotateSigningKeyRequest{Account: "A", Old: old, New: old}, "--new"},
		{"new of the wrong kind", ops.RotateSigningKeyRequest{Account: "A", Old: old, New: opub}, "not an account key"},
		{"new without seed", ops.RotateSigningKeyRequest{Account: "A", Old: old, New: otherPub}, "--new"},
		{"operator: account key", ops.RotateSigningKeyRequest{Operator: true, Old: old}, "not an operator public key"},
		{"operator: identity key", ops.RotateSigningKeyRequest{Operator: true, Old: fx.operator(t).Subject}, "identity key"},
		{"operator: not a signing key", ops.RotateSigningKeyRequest{Operator: true, Old: opub}, "nothing to rotate"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.RotateSigningKey(fx.s, fx.ks, tc.req); return err })
	}
}
