// Package cli assembles signet's command tree. Each command lives in a package of its own under
// internal/cli and is handed a cmdutil.Factory; this package only wires them together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// NewRootCmd builds the signet command tree around f.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "signet",
		Short:         "Manage NATS operators, accounts, users and keys, and serve account JWTs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	pf := root.PersistentFlags()
	pf.StringVar(&f.DirOpts.ConfigDir, "config-dir", "", "folder of nsc.json (default $XDG_CONFIG_HOME/nats/nsc)")
	pf.StringVar(&f.DirOpts.DataDir, "data-dir", "", "folder of the operator stores (default $XDG_DATA_HOME/nats/nsc/stores)")
	pf.StringVar(&f.DirOpts.KeystoreDir, "keystore-dir", "", "folder of the keystore (default $XDG_DATA_HOME/nats/nsc/keys)")
	pf.StringVarP(&f.DirOpts.AllDirs, "all-dirs", "H", "", "one folder for config, stores (stores/) and keys (keys/)")

	verbs := map[string]*cobra.Command{}
	for _, v := range []struct{ name, short string }{
		{"add", "Add an operator, account, user, export, import or mapping"},
		{"edit", "Edit an operator, account, user, export or signing key"},
		{"describe", "Describe an operator, account, user or JWT"},
		{"list", "List operators, accounts, users or keys"},
		{"delete", "Delete an account, user, export, import or mapping"},
		{"generate", "Generate nkeys, creds, server configuration and activations"},
		{"select", "Select the current operator or account"},
	} {
		c := &cobra.Command{Use: v.name, Short: v.short, Args: cobra.NoArgs}
		verbs[v.name] = c
		root.AddCommand(c)
	}
	registerCommands(f, root, verbs)
	return root
}

// Main runs signet with args and returns the exit code.
func Main(args []string) int {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	f := cmdutil.NewFactory(os.Stdin, os.Stdout, os.Stderr, tty)
	root := NewRootCmd(f)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		var exit *cmdutil.ExitError
		if errors.As(err, &exit) {
			return exit.Code
		}
		fmt.Fprintf(f.IO.ErrOut, "Error: %v\n", err)
		return 1
	}
	return 0
}
