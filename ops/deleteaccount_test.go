package ops_test

import (
	"os"
	"testing"

	"github.com/signet-dev/signet/ops"
)

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	if _, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{Name: "B"}); err != nil {
		t.Fatal(err)
	}
	u, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "U"})
	if err != nil {
		t.Fatal(err)
	}
	ac := fx.account(t, "A")
	// By public key, with the keys and creds.
	res, err := ops.DeleteAccount(fx.s, fx.ks, ops.DeleteAccountRequest{Account: ac.Subject, RmKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "A" || res.PublicKey != ac.Subject || res.Managed || len(res.RemovedKeys) != 2 || res.RemovedKeys[1] != u.PublicKey {
		t.Errorf("result: %+v", res)
	}
	if fx.s.HasAccount("A") || fx.s.HasUser("A", "U") || fx.ks.Has(ac.Subject) || fx.ks.Has(u.PublicKey) {
		t.Error("account, user or keys left")
	}
	if _, err := os.Stat(u.CredsPath); !os.IsNotExist(err) {
		t.Errorf("creds left: %v", err)
	}
	// Without RmKeys the keys stay.
	b := fx.account(t, "B")
	if _, err := ops.DeleteAccount(fx.s, fx.ks, ops.DeleteAccountRequest{Account: "B"}); err != nil {
		t.Fatal(err)
	}
	if fx.s.HasAccount("B") || !fx.ks.Has(b.Subject) {
		t.Error("B not deleted, or its key removed unasked")
	}
}

func TestDeleteAccountOfManagedOperatorNeedsForce(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	if err := fx.s.SetManaged(true); err != nil {
		t.Fatal(err)
	}
	fx.refuses(t, "managed without force", "pass --force", func() error {
		_, err := ops.DeleteAccount(fx.s, fx.ks, ops.DeleteAccountRequest{Account: "A", RmKeys: true})
		return err
	})
	res, err := ops.DeleteAccount(fx.s, fx.ks, ops.DeleteAccountRequest{Account: "A", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Managed || fx.s.HasAccount("A") {
		t.Errorf("forced delete: %+v", res)
	}
}

func TestDeleteAccountBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	fx.withUser(t)
	for _, tc := range []struct {
		name string
		req  ops.DeleteAccountRequest
		want string
	}{
		{"no name", ops.DeleteAccountRequest{RmKeys: true}, "account name is required"},
		{"no such account", ops.DeleteAccountRequest{Account: "B", RmKeys: true}, "B"},
		{"a user's key", ops.DeleteAccountRequest{Account: "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", RmCreds: true}, "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.DeleteAccount(fx.s, fx.ks, tc.req); return err })
	}
}
