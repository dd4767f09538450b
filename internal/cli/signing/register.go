// Package signing holds signet's signing-key commands: `edit signing-key` (scoped signing keys
// with permission templates), `revocations` (user and activation revocations), and
// `rotate signing-key`, which replaces a leaked or old signing key and re-issues every JWT it
// signed, resumably.
package signing

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select).
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	verbs["edit"].AddCommand(NewCmdEditSigningKey(f))
	root.AddCommand(newCmdRevocations(f), newCmdRotate(f))
}
