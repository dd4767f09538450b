package cli

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/entity"
)

// registerCommands attaches every command to the tree. Each package owns its commands; this is
// the one place that lists them.
func registerCommands(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	root.AddCommand(entity.NewCmdInit(f, nil))
	verbs["add"].AddCommand(
		entity.NewCmdAddOperator(f, nil),
		entity.NewCmdAddAccount(f),
		entity.NewCmdAddUser(f),
	)
	verbs["edit"].AddCommand(
		entity.NewCmdEditOperator(f),
		entity.NewCmdEditAccount(f),
		entity.NewCmdEditUser(f),
	)
	verbs["delete"].AddCommand(
		entity.NewCmdDeleteOperator(f),
		entity.NewCmdDeleteAccount(f),
		entity.NewCmdDeleteUser(f, nil),
	)
}
