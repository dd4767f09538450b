// Package compat answers for the parts of nsc's command line that signet does not carry, so that
// an nsc script run against signet fails (or goes on) with a line that says what to do instead,
// never with a bare "unknown command": nsc's commands that signet leaves out refuse with a hint,
// and nsc's global --interactive and --private-key are understood on every command, as in nsc.
// docs/nsc-compat.md lists every command and flag of nsc with signet's status.
package compat

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// unsupported is an nsc command that signet does not carry, with what to use instead.
type unsupported struct {
	path  string // nsc's command path below the root, e.g. "generate diagram component"
	short string
	hint  string
}

// unsupportedCommands lists nsc's commands that signet leaves out. The ones nsc hides are hidden
// in nsc too (fix, migrate, rename, test, upgrade-jwt).
func unsupportedCommands() []unsupported {
	return []unsupported{
		{"fix", "rebuild a store from JWTs, creds and keys",
			"rebuild the store with `signet add operator -u <operator.jwt>` (or `signet import operator`), `signet import account`, `signet import user` and `signet import keys --dir`"},
		{"generate diagram component", "plantuml component diagram of the store",
			"signet draws no diagrams: `signet describe account A --json` and `signet list ... --json` give the exports, imports and users to draw from"},
		{"generate diagram object", "plantuml object diagram of the store",
			"signet draws no diagrams: `signet describe account A --json` and `signet list ... --json` give the exports, imports and users to draw from"},
		{"keys migrate", "move a keystore to the current layout",
			"signet reads the current keystore layout (keys/<kind>/<xx>/<pub>.nk) only: migrate an old keystore once with `nsc keys migrate`"},
		{"load", "set up an operator, account and user from a profile URL",
			"import the operator with `signet init -u <operator URL> -n NAME` (or `signet add operator -u`), then `signet import keys`, `signet add user` and `signet generate context`"},
		{"migrate", "migrate a v1 store",
			"signet reads v2 stores only: migrate a v1 store once with nsc 2.x (`nsc migrate`)"},
		{"upgrade-jwt", "upgrade a v1 operator JWT",
			"signet reads v2 JWTs only: upgrade a v1 operator once with nsc 2.x (`nsc upgrade-jwt`)"},
		{"reissue operator", "re-issue the operator with a new identity key",
			"replace a leaked operator signing key with `signet rotate signing-key --operator --old <pub>` (accounts are re-signed); replacing the operator's identity key is not supported"},
		{"rename account", "rename an account",
			"add an account with the new name (`signet add account`) and move the users to it; signet does not rename accounts in place"},
		{"update", "update the nsc binary",
			"install a newer signet with `go install` or your package manager"},
		{"test doc", "nsc developer command", "nsc's developer commands have no signet counterpart"},
		{"test flags", "nsc developer command", "nsc's developer commands have no signet counterpart"},
		{"test whoflag", "nsc developer command", "nsc's developer commands have no signet counterpart"},
		{"test nkey", "nsc developer command", "use `signet generate nkey`"},
	}
}

// Register adds a hidden command for each nsc command signet does not carry; each prints what to
// use instead on stderr and exits 1 (0 for --help).
func Register(f *cmdutil.Factory, root *cobra.Command) {
	for _, u := range unsupportedCommands() {
		words := strings.Fields(u.path)
		parent := root
		for _, w := range words[:len(words)-1] {
			parent = child(parent, w)
		}
		parent.AddCommand(newUnsupported(f, words[len(words)-1], u))
	}
}

// child finds the subcommand name of parent, or adds it as a hidden group.
func child(parent *cobra.Command, name string) *cobra.Command {
	for _, c := range parent.Commands() {
		if c.Name() == name {
			return c
		}
	}
	c := &cobra.Command{Use: name, Short: "nsc's " + name + " commands (not supported by signet)", Hidden: true, Args: cobra.NoArgs}
	parent.AddCommand(c)
	return c
}

func newUnsupported(f *cmdutil.Factory, name string, u unsupported) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              "nsc's " + u.short + ": not supported by signet",
		Hidden:             true,
		DisableFlagParsing: true, // nsc's flags are accepted, so the hint is what the user sees
		RunE: func(cmd *cobra.Command, args []string) error {
			f.IO.Warn("nsc's `%s` is not supported by signet: %s", u.path, u.hint)
			for _, a := range args {
				if a == "-h" || a == "--help" {
					return nil
				}
			}
			return &cmdutil.ExitError{Code: 1}
		},
	}
}

// AddRootFlags declares nsc's global --interactive/-i and --private-key/-K, hidden: commands that
// sign declare their own -K, which shadows this one.
func AddRootFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.BoolP("interactive", "i", false, "nsc's interactive mode (not supported by signet)")
	pf.StringP("private-key", "K", "", "nsc's global -K, on a command that signs nothing")
	_ = pf.MarkHidden("interactive")
	_ = pf.MarkHidden("private-key")
}

