package kv

import (
	"fmt"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// HistoryOptions are the inputs of `signet kv history`.
type HistoryOptions struct {
	*Options
	Account string
	JSON    bool
}

// History is what --json prints.
type History struct {
	Account   string                          `json:"account"`
	Bucket    string                          `json:"bucket"`
	Revisions []accountserver.AccountRevision `json:"revisions"`
}

func newCmdHistory(f *cmdutil.Factory, kv *Options, runF func(*cmdutil.Factory, *HistoryOptions) error) *cobra.Command {
	if runF == nil {
		runF = RunHistory
	}
	o := &HistoryOptions{Options: kv}
	cmd := &cobra.Command{
		Use:   "history ACCOUNT",
		Short: "List the revisions of an account the bucket keeps",
		Long: `List the revisions of an account that the bucket keeps (the bucket's history setting,
10 by default), oldest first; the last one is current. ACCOUNT is a public key, or the name of
an account of the operator's signet store.

Each row shows the bucket revision (what kv rollback takes), when it was written, the JWT's
issue time, the start of its sha256, and whether the revision deleted the account.`,
		Example: `  signet kv history -c serve.conf A
  signet kv history -c serve.conf ADQ...XYZ --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Account = args[0]
			return runF(f, o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the revisions as JSON (JWTs included)")
	return cmd
}

// RunHistory prints the revisions of o.Account.
func RunHistory(f *cmdutil.Factory, o *HistoryOptions) error {
	s, pub, err := openAccount(f, o.Options, o.Account)
	if err != nil {
		return err
	}
	defer shutdown(s)
	revs, err := s.History(pub)
	if err != nil {
		return err
	}
	if o.JSON {
		return cmdutil.PrintJSON(f.IO.Out, History{Account: pub, Bucket: s.KV().Bucket(), Revisions: revs})
	}
	t := cmdutil.NewTable(fmt.Sprintf("History of %s in bucket %s", pub, s.KV().Bucket()))
	t.AppendHeader(table.Row{"Revision", "Time", "Issued", "JWT sha256", "Deleted", "Name"})
	for i, r := range revs {
		rev := fmt.Sprint(r.Revision)
		if i == len(revs)-1 {
			rev += " (current)"
		}
		deleted, sum, name := "", "", r.Name
		if r.Deleted {
			deleted = "yes"
		} else {
			sum = r.SHA256[:12]
		}
		if !r.Deleted && !r.Trusted {
			name += " (not trusted)"
		}
		t.AppendRow(table.Row{rev, r.Time.UTC().Format("2006-01-02 15:04:05 UTC"), cmdutil.FormatUnix(r.IssuedAt), sum, deleted, name})
	}
	cmdutil.RenderTable(f.IO.Out, t)
	return nil
}
