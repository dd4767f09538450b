package cli

import (
	"slices"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/store"
)

// registerCompletions makes the shell suggest names, once for the whole tree: -a/--account
// offers the operator's accounts, --user (and -n where it names a user) the users of the -a
// account, --operator the operators, and a command's subject (its argument and the flags of
// the same meaning, see cmdutil.NameArg) the names of its kind. The names are read from the
// store's folders, not decoded from JWTs, so a TAB stays fast on a large store.
func registerCompletions(f *cmdutil.Factory, c *cobra.Command) {
	kind := cmdutil.Kind(c.Annotations[cmdutil.SubjectAnnotation])
	subjectFlags := strings.Split(c.Annotations[cmdutil.SubjectFlagsAnnotation], ",")
	if kind != "" && kind != cmdutil.KindFile && c.ValidArgsFunction == nil {
		many := c.Annotations[cmdutil.SubjectManyAnnotation] == "true"
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 && !many {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeNames(f, cmd, kind, toComplete, args)
		}
	}
	c.Flags().VisitAll(func(fl *pflag.Flag) {
		switch fl.Value.Type() {
		case "string", "stringSlice", "stringArray":
		default:
			return // -a on generate nkey is a bool: nothing to complete
		}
		k := cmdutil.Kind("")
		switch {
		case kind != "" && slices.Contains(subjectFlags, fl.Name):
			k = kind
		case fl.Name == "account":
			k = cmdutil.KindAccount
		case fl.Name == "user":
			k = cmdutil.KindUser
		case fl.Name == "operator":
			k = cmdutil.KindOperator
		}
		if k == "" || k == cmdutil.KindFile {
			return
		}
		// An error means a completion is registered already (a flag shared by commands).
		_ = c.RegisterFlagCompletionFunc(fl.Name, func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeNames(f, cmd, k, toComplete, nil)
		})
	})
	for _, sub := range c.Commands() {
		registerCompletions(f, sub)
	}
}

// completeNames lists the names of kind that start with prefix, leaving out those in given.
func completeNames(f *cmdutil.Factory, cmd *cobra.Command, kind cmdutil.Kind, prefix string, given []string) ([]string, cobra.ShellCompDirective) {
	var names []string
	switch kind {
	case cmdutil.KindOperator:
		if stores, err := f.Stores(); err == nil {
			names, _ = stores.Operators()
		}
	case cmdutil.KindAccount:
		if s := completionOperator(f, cmd); s != nil {
			names, _ = s.Accounts()
		}
	case cmdutil.KindUser:
		if s := completionOperator(f, cmd); s != nil {
			if account, err := f.Account(s, flagValue(cmd, "account")); err == nil {
				names, _ = s.UserNames(account)
			}
		}
	case cmdutil.KindSigningKey:
		if s := completionOperator(f, cmd); s != nil {
			if account, err := f.Account(s, flagValue(cmd, "account")); err == nil {
				names = signingKeyNames(s, account)
			}
		}
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !slices.Contains(given, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completionOperator is the operator a completion reads: the command's --operator when it names
// one (list users -o O -a <TAB>), else the current operator; nil when there is none.
func completionOperator(f *cmdutil.Factory, cmd *cobra.Command) *store.Store {
	s, err := f.Operator(flagValue(cmd, "operator"))
	if err != nil {
		return nil
	}
	return s
}

// signingKeyNames lists what edit signing-key takes: 'generate', the roles of the account's
// scoped keys and its signing keys.
func signingKeyNames(s *store.Store, account string) []string {
	ac, _, err := s.Account(account)
	if err != nil {
		return nil
	}
	names := []string{"generate"}
	for pub, scope := range ac.SigningKeys {
		names = append(names, pub)
		if us, ok := scope.(*jwt.UserScope); ok && us.Role != "" {
			names = append(names, us.Role)
		}
	}
	return names
}

// flagValue is the value of cmd's string flag name, "" when it has none or it is another type.
func flagValue(cmd *cobra.Command, name string) string {
	fl := cmd.Flags().Lookup(name)
	if fl == nil || fl.Value.Type() != "string" {
		return ""
	}
	return fl.Value.String()
}
