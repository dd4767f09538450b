// Package sync holds signet's sync commands.
package sync

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/entity"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select).
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	verbs["add"].AddCommand(entity.NewCmdAddOperator(f, nil))
}

// ImportOperator adds a managed operator from a URL, file or well-known name (used by `init -u/-o`).
func ImportOperator(f *cmdutil.Factory, source, name string) error {
	return errNotYet
}

var errNotYet = errors.New("not implemented yet")
