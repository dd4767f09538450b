// Package inspect holds signet's read-only commands and the context commands: describe
// (operator, account, user, jwt), list (operators, accounts, users, keys), env, select and
// validate. None of them changes a JWT; select only writes nsc.json.
package inspect

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select).
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	verbs["describe"].AddCommand(
		NewCmdDescribeOperator(f),
		NewCmdDescribeAccount(f),
		NewCmdDescribeUser(f),
		NewCmdDescribeJWT(f),
	)
	verbs["list"].AddCommand(
		NewCmdListOperators(f),
		NewCmdListAccounts(f),
		NewCmdListUsers(f),
		NewCmdListKeys(f),
	)
	verbs["select"].AddCommand(
		NewCmdSelectOperator(f),
		NewCmdSelectAccount(f),
	)
	root.AddCommand(NewCmdEnv(f), NewCmdValidate(f))
}
