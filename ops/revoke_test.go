package ops_test

import (
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/ops"
)

func TestRevokeUser(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	u, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "U"})
	if err != nil {
		t.Fatal(err)
	}
	before := fx.account(t, "A")
	at := time.Unix(1_700_000_000, 0)
	res, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A", Users: []string{"U"}, Keys: []string{jwt.All}, At: at})
	if err != nil {
		t.Fatal(err)
	}
	want := []ops.UserRevocation{{PublicKey: u.PublicKey, At: at.Unix()}, {PublicKey: jwt.All, At: at.Unix()}}
	if len(res.Revocations) != 2 || res.Revocations[0] != want[0] || res.Revocations[1] != want[1] {
		t.Errorf("revocations %+v, want %+v", res.Revocations, want)
	}
	ac := fx.account(t, "A")
	if _, tok, _ := fx.s.Account("A"); tok != res.JWT {
		t.Error("the result's JWT is not the stored one")
	}
	if ac.Revocations[u.PublicKey] != at.Unix() || ac.IssuedAt <= before.IssuedAt {
		t.Errorf("stored account: revocations %v, iat %d (was %d)", ac.Revocations, ac.IssuedAt, before.IssuedAt)
	}
	// By public key, and cleared again.
	if _, err := ops.ClearUserRevocation(fx.s, fx.ks, ops.RevokeUserRequest{Account: ac.Subject, Users: []string{u.PublicKey}, Keys: []string{jwt.All}}); err != nil {
		t.Fatal(err)
	}
	if ac := fx.account(t, "A"); len(ac.Revocations) != 0 {
		t.Errorf("revocations left: %v", ac.Revocations)
	}
}

func TestRevokeUserBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	for _, n := range []string{"U", "V"} {
		if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		op   func() error
		want string
	}{
		{"nobody", func() error {
			_, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A"})
			return err
		}, "2 users"},
		{"unknown user", func() error {
			_, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A", Users: []string{"U", "nobody"}})
			return err
		}, "nobody"},
		{"not a user key", func() error {
			_, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A", Keys: []string{"Uxyz"}})
			return err
		}, "not a user public key"},
		{"unknown account", func() error {
			_, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "B", Users: []string{"U"}})
			return err
		}, "B"},
		{"clear what is not revoked", func() error {
			_, err := ops.ClearUserRevocation(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A", Users: []string{"U"}})
			return err
		}, "is not revoked"},
	} {
		fx.refuses(t, tc.name, tc.want, tc.op)
	}
}
