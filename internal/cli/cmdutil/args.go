package cmdutil

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Kind is what a command's subject names: an operator, an account, a user, a file, or a new
// name. Shell completion reads it (internal/cli registers the completions) to suggest names.
type Kind string

// The kinds of subject.
const (
	KindOperator Kind = "operator"
	KindAccount  Kind = "account"
	KindUser     Kind = "user"
	KindFile     Kind = "file"
	// KindNew is the name of something the command creates: nothing to suggest.
	KindNew Kind = "new"
	// KindSigningKey is an account signing key: its public key or its role.
	KindSigningKey Kind = "signing-key"
)

// SubjectAnnotation is the cobra annotation NameArg leaves on a command: the Kind of its
// positional argument and of the flags that mean the same.
const SubjectAnnotation = "signet/subject"

// SubjectFlagsAnnotation lists, comma separated, the flags that name a command's subject.
const SubjectFlagsAnnotation = "signet/subject-flags"

// SubjectManyAnnotation is "true" on a command that takes several subjects as arguments.
const SubjectManyAnnotation = "signet/subject-many"

// NameArg lets cmd take its subject (what it works on) into *value in every form people type:
// its one optional positional argument, as nsc's `edit account A`, or any of flags, as nsc's
// `edit account -n A`. Each of flags is "long" for a flag cmd already defines (bound to value
// or not), or "long:s" for an alias NameArg adds with shorthand s (e.g. "account:a", so that
// `edit account -a A` works too). Every form gets storage of its own, so that two different
// values are refused rather than the last one silently winning. Call it after the flags are
// defined; it replaces cmd.Args.
func NameArg(cmd *cobra.Command, value *string, kind Kind, flags ...string) {
	fs := cmd.Flags()
	var names []string
	for i, spec := range flags {
		long, short, alias := strings.Cut(spec, ":")
		names = append(names, long)
		if !alias && fs.Lookup(long) != nil {
			continue
		}
		if fs.Lookup(long) != nil {
			panic(fmt.Sprintf("NameArg: %s already defines --%s", cmd.CommandPath(), long))
		}
		usage := "same as the argument"
		if i > 0 {
			usage = "same as --" + names[0]
		}
		fs.StringP(long, short, "", usage)
	}
	Subject(cmd, kind, names...)
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 1 {
			return fmt.Errorf("%s takes one %s, got %d arguments (%s): quote a name with spaces", cmd.CommandPath(), kind, len(args), strings.Join(args, " "))
		}
		got, from := "", ""
		take := func(v, source string) error {
			if got != "" && v != got {
				return fmt.Errorf("%s given twice, %s %q and %s %q: give it once", kind, from, got, source, v)
			}
			got, from = v, source
			return nil
		}
		if len(args) == 1 {
			if err := take(args[0], "argument"); err != nil {
				return err
			}
		}
		for _, n := range names {
			fl := cmd.Flags().Lookup(n)
			if fl == nil || !fl.Changed {
				continue
			}
			if err := take(fl.Value.String(), flagLabel(fl)); err != nil {
				return err
			}
		}
		if from != "" {
			*value = got
		}
		return nil
	}
}

// Subject records, for shell completion, what cmd's positional arguments and the named flags
// name. NameArg calls it; commands that take several names (delete user U1 U2, -n U1 -n U2)
// call it themselves.
func Subject(cmd *cobra.Command, kind Kind, flags ...string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[SubjectAnnotation] = string(kind)
	cmd.Annotations[SubjectFlagsAnnotation] = strings.Join(flags, ",")
}

// Subjects is Subject for a command that takes several names as arguments (delete user U1 U2).
func Subjects(cmd *cobra.Command, kind Kind, flags ...string) {
	Subject(cmd, kind, flags...)
	cmd.Annotations[SubjectManyAnnotation] = "true"
}

func flagLabel(fl *pflag.Flag) string {
	if fl.Shorthand != "" {
		return "-" + fl.Shorthand
	}
	return "--" + fl.Name
}
