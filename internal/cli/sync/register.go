// Package sync holds the commands that move account JWTs between the store and account servers
// or nats-server resolvers: push, pull, importing a (managed or well-known) operator, and the
// automatic push after an account is saved.
package sync

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/entity"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select), and installs the auto-push hook.
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	f.OnAccountSaved = AutoPush
	verbs["add"].AddCommand(newCmdAddOperator(f))
	root.AddCommand(newCmdPush(f), newCmdPull(f))
}

// newCmdAddOperator is entity's `add operator` plus -u to import an operator JWT.
func newCmdAddOperator(f *cmdutil.Factory) *cobra.Command {
	var source string
	var force bool
	var cmd *cobra.Command
	cmd = entity.NewCmdAddOperator(f, func(o *entity.AddOperatorOptions) error {
		if source != "" {
			return importOperator(f, source, o.Name, force)
		}
		if force {
			return errors.New("--force only works with -u: it replaces an imported operator that exists with another key")
		}
		return entity.RunAddOperator(f, o)
	})
	cmd.Flags().StringVarP(&source, "url", "u", "", "import the operator JWT from a URL (http://host:port/jwt/v1/operator), a file, or a well-known operator name")
	cmd.Flags().BoolVar(&force, "force", false, "with -u: replace an existing operator of the same name even when it holds another key")
	return cmd
}
