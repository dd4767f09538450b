package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/ops"
)

// PullOptions are the inputs of `pull`.
type PullOptions struct {
	Account        string
	All            bool
	URL            string
	OverwriteNewer bool
	Dial           DialOptions
}

func newCmdPull(f *cmdutil.Factory) *cobra.Command {
	o := &PullOptions{}
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Pull account JWTs from the account server or nats-server resolvers into the store",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunPull(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "pull this account (name or public key)")
	fs.BoolVarP(&o.All, "all", "A", false, "pull every account the server has")
	fs.StringVarP(&o.URL, "account-jwt-server-url", "u", "", "account server or NATS URL (default: the operator's account server URL)")
	fs.BoolVarP(&o.OverwriteNewer, "overwrite-newer", "F", false, "replace local JWTs even when they are newer than the server's")
	o.Dial.addFlags(fs, "how long to wait for servers")
	return cmd
}

// RunPull pulls account JWTs through ops.Pull and prints what became of each.
func RunPull(ctx context.Context, f *cmdutil.Factory, o *PullOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Account != "" && o.All {
		return errors.New("give either -a ACCOUNT or -A, not both")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	dial, err := o.Dial.resolver()
	if err != nil {
		return err
	}
	req := ops.PullRequest{All: o.All, URL: o.URL, OverwriteNewer: o.OverwriteNewer, HTTP: f.HTTP, Dial: dial}
	if !o.All {
		if req.Account, err = f.Account(s, o.Account); err != nil {
			return err
		}
	}
	res, err := ops.Pull(ctx, s, ks, req)
	var ce *ops.ConnectError
	if errors.As(err, &ce) {
		return cmdutil.WithRefusedHint(err, ce.URL)
	}
	if err != nil {
		return err
	}
	for _, r := range res.Rows {
		switch {
		case r.Err != nil:
			fmt.Fprintf(f.IO.ErrOut, "[ERR ] account %s: %v\n", r.Account, r.Err)
		case r.Status == ops.KeptNewer:
			fmt.Fprintf(f.IO.ErrOut, "[ERR ] kept local account %q: it is newer than the server's (pass --overwrite-newer to replace it)\n", r.Name)
		case r.Status == ops.Missing:
			fmt.Fprintf(f.IO.ErrOut, "[ERR ] account %q (%s): not on %s (push it with `signet push -a %s`)\n", r.Name, r.Account, res.URL, shellquote.Quote(r.Name))
		case r.Status == ops.Same:
			f.IO.OK("account %q is up to date", r.Name)
		default:
			f.IO.OK("pulled account %q from %s", r.Name, res.URL)
		}
	}
	if res.Failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}
