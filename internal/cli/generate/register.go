// Package generate holds signet's generate commands: `generate nkey` (new key pairs, optionally
// stored in the keystore), `generate creds` (a user's creds file from its JWT and stored seed) and
// `generate config` (a nats-server configuration trusting the current operator, with a memory,
// full or cache resolver) and `generate profile` (nsc's JSON for an nsc:// URL, which the nats
// CLI reads to resolve --creds nsc://...).
package generate

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select).
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	verbs["generate"].AddCommand(
		NewCmdNKey(f),
		NewCmdCreds(f),
		NewCmdConfig(f),
		NewCmdProfile(f),
	)
}
