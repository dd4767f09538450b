// Package history holds `signet history` and `signet history verify`: the operator's
// hash-chained log of every change signet made to its store (see package
// github.com/signet-dev/signet/history).
package history

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/history"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Options are the inputs of `history` and `history verify`.
type Options struct {
	Operator string
	JSON     bool
}

// NewCmdHistory builds `history` with its `verify` sub-command.
func NewCmdHistory(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show who changed what in the operator's store, and when",
		Long: `Every change signet makes to an operator's store (from the CLI, the console, apply or dev)
is appended to the operator's history: who (the OS user, or the console session), what (the
entity, its claims before and after, the sha256 of its JWT before and after) and when. Each
record carries the hash of the one before it; ` + "`signet history verify`" + ` checks the chain.`,
		Example: `  signet history
  signet history --operator prod --json
  signet history verify`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return Run(f, o) },
	}
	cmd.PersistentFlags().StringVar(&o.Operator, "operator", "", "operator whose history to read (default: the current one)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the records as JSON")
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Check that no history record was edited or removed",
		Long: `Recompute every record's hash and check that each names the one before it and that the
last one is the last written. Exit status 1 names the first bad record.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return RunVerify(f, o) },
	})
	return cmd
}

// noSubcommand refuses an argument as the root refuses an unknown sub-command of a group: with
// cobra's suggestions ("history verif" suggests verify).
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t") + "\n"
	}
	return errors.New(msg)
}

// Run prints the operator's history, oldest first.
func Run(f *cmdutil.Factory, o *Options) error {
	s, err := f.Operator(o.Operator)
	if err != nil {
		return err
	}
	recs, err := history.Read(s)
	if err != nil {
		return err
	}
	if o.JSON {
		if recs == nil {
			recs = []history.Record{}
		}
		return cmdutil.PrintJSON(f.IO.Out, recs)
	}
	if len(recs) == 0 {
		f.IO.Info("operator %q has no history yet: changes made from now on are recorded", s.Name())
		return nil
	}
	t := cmdutil.NewTable(fmt.Sprintf("History of operator %q", s.Name()))
	t.AppendHeader([]any{"#", "When", "Who", "Change", "Fields"})
	for _, r := range recs {
		t.AppendRow([]any{r.Seq, r.Time.Format("2006-01-02 15:04:05Z"), r.Who, Describe(r), fields(r)})
	}
	cmdutil.RenderTable(f.IO.Out, t)
	return nil
}

// Describe says what a record changed: `updated account "A"`, `created user "u" in "A"`.
func Describe(r history.Record) string {
	s := fmt.Sprintf("%s %s %q", r.Action, r.Kind, r.Name)
	if r.Kind == "user" && r.Account != "" {
		s += fmt.Sprintf(" in %q", r.Account)
	}
	return s
}

// fields lists the changed claims of an update (created and deleted entities list none: every
// claim changed).
func fields(r history.Record) string {
	if r.Action != history.Updated {
		return ""
	}
	var out []string
	for _, fl := range r.Fields {
		out = append(out, fmt.Sprintf("%s: %s → %s", fl.Path, orNone(fl.Before), orNone(fl.After)))
	}
	return strings.Join(out, "\n")
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	if len(v) > 60 {
		return v[:57] + "..."
	}
	return v
}

// RunVerify checks the chain; a bad record is reported and the exit status is 1.
func RunVerify(f *cmdutil.Factory, o *Options) error {
	s, err := f.Operator(o.Operator)
	if err != nil {
		return err
	}
	n, err := history.Verify(s)
	var bad *history.BadRecordError
	if errors.As(err, &bad) {
		return fmt.Errorf("history of operator %q (%s) is not intact: %w", s.Name(), history.Path(s), err)
	}
	if err != nil {
		return err
	}
	f.IO.OK("history of operator %q is intact: %d records", s.Name(), n)
	return nil
}
