package ops_test

import (
	"fmt"

	"github.com/signet-dev/signet/ops"
)

// A canary: 10 % of what account A publishes on orders goes to orders.v2, the rest stays on
// orders; a third destination that would take the total over 100 % is refused; then the canary
// is removed.
func ExampleAddMapping() {
	fx, done := exampleFixture() // operator O with account A, in a temporary folder
	defer done()
	for _, m := range []ops.AddMappingRequest{
		{Account: "A", From: "orders", To: "orders", Weight: 90},
		{Account: "A", From: "orders", To: "orders.v2", Weight: 10},
		{Account: "A", From: "orders", To: "orders.v3", Weight: 5},
	} {
		res, err := ops.AddMapping(fx.s, fx.ks, m)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(res.Changes)
	}
	res, err := ops.DeleteMapping(fx.s, fx.ks, ops.DeleteMappingRequest{Account: "A", From: "orders", To: "orders.v2"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Changes)
	// Output:
	// [added mapping "orders" -> "orders" (90%) in account "A"]
	// [added mapping "orders" -> "orders.v2" (10%) in account "A"]
	// the mappings of "orders" would total 105%, over 100% (now: "orders" 90%, "orders.v2" 10%): lower --weight, or remove one with `signet delete mapping -a A -f orders -t <to>`
	// [deleted 1 mapping of "orders" in account "A"]
}
