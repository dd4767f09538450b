package ops_test

import (
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

func TestEditSigningKey(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	before := fx.account(t, "A")
	res, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{
		Account:        "A",
		Key:            "generate",
		Role:           "svc",
		Description:    "services",
		DescriptionSet: true,
		Permissions:    authz.UserPermOptions{AllowSub: []string{"{{name()}}.>"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !nkeys.IsValidPublicAccountKey(res.Key) || !fx.ks.Has(res.Key) || res.Name != "A" || len(res.Changes) != 2 {
		t.Errorf("result: %+v", res)
	}
	ac := fx.account(t, "A")
	if ac.IssuedAt <= before.IssuedAt {
		t.Error("account not re-signed")
	}
	sc, ok := ac.SigningKeys.GetScope(res.Key)
	us, _ := sc.(*jwt.UserScope)
	if !ok || us == nil || us.Role != "svc" || us.Description != "services" || !us.Template.Sub.Allow.Contains("{{name()}}.>") {
		t.Fatalf("stored scope: %+v", sc)
	}
	if got := ops.RoleKey(ac, "svc"); got != res.Key {
		t.Errorf("RoleKey(svc) = %q, want %q", got, res.Key)
	}
	// By role: the template grows, the role and description stay.
	res2, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "svc", Permissions: authz.UserPermOptions{AllowPub: []string{"out.>"}}})
	if err != nil {
		t.Fatal(err)
	}
	sc, _ = fx.account(t, "A").SigningKeys.GetScope(res.Key)
	us = sc.(*jwt.UserScope)
	if res2.Key != res.Key || us.Role != "svc" || us.Description != "services" || !us.Template.Pub.Allow.Contains("out.>") || !us.Template.Sub.Allow.Contains("{{name()}}.>") {
		t.Errorf("edit by role: %+v", us)
	}
}

func TestEditSigningKeyBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	if _, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "generate", Role: "svc"}); err != nil {
		t.Fatal(err)
	}
	ac := fx.account(t, "A")
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	for _, tc := range []struct {
		name string
		req  ops.EditSigningKeyRequest
		want string
	}{
		{"no key", ops.EditSigningKeyRequest{Account: "A", Role: "x"}, "--sk is required"},
		{"no such account", ops.EditSigningKeyRequest{Account: "B", Key: "generate", Role: "x"}, "B"},
		{"identity key", ops.EditSigningKeyRequest{Account: "A", Key: ac.Subject, Role: "x"}, "identity key"},
		{"user key", ops.EditSigningKeyRequest{Account: "A", Key: upub, Role: "x"}, "not an account key"},
		{"role taken", ops.EditSigningKeyRequest{Account: "A", Key: "generate", Role: "svc"}, "already has that role"},
		{"bad permission", ops.EditSigningKeyRequest{Account: "A", Key: "svc", Permissions: authz.UserPermOptions{AllowPub: []string{"a..b"}}}, "a..b"},
	} {
		fx.refuses(t, tc.name, tc.want, func() error { _, err := ops.EditSigningKey(fx.s, fx.ks, tc.req); return err })
	}
}
