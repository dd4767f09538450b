// Package tool holds signet's tool commands.
package tool

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select).
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
}
