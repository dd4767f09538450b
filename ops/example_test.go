package ops_test

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

// A user of account A that may publish on orders.>, with a creds file to connect with.
func ExampleAddUser() {
	fx, done := exampleFixture() // operator O with account A, in a temporary folder
	defer done()
	res, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{
		Account:     "A",
		Name:        "orders",
		Header:      ops.Header{Expiry: "30d"},
		Permissions: authz.UserPermOptions{AllowPub: []string{"orders.>"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, credsErr := os.Stat(res.CredsPath)
	fmt.Println(res.Name, "in", res.Account, nkeys.IsValidPublicUserKey(res.PublicKey), credsErr == nil)
	fmt.Println(res.Changes)
	// Output:
	// orders in A true true
	// [added pub "orders.>"]
}

// Revoke a user: the account stops accepting the user's JWTs issued at or before the time.
func ExampleRevokeUser() {
	fx, done := exampleFixture()
	defer done()
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "leaver"}); err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := ops.RevokeUser(fx.s, fx.ks, ops.RevokeUserRequest{Account: "A", Users: []string{"leaver"}, At: at})
	if err != nil {
		fmt.Println(err)
		return
	}
	ac, _ := jwt.DecodeAccountClaims(res.JWT)
	fmt.Println(res.Name, len(ac.Revocations), time.Unix(res.Revocations[0].At, 0).UTC())
	// Output:
	// A 1 2030-01-02 03:04:05 +0000 UTC
}

// Limit an account: ten connections, 1 MiB payloads, and JetStream for replicated (R3) streams.
func ExampleEditAccount() {
	fx, done := exampleFixture()
	defer done()
	r3 := 3
	res, err := ops.EditAccount(fx.s, fx.ks, ops.EditAccountRequest{
		Account: "A",
		AccountSettings: ops.AccountSettings{
			Limits: authz.AccountLimitOptions{Conns: "10", Payload: "1MiB", JSEnable: &r3},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range res.Changes {
		fmt.Println(c)
	}
	// Output:
	// changed max connections to 10
	// changed max payload size to 1048576
	// enabled tier limit R3
}

// A new account with a signing key of its own.
func ExampleAddAccount() {
	fx, done := exampleFixture()
	defer done()
	res, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{
		Name:            "billing",
		AccountSettings: ops.AccountSettings{SigningKeys: []string{"generate"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ac, _ := jwt.DecodeAccountClaims(res.JWT)
	fmt.Println(res.Name, res.KeyGenerated, len(ac.SigningKeys))
	// Output:
	// billing true 1
}

// Give a user a subscribe permission and an expiry: the user is re-signed and its creds rewritten.
func ExampleEditUser() {
	fx, done := exampleFixture()
	defer done()
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "reports"}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := ops.EditUser(fx.s, fx.ks, ops.EditUserRequest{
		Account:     "A",
		User:        "reports",
		Header:      ops.Header{Expiry: "2031-01-01"},
		Permissions: authz.UserPermOptions{AllowSub: []string{"reports.>"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	uc, _ := jwt.DecodeUserClaims(res.JWT)
	fmt.Println(res.Name, time.Unix(uc.Expires, 0).UTC().Format(time.DateOnly), res.CredsPath != "")
	fmt.Println(res.Changes)
	// Output:
	// reports 2031-01-01 true
	// [added sub "reports.>"]
}

// Delete a user: it is revoked first (the account is re-signed, to be pushed), then removed
// with its creds and key.
func ExampleDeleteUser() {
	fx, done := exampleFixture()
	defer done()
	u, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "leaver"})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := ops.DeleteUser(fx.s, fx.ks, ops.DeleteUserRequest{Account: "A", Users: []string{"leaver"}, Revoke: true, RmCreds: true, RmKey: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Deleted[0].Name, res.Revoked.Revocations[0].PublicKey == u.PublicKey, fx.s.HasUser("A", "leaver"), fx.ks.Has(u.PublicKey))
	// Output:
	// leaver true false false
}

// Delete an account with its users, their keys and creds.
func ExampleDeleteAccount() {
	fx, done := exampleFixture()
	defer done()
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "U"}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := ops.DeleteAccount(fx.s, fx.ks, ops.DeleteAccountRequest{Account: "A", RmKeys: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Name, len(res.RemovedKeys), fx.s.HasAccount("A"))
	// Output:
	// A 2 false
}

// A scoped signing key for services: every user it signs may subscribe under its own name
// only; users are then added with Signer: "service".
func ExampleEditSigningKey() {
	fx, done := exampleFixture()
	defer done()
	res, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{
		Account:     "A",
		Key:         "generate",
		Role:        "service",
		Permissions: authz.UserPermOptions{AllowSub: []string{"svc.{{name()}}.>"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	u, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "billing", Signer: "service"})
	if err != nil {
		fmt.Println(err)
		return
	}
	uc, _ := jwt.DecodeUserClaims(u.JWT)
	fmt.Println(uc.Issuer == res.Key, uc.HasEmptyPermissions())
	fmt.Println(res.Changes[1:])
	// Output:
	// true true
	// [added sub "svc.{{name()}}.>"]
}

// A new operator with a signing key and its system account SYS, whose user sys is signed by
// an account signing key (so that the operator may come to require signing keys).
func ExampleAddOperator() {
	fx, done := exampleFixture()
	defer done()
	res, err := ops.AddOperator(fx.stores(), fx.ks, ops.AddOperatorRequest{
		Name:               "staging",
		GenerateSigningKey: true,
		OperatorSettings:   ops.OperatorSettings{AccountServer: "http://localhost:9090/jwt/v1"},
		System:             true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	oc, _ := jwt.DecodeOperatorClaims(res.JWT)
	fmt.Println(res.Name, len(oc.SigningKeys), oc.SystemAccount == res.System.Account.PublicKey, res.System.User.Name)
	fmt.Println(res.Changes)
	// Output:
	// staging 1 true sys
	// [set account jwt server url to "http://localhost:9090/jwt/v1"]
}

// Require signing keys: the accounts the operator identity key signed are re-signed with the
// new operator signing key, to be pushed.
func ExampleEditOperator() {
	fx, done := exampleFixture() // account A is signed by the operator's identity key
	defer done()
	res, err := ops.EditOperator(fx.s, fx.ks, ops.EditOperatorRequest{
		OperatorSettings: ops.OperatorSettings{SigningKeys: []string{"generate"}, RequireSK: true},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	oc, _ := jwt.DecodeOperatorClaims(res.JWT)
	ac, _, _ := fx.s.Account("A")
	fmt.Println(oc.StrictSigningKeyUsage, ac.Issuer == oc.SigningKeys[0], res.Resigned.Accounts[0].Name)
	fmt.Println(res.Changes[1:])
	// Output:
	// true true A
	// [strict signing key usage set to: true]
}

// Rotate account A's scoped signing key "svc": the new key takes its scope and role, and the
// user it signed is re-signed with the new key and gets a new creds file.
func ExampleRotateSigningKey() {
	fx, done := exampleFixture()
	defer done()
	if _, err := ops.EditSigningKey(fx.s, fx.ks, ops.EditSigningKeyRequest{Account: "A", Key: "generate", Role: "svc"}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := ops.AddUser(fx.s, fx.ks, ops.AddUserRequest{Account: "A", Name: "worker", Signer: "svc"}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := ops.RotateSigningKey(fx.s, fx.ks, ops.RotateSigningKeyRequest{Account: "A", Old: "svc"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ac, _, _ := fx.s.Account("A")
	uc, _, _ := fx.s.User("A", "worker")
	fmt.Println(res.Reissued[0].Name, uc.Issuer == res.New, ops.RoleKey(ac, "svc") == res.New, ac.SigningKeys.Contains(res.Old))
	// Output:
	// worker true true false
}
