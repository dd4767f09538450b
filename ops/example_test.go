package ops_test

import (
	"fmt"
	"os"

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