// CheckRootFlags runs before every command: --interactive is refused (signet never prompts, so a
// script that relied on nsc's questions would go on with other values), and the global -K on a
// command that signs nothing is ignored with a warning, as nsc ignores it silently.
func CheckRootFlags(f *cmdutil.Factory, root, cmd *cobra.Command) error {
	if fl := cmd.Flags().Lookup("interactive"); fl != nil && fl == root.PersistentFlags().Lookup("interactive") && fl.Changed {
		f.IO.Warn("nsc's --interactive (-i) is not supported by signet: pass the values as flags (see `%s --help`)", cmd.CommandPath())
		return &cmdutil.ExitError{Code: 1}
	}
	if fl := cmd.Flags().Lookup("private-key"); fl != nil && fl == root.PersistentFlags().Lookup("private-key") && fl.Changed {
		f.IO.Warn("nsc's -K/--private-key is ignored by `%s`: it signs nothing", cmd.CommandPath())
	}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if use := fl.Annotations[renamedAnnotation]; len(use) == 1 {
			f.IO.Warn("--%s is an old name: use %s", fl.Name, use[0])
		}
	})
	return nil
}

// Hint is the warning printed when an nsc flag that signet accepts but does not act on is used.
func Hint(f *cmdutil.Factory, flag, what string) {
	f.IO.Warn("%s", fmt.Sprintf("nsc's %s is not supported by signet: %s", flag, what))
}

// AliasFlags lets fs take nsc's other spelling of a flag (alias -> name): the alias parses as the
// flag itself, so Changed, Visit and the value are the flag's, and help lists the flag only.
func AliasFlags(fs *pflag.FlagSet, aliases map[string]string) {
	prev := fs.GetNormalizeFunc()
	fs.SetNormalizeFunc(func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := aliases[name]; ok {
			name = to
		}
		return prev(f, name)
	})
}

// secondsOrDuration is a duration flag that also takes nsc's whole seconds ("--timeout 3").
type secondsOrDuration struct{ p *time.Duration }

// SecondsOrDuration binds p as a duration that also accepts a bare number of seconds, as nsc's
// integer --timeout flags do.
func SecondsOrDuration(p *time.Duration) pflag.Value { return secondsOrDuration{p} }

func (v secondsOrDuration) Type() string   { return "duration" }
func (v secondsOrDuration) String() string { return v.p.String() }
func (v secondsOrDuration) Set(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return fmt.Errorf("%q: a timeout cannot be negative", s)
		}
		*v.p = time.Duration(n) * time.Second
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (5s, 1m) or a number of seconds", s)
	}
	*v.p = d
	return nil
}

// RefuseFlag gives cmd nsc's boolean flag name (shorthand short), hidden; given, the command
// stops before it runs with the hint as a warning and exit status 1.
func RefuseFlag(f *cmdutil.Factory, cmd *cobra.Command, name, short, hint string) {
	refuse(f, cmd, name, short, true, hint)
}

// RefuseValueFlag is RefuseFlag for a flag that takes a value (--dir DIR).
func RefuseValueFlag(f *cmdutil.Factory, cmd *cobra.Command, name, short, hint string) {
	refuse(f, cmd, name, short, false, hint)
}

func refuse(f *cmdutil.Factory, cmd *cobra.Command, name, short string, isBool bool, hint string) {
	v := &refusedValue{typ: "string"}
	if isBool {
		v.typ = "bool"
	}
	fl := cmd.Flags().VarPF(v, name, short, "nsc's --"+name+" (not supported by signet)")
	if isBool {
		fl.NoOptDefVal = "true"
	}
	fl.Hidden = true
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if c.Flags().Changed(name) {
			f.IO.Warn("nsc's --%s is not supported by signet: %s", name, hint)
			return &cmdutil.ExitError{Code: 1}
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// refusedValue takes any value: refuse reports the flag whatever it was given.
type refusedValue struct{ s, typ string }

func (v *refusedValue) String() string     { return v.s }
func (v *refusedValue) Set(s string) error { v.s = s; return nil }
func (v *refusedValue) Type() string       { return v.typ }

// renamedAnnotation marks a hidden flag that keeps an old nsc name; its value is the new name.
const renamedAnnotation = "signet-nsc-renamed"

// MarkRenamed hides fl, an old nsc name kept so scripts go on working; when it is used,
// CheckRootFlags warns on stderr with the name to use. (pflag's Deprecated would print its
// notice on stdout, where signet's data goes.)
func MarkRenamed(fl *pflag.Flag, use string) {
	fl.Hidden = true
	if fl.Annotations == nil {
		fl.Annotations = map[string][]string{}
	}
	fl.Annotations[renamedAnnotation] = []string{use}
}
