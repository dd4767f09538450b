package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/internal/cli/tool"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/ops"
)

// PushOptions are the inputs of `push`.
type PushOptions struct {
	Account string
	All     bool
	URL     string
	Prune   bool
	Diff    bool
	JSON    bool
	Signer  string
	// Remove is nsc's --account-removal/-R: delete this account (name or public key) from the
	// nats-server resolvers.
	Remove string
	// Force is nsc's --force/-F; signet does not hold accounts back before a push (the servers
	// judge them), so it changes nothing.
	Force bool
	Dial  DialOptions
}

// DialOptions are how push and pull reach nats-server resolvers: the system account user, the
// wait for answers, and nsc's client TLS flags.
type DialOptions struct {
	SystemUser    string
	SystemAccount string // nsc's --system-account: another system account than the operator's
	Timeout       time.Duration
	TLS           tool.TLSOptions
}

func (d *DialOptions) addFlags(fs *pflag.FlagSet, timeoutUsage string) {
	fs.StringVar(&d.SystemUser, "system-user", "", "system account user whose creds to connect with (default: a short-lived user signed by a system account key)")
	fs.StringVar(&d.SystemAccount, "system-account", "", "system account (name or public key) of the nats-servers (default: the operator's)")
	d.Timeout = 5 * time.Second
	fs.Var(compat.SecondsOrDuration(&d.Timeout), "timeout", timeoutUsage+" (a duration such as 5s, or whole seconds as in nsc)")
	d.TLS.AddFlags(fs)
}

func newCmdPush(f *cmdutil.Factory) *cobra.Command {
	o := &PushOptions{}
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Push account JWTs to the account server or to nats-server resolvers",
		Long: `Push account JWTs. The URL decides the transport: http(s):// talks to an account
server (signet serve, nats-account-server); nats://, tls://, ws://, wss:// talk nats-server's
resolver protocol as a short-lived system-account user. Without -u the operator's account
server URL is used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunPush(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "push this account (name or public key)")
	fs.BoolVarP(&o.All, "all", "A", false, "push every account")
	fs.StringVarP(&o.URL, "account-jwt-server-url", "u", "", "account server or NATS URL (default: the operator's account server URL)")
	fs.BoolVarP(&o.Prune, "prune", "P", false, "delete accounts on the servers that the store no longer has (needs the operator key)")
	fs.BoolVarP(&o.Diff, "diff", "D", false, "show what push would change, and change nothing")
	fs.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key for --prune and --account-removal delete requests")
	fs.StringVarP(&o.Remove, "account-removal", "R", "", "delete this account (name or public key) from nats-server resolvers (nats:// URLs; exclusive of --prune and --diff)")
	fs.BoolVarP(&o.Force, "force", "F", false, "nsc's: push despite validation issues; signet never holds accounts back (the servers judge them)")
	o.Dial.addFlags(fs, "how long to wait for servers that have not answered")
	return cmd
}

// resolver is the ops form of the dial flags.
func (d *DialOptions) resolver() (ops.ResolverDial, error) {
	tlsOpts, err := d.TLS.NATSOptions()
	if err != nil {
		return ops.ResolverDial{}, err
	}
	return ops.ResolverDial{SystemUser: d.SystemUser, SystemAccount: d.SystemAccount, Timeout: d.Timeout, Options: tlsOpts}, nil
}

// RunPush pushes account JWTs through ops.Push and prints its summary (or diff, or JSON).
func RunPush(ctx context.Context, f *cmdutil.Factory, o *PushOptions) error {
	if ctx == nil {
		ctx = context.Background()
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
	req := ops.PushRequest{Account: o.Account, All: o.All, URL: o.URL, Prune: o.Prune, Diff: o.Diff, Remove: o.Remove, Signer: o.Signer, HTTP: f.HTTP, Dial: dial}
	if o.Account == "" && !o.All && !o.Prune && !o.Diff && o.Remove == "" {
		// The current account.
		if req.Account, err = f.Account(s, ""); err != nil {
			return err
		}
	}
	var done func()
	req.Progress, done = progress(f, "push", o.JSON)
	rep, err := ops.Push(ctx, s, ks, req)
	done()
	var ce *ops.ConnectError
	if errors.As(err, &ce) {
		return cmdutil.WithRefusedHint(err, ce.URL)
	}
	if err != nil {
		return err
	}
	switch {
	case o.JSON:
		if err := cmdutil.PrintJSON(f.IO.Out, rep); err != nil {
			return err
		}
	case o.Diff:
		printDiff(f, rep.Diff)
	default:
		printPushSummary(f.IO.Out, rep.URL, rep.Rows)
		if rep.Refused {
			fmt.Fprintf(f.IO.ErrOut, "push: %s\n", cmdutil.RefusedHint(rep.URL))
		}
	}
	if rep.Failed {
		if !o.JSON {
			fmt.Fprintln(f.IO.ErrOut, "push: some updates failed (see the summary)")
		}
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

// progress returns a progress callback for a run whose total it learns from the first call:
// a bar on a terminal, a few plain lines otherwise, nothing for fewer than two steps; and a
// function that ends the bar.
func progress(f *cmdutil.Factory, what string, quiet bool) (func(done, total int), func()) {
	if quiet {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	step, last := 0, 0
	report := func(done, total int) {
		switch {
		case total < 2:
		case f.IO.TTY:
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f.IO.ErrOut), progressbar.OptionSetDescription(what), progressbar.OptionShowCount())
			}
			_ = bar.Set(done)
		default:
			if step == 0 {
				step = max(total/10, 1)
			}
			if done-last >= step || done == total {
				last = done
				fmt.Fprintf(f.IO.ErrOut, "%s: %d/%d\n", what, done, total)
			}
		}
	}
	return report, func() {
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(f.IO.ErrOut)
		}
	}
}

// printPushSummary prints the one summary of a push, over HTTP or NATS alike: a row per
// account, the failures first, each group sorted by name then key.
// printPushSummary prints the one summary of a push, over HTTP or NATS alike: a row per
// account, the failures first, each group sorted by name then key.
func printPushSummary(w io.Writer, u string, rows []ops.PushRow) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Failed != b.Failed {
			return a.Failed
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Account < b.Account
	})
	nFailed := 0
	for _, r := range rows {
		if r.Failed {
			nFailed++
		}
	}
	title := fmt.Sprintf("Push to %s: %s", u, plural.N(len(rows), "account"))
	if nFailed > 0 {
		title += fmt.Sprintf(", %d failed", nFailed)
	}
	t := cmdutil.NewTable(title)
	t.AppendHeader([]any{"Account", "Public Key", "Result"})
	for _, r := range rows {
		t.AppendRow([]any{r.Name, r.Account, r.Result})
	}
	cmdutil.RenderTable(w, t)
}

func printDiff(f *cmdutil.Factory, lines []ops.PushDiff) {
	t := cmdutil.NewTable("Push Diff")
	t.AppendHeader([]any{"Account", "Name", "Action"})
	for _, d := range lines {
		t.AppendRow([]any{d.Account, d.Name, d.Action})
	}
	cmdutil.RenderTable(f.IO.Out, t)
}
