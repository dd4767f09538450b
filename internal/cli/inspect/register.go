// Package inspect holds signet's read-only commands and the context commands: describe
// (operator, account, user, jwt), list (operators, accounts, users, keys), export keys, env,
// select and validate. None of them changes a JWT; select only writes nsc.json.
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
	// nsc declares these flags on `describe` and `list` themselves, so scripts may write them
	// before the subcommand (`describe --json account A`). The groups declare them too, so that
	// cobra can find the subcommand past them; each subcommand's own flags of the same names
	// shadow these and receive the values.
	(&OutputOptions{}).AddFlags(verbs["describe"].PersistentFlags())
	verbs["list"].PersistentFlags().BoolP("json", "J", false, "print as JSON")
	verbs["select"].AddCommand(
		NewCmdSelectOperator(f),
		NewCmdSelectAccount(f),
	)
	root.AddCommand(NewCmdEnv(f), NewCmdValidate(f))
	export := &cobra.Command{Use: "export", Short: "Export keys", Args: cobra.NoArgs}
	export.AddCommand(NewCmdExportKeys(f))
	root.AddCommand(export)
}
