// Package exports holds signet's commands for what accounts share: exports (streams and
// services, public or private), imports (from a public export or an activation token),
// activation tokens, and subject mappings. Exports, imports and activations are flags plus one
// ops call (ops.AddExport, ops.AddImport, ops.GenerateActivation, ...) plus printing; mappings
// still re-sign here, through the same jwt/v2 validation, under the store lock.
package exports

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register attaches this package's commands to the root command and to the verb commands
// (add, edit, describe, list, delete, generate, select).
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	verbs["add"].AddCommand(NewCmdAddExport(f), NewCmdAddImport(f), NewCmdAddMapping(f))
	verbs["edit"].AddCommand(NewCmdEditExport(f))
	verbs["delete"].AddCommand(NewCmdDeleteExport(f), NewCmdDeleteImport(f), NewCmdDeleteMapping(f))
	verbs["generate"].AddCommand(NewCmdGenerateActivation(f))
}
