package cli

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/internal/cli/console"
	"github.com/signet-dev/signet/internal/cli/dev"
	"github.com/signet-dev/signet/internal/cli/drift"
	"github.com/signet-dev/signet/internal/cli/entity"
	"github.com/signet-dev/signet/internal/cli/expirations"
	"github.com/signet-dev/signet/internal/cli/exports"
	"github.com/signet-dev/signet/internal/cli/fileimport"
	"github.com/signet-dev/signet/internal/cli/generate"
	"github.com/signet-dev/signet/internal/cli/history"
	"github.com/signet-dev/signet/internal/cli/inspect"
	"github.com/signet-dev/signet/internal/cli/kv"
	"github.com/signet-dev/signet/internal/cli/serve"
	"github.com/signet-dev/signet/internal/cli/signing"
	"github.com/signet-dev/signet/internal/cli/speccmd"
	"github.com/signet-dev/signet/internal/cli/sync"
	"github.com/signet-dev/signet/internal/cli/tool"
	"github.com/signet-dev/signet/internal/cli/version"
)

// registerCommands attaches every command to the tree. Each package owns its commands and
// registers them itself; this is the one place that lists the packages.
func registerCommands(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	root.AddCommand(entity.NewCmdInit(f, sync.ImportOperator))
	verbs["add"].AddCommand(
		entity.NewCmdAddAccount(f),
		entity.NewCmdAddUser(f),
	)
	verbs["edit"].AddCommand(
		entity.NewCmdEditOperator(f),
		entity.NewCmdEditAccount(f),
		entity.NewCmdEditUser(f),
		entity.NewCmdEditAuthCallout(f),
	)
	verbs["delete"].AddCommand(
		entity.NewCmdDeleteOperator(f),
		entity.NewCmdDeleteAccount(f),
		entity.NewCmdDeleteUser(f),
	)
	inspect.Register(f, root, verbs)
	generate.Register(f, root, verbs)
	signing.Register(f, root, verbs)
	exports.Register(f, root, verbs)
	// sync registers `add operator` (it adds -u import to the local form) and the push hook.
	sync.Register(f, root, verbs)
	tool.Register(f, root, verbs)
	root.AddCommand(serve.NewCmdServe(f), expirations.NewCmdExpirations(f))
	root.AddCommand(kv.NewCmdKV(f))
	root.AddCommand(drift.NewCmdDrift(f))
	root.AddCommand(history.NewCmdHistory(f))
	root.AddCommand(console.NewCmdConsole(f))
	fileimport.Register(f, root)
	speccmd.Register(f, root)
	dev.Register(f, root, verbs)
	version.Register(f, root)
	// Last: nsc's commands that signet leaves out go under the groups made above.
	compat.Register(f, root)
}
