package ops_test

import (
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

func TestEditAccountLimits(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	if _, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A", Keys: []string{jwt.All}}); err != nil {
		t.Fatal(err)
	}
	before := fx.account(t, "A")
	tier := 3
	res, err := ops.EditAccount(fx.s, fx.ks, ops.EditAccountRequest{
		Account: "A",
		AccountSettings: ops.AccountSettings{
			Limits:      authz.AccountLimitOptions{Conns: "10", Subscriptions: "100", Payload: "1KiB", Data: "1MiB", LeafConns: "2", Imports: "5", Exports: "6", JSEnable: &tier},
			SigningKeys: []string{"generate"},
			Description: "billing",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ac := fx.account(t, "A")
	l := ac.Limits
	if l.Conn != 10 || l.Subs != 100 || l.Payload != 1024 || l.Data != 1024*1024 || l.LeafNodeConn != 2 || l.Imports != 5 || l.Exports != 6 {
		t.Errorf("limits not stored: %+v", l.NatsLimits)
	}
	if _, ok := l.JetStreamTieredLimits["R3"]; !ok {
		t.Errorf("tier R3 not enabled: %+v", l.JetStreamTieredLimits)
	}
	if ac.Description != "billing" || len(ac.SigningKeys) != 1 || len(ac.Revocations) != 1 || ac.IssuedAt <= before.IssuedAt {
		t.Errorf("stored account: %+v", ac)
	}
	for sk := range ac.SigningKeys {
		if !fx.ks.Has(sk) {
			t.Errorf("generated signing key %s not in the keystore", sk)
		}
	}
	if _, tok, _ := fx.s.Account("A"); tok != res.JWT || len(res.Changes) < 8 {
		t.Errorf("result: %d changes, JWT stored: %t", len(res.Changes), tok == res.JWT)
	}
	// A tier's values, then a global limit refused while tiers are set.
	if _, err := ops.EditAccount(fx.s, fx.ks, ops.EditAccountRequest{Account: ac.Subject, AccountSettings: ops.AccountSettings{
		Limits: authz.AccountLimitOptions{JSTier: 3, JSStreams: "4", JSDiskStorage: "1GiB"},
	}}); err != nil {
		t.Fatal(err)
	}
	if r3 := fx.account(t, "A").Limits.JetStreamTieredLimits["R3"]; r3.Streams != 4 || r3.DiskStorage != 1<<30 {
		t.Errorf("R3: %+v", r3)
	}
}

func TestEditAccountBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	tier := 1
	if _, err := ops.EditAccount(fx.s, fx.ks, ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{JSEnable: &tier}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  ops.EditAccountRequest
		want string
	}{
		{"nothing", ops.EditAccountRequest{Account: "A"}, "nothing to edit"},
		{"no such account", ops.EditAccountRequest{Account: "B", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{Conns: "1"}}}, "B"},
		{"bad size", ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{Conns: "many"}}}, "--conns"},
		{"global with tiers", ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{JSStreams: "1"}}}, "tiered limits"},
		{"generated key, then a bad limit", ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{SigningKeys: []string{"generate"}, Limits: authz.AccountLimitOptions{Payload: "x"}}}, "--payload"},
		{"trace sampling without subject", ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{Trace: ops.Trace{Sampling: 5, SamplingSet: true}}}, "needs a subject"},
		{"only an unknown signing key removed", ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{RmSigningKeys: []string{"AXYZ"}}}, "nothing to edit"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.EditAccount(fx.s, fx.ks, tc.req); return err })
	}
}

func TestAddAccount(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	res, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{Name: "B", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{Conns: "3"}}})
	if err != nil {
		t.Fatal(err)
	}
	ac := fx.account(t, "B")
	if ac.Subject != res.PublicKey || ac.Limits.Conn != 3 || !res.KeyGenerated || !fx.ks.Has(res.PublicKey) {
		t.Errorf("account B: %+v, result %+v", ac, res)
	}
	for _, tc := range []struct {
		name string
		req  ops.AddAccountRequest
		want string
	}{
		{"exists", ops.AddAccountRequest{Name: "A"}, "already exists"},
		{"bad name", ops.AddAccountRequest{Name: "a/b"}, "account name"},
		{"bad limit", ops.AddAccountRequest{Name: "C", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{Conns: "x"}}}, "--conns"},
		{"user key", ops.AddAccountRequest{Name: "C", PublicKey: "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"}, "not an account key"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.AddAccount(fx.s, fx.ks, tc.req); return err })
	}
}
