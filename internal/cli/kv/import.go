package kv

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// ImportOptions are the inputs of `signet kv import`.
type ImportOptions struct {
	*Options
	Dir string
}

func newCmdImport(f *cmdutil.Factory, kv *Options, runF func(*cmdutil.Factory, *ImportOptions) error) *cobra.Command {
	if runF == nil {
		runF = RunImport
	}
	o := &ImportOptions{Options: kv}
	return &cobra.Command{
		Use:   "import DIR",
		Short: "Load a directory store (nats-account-server's or signet's, flat or sharded) into the bucket",
		Long: `Load the account JWTs of a directory store into the bucket: nats-account-server's store
(flat <account>.jwt files, or two-character shard folders), nats-server's full resolver
directory, or signet serve's own. The layout is found by looking; the directory is only read.

Each JWT is verified against the operator: untrusted and malformed ones are skipped with a
warning and never enter the bucket. One older than what the bucket holds (or of the same second
and different) is skipped too: the bucket keeps the newer. signet serve --import-dir DIR does the
same before serving.`,
		Example: `  signet kv import -c serve.conf ./jwts
  signet kv import --servers nats://js1:4222 --creds js.creds --operator O /var/lib/nats-account-server`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = args[0]
			return runF(f, o)
		},
	}
}

// RunImport imports o.Dir into the bucket and reports what it did.
func RunImport(f *cmdutil.Factory, o *ImportOptions) error {
	s, err := open(f, o.Options)
	if err != nil {
		return err
	}
	defer shutdown(s)
	rep, err := s.ImportDir(o.Dir)
	for _, w := range rep.Warnings {
		f.IO.Warn("%s", w)
	}
	for _, r := range rep.Refused {
		f.IO.Warn("refused %s: %s", r.Path, r.Reason)
	}
	for _, r := range rep.Stale {
		f.IO.Warn("skipped %s: %s", r.Path, r.Reason)
	}
	if err != nil {
		return err
	}
	f.IO.OK("imported %d accounts from %s (%s layout) into bucket %s: %d unchanged, %d skipped as older, %d refused",
		len(rep.Imported), o.Dir, rep.Layout, s.KV().Bucket(), len(rep.Unchanged), len(rep.Stale), len(rep.Refused))
	return nil
}
