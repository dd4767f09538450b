// Package signing holds signet's signing commands.
package signing

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select).
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
}

// RevokeUsers revokes the given user keys in the account and re-signs it (used by
// `delete user --revoke`).
func RevokeUsers(f *cmdutil.Factory, account string, userPubs []string, signer string) error {
	return errNotYet
}

var errNotYet = errors.New("not implemented yet")
