// Package cli assembles signet's command tree. Each command lives in a package of its own under
// internal/cli and is handed a cmdutil.Factory; this package only wires them together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/redact"
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
	pf.StringVarP(&f.DirOpts.AllDirs, "all-dirs", "H", "", "one folder for nsc.json, the operator stores and the keystore (keys/, creds/), as nsc lays them out")
	compat.AddRootFlags(root)
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		return compat.CheckRootFlags(f, root, cmd)
	}

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
		if v.name == "add" {
			c.Aliases = []string{"create"} // nsc's alias
		}
		verbs[v.name] = c
		root.AddCommand(c)
	}
	registerCommands(f, root, verbs)
	for _, c := range root.Commands() {
		guardGroups(c)
	}
	registerCompletions(f, root)
	return root
}

// guardGroups makes every command below the root that only groups subcommands refuse an
// unknown one ("signet add acount") with cobra's suggestions, so that a script with a typo fails
// instead of printing help and exiting 0 (nsc does the latter). A bare group still prints its help,
// as nsc does. The root needs no guard: cobra already refuses an unknown top-level command.
func guardGroups(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return unknownSubcommand(cmd, args[0])
		}
		// A typo usually comes with the flags of the command meant ("add acount X -n Y"): report
		// the typo, not the flag the group does not know.
		// Cobra hands a command's flag-error function down to its subcommands: theirs keep
		// cobra's own message ("unknown flag: --bogus").
		group := c
		c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
			if args := cmd.Flags().Args(); cmd == group && len(args) > 0 {
				return unknownSubcommand(cmd, args[0])
			}
			return err
		})
	}
	for _, sub := range c.Commands() {
		guardGroups(sub)
	}
}

// unknownSubcommand is cobra's own error for an unknown top-level command, for a group.
func unknownSubcommand(cmd *cobra.Command, name string) error {
	var hint strings.Builder
	if !cmd.DisableSuggestions {
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2
		}
		if s := cmd.SuggestionsFor(name); len(s) > 0 {
			hint.WriteString("\n\nDid you mean this?\n")
			for _, n := range s {
				fmt.Fprintf(&hint, "\t%s\n", n)
			}
		}
	}
	return fmt.Errorf("unknown command %q for %q%s", name, cmd.CommandPath(), hint.String())
}

// Main runs signet with args and returns the exit code.
func Main(args []string) int {
	fd := int(os.Stdout.Fd())
	tty := term.IsTerminal(fd)
	var out io.Writer = os.Stdout
	if tty {
		// Tables fit the terminal; piped, they keep their full width.
		out = cmdutil.WithWidth(os.Stdout, func() int {
			w, _, err := term.GetSize(fd)
			if err != nil {
				return 0
			}
			return w
		})
	}
	f := cmdutil.NewFactory(os.Stdin, out, os.Stderr, tty)
	root := NewRootCmd(f)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		var exit *cmdutil.ExitError
		if errors.As(err, &exit) {
			return exit.Code
		}
		fmt.Fprintf(f.IO.ErrOut, "Error: %s\n", redact.Seeds(err.Error()))
		return 1
	}
	return 0
}
