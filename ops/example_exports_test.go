package ops_test

import (
	"fmt"

	"github.com/signet-dev/signet/ops"
)

// Share a private service: account A exports it, signs an activation for account B, and B
// imports it with the token.
func ExampleAddImport() {
	fx, done := exampleFixture() // operator O with account A, in a temporary folder
	defer done()
	private := true
	steps := func() error {
		if _, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{Name: "B"}); err != nil {
			return err
		}
		exp, err := ops.AddExport(fx.s, fx.ks, ops.AddExportRequest{Account: "A", Subject: "help", Service: true,
			ExportFields: ops.ExportFields{Private: &private}})
		if err != nil {
			return err
		}
		fmt.Println(exp.Changes)
		act, err := ops.GenerateActivation(fx.s, fx.ks, ops.GenerateActivationRequest{Account: "A", Target: "B", Subject: "help"})
		if err != nil {
			return err
		}
		imp, err := ops.AddImport(fx.s, fx.ks, ops.AddImportRequest{Account: "B", Token: act.Token, LocalSubject: "a.help"})
		if err != nil {
			return err
		}
		fmt.Println(imp.Changes)
		return nil
	}
	if err := steps(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// [added private service export "help" to account "A"]
	// [added service import "help" from account "A" to account "B"]
}
