package kv

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// ExportOptions are the inputs of `signet kv export`.
type ExportOptions struct {
	*Options
	Dir   string
	Shard bool
	Force bool
}

func newCmdExport(f *cmdutil.Factory, kv *Options, runF func(*cmdutil.Factory, *ExportOptions) error) *cobra.Command {
	if runF == nil {
		runF = RunExport
	}
	o := &ExportOptions{Options: kv}
	cmd := &cobra.Command{
		Use:   "export DIR",
		Short: "Write every account of the bucket into a directory store (nats-account-server's layout)",
		Long: `Write every account JWT of the bucket into DIR as a directory store: <account>.jwt files
(nats-account-server's default layout, and nats-server's full resolver's), or with --shard in
two-character folders (nats-account-server's shard option). Each file is written atomically.

Only JWTs that verify against the operator are written. DIR must be empty or new; --force writes
over the account files in it and leaves other files alone.`,
		Example: `  signet kv export -c serve.conf ./jwts
  signet kv export -c serve.conf --shard --force /var/lib/nats-account-server`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = args[0]
			return runF(f, o)
		},
	}
	cmd.Flags().BoolVar(&o.Shard, "shard", false, "shard the directory (<last two key characters>/<KEY>.jwt)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "write into a directory that is not empty")
	return cmd
}

// RunExport writes the bucket into o.Dir.
func RunExport(f *cmdutil.Factory, o *ExportOptions) error {
	s, err := open(f, o.Options)
	if err != nil {
		return err
	}
	defer shutdown(s)
	rep, err := s.ExportDir(o.Dir, o.Shard, o.Force)
	if err != nil {
		return err
	}
	layout := "flat"
	if o.Shard {
		layout = "sharded"
	}
	if rep.Others > 0 {
		f.IO.Warn("%s holds %d account files of accounts the bucket does not hold: left as they are", o.Dir, rep.Others)
	}
	f.IO.OK("exported %d accounts of bucket %s to %s (%s layout)", len(rep.Written), s.KV().Bucket(), o.Dir, layout)
	return nil
}
