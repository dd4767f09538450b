// Package drift holds `signet drift`: what the nats-servers and the account server hold,
// compared with the current operator's store (see package github.com/signet-dev/signet/drift).
package drift

import (
	"context"
	"fmt"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	driftcheck "github.com/signet-dev/signet/drift"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// Exit codes besides 0 (clean).
const (
	// ExitDrift: every source was read and at least one account differs from the store.
	ExitDrift = 2
	// ExitError: a source could not be read, so the check is incomplete.
	ExitError = 1
)

// Options are the inputs of `drift`.
type Options struct {
	Servers       []string
	Creds         string
	AccountServer string
	JSON          bool
	Timeout       time.Duration
}

// NewCmdDrift builds `drift`.
func NewCmdDrift(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Compare what the nats-servers and the account server hold with the store",
		Long: `Ask every nats-server (one by one, as a system-account user) and the account server
which account JWTs they hold, and compare each with the current operator's store: in-sync,
missing, older, newer, different, unknown (not in the store), untrusted (not signed by the
operator) or ambiguous. Without --servers and --account-server, the operator's service URLs
and account server URL are asked.

Exit status: 0 nothing drifts, 2 drift found, 1 a source could not be read (or another error).`,
		Example: `  signet drift
  signet drift --servers nats://n1:4222 --creds sys.creds --json
  signet drift --account-server http://localhost:9090/jwt/v1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return Run(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&o.Servers, "servers", nil, "NATS URLs to ask (comma-separated or repeated; default: the operator's service URLs)")
	fs.StringVar(&o.Creds, "creds", "", "creds file of a system account user (default: a short-lived system user signed from the keystore)")
	fs.StringVar(&o.AccountServer, "account-server", "", "account server URL (default: the operator's account server URL)")
	fs.BoolVar(&o.JSON, "json", false, "print the whole report as JSON")
	fs.DurationVar(&o.Timeout, "timeout", driftcheck.DefaultTimeout, "how long to wait for servers that have not answered")
	return cmd
}

// jsonReport is what --json prints: the report and its verdict.
type jsonReport struct {
	Clean bool `json:"clean"`
	*driftcheck.Report
}

// Run checks drift and prints the report; the error is an *cmdutil.ExitError for drift and
// unreadable sources.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	expected, names, err := StoreJWTs(s, nil)
	if err != nil {
		return err
	}
	rep, err := Check(ctx, f, s, o, expected, names)
	if err != nil {
		return err
	}
	if o.JSON {
		if err := cmdutil.PrintJSON(f.IO.Out, jsonReport{Clean: rep.Clean(), Report: rep}); err != nil {
			return err
		}
	} else {
		PrintReport(f, rep)
	}
	return ExitFor(rep)
}

// Check asks the sources o names (else the operator's service URLs and account server) what
// they hold and compares it with expected (account public key -> JWT; names for the report):
// what `signet drift` and `signet plan --servers` share.
func Check(ctx context.Context, f *cmdutil.Factory, s *store.Store, o *Options, expected, names map[string]string) (*driftcheck.Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	servers, accountServer := o.Servers, o.AccountServer
	if len(servers) == 0 && accountServer == "" {
		servers, accountServer = driftcheck.OperatorSources(oc)
	}
	if len(servers) == 0 && accountServer == "" {
		return nil, fmt.Errorf("operator %q has no account server URL or service URLs: pass --servers nats://... or --account-server http://...", oc.Name)
	}
	opts := driftcheck.Options{
		Operator: oc, Expected: expected, Names: names,
		Servers: servers, AccountServer: accountServer,
		HTTP: f.HTTP, Timeout: o.Timeout,
	}
	if len(servers) > 0 {
		if o.Creds != "" {
			opts.NATSOptions = []nats.Option{nats.UserCredentials(o.Creds)}
		} else {
			ks, err := f.KeyStore()
			if err != nil {
				return nil, err
			}
			if opts.NATSOptions, err = ops.SystemConn(s, ks, oc, ""); err != nil {
				return nil, fmt.Errorf("%w (or pass --creds FILE of a system account user)", err)
			}
		}
	}
	return driftcheck.Check(ctx, opts)
}

// ExitFor maps a report to the command's exit status: 1 when a source could not be read, 2 for
// drift, nil when clean.
func ExitFor(rep *driftcheck.Report) error {
	for _, src := range rep.Sources {
		if src.Error != "" {
			return &cmdutil.ExitError{Code: ExitError}
		}
	}
	if !rep.Clean() {
		return &cmdutil.ExitError{Code: ExitDrift}
	}
	return nil
}

// StoreJWTs reads the accounts of the store (only those named in only, when it is not nil):
// public key -> JWT and public key -> name.
func StoreJWTs(s *store.Store, only map[string]bool) (map[string]string, map[string]string, error) {
	accounts, err := s.Accounts()
	if err != nil {
		return nil, nil, err
	}
	tokens, names := map[string]string{}, map[string]string{}
	for _, name := range accounts {
		if only != nil && !only[name] {
			continue
		}
		ac, tok, err := s.Account(name)
		if err != nil {
			return nil, nil, fmt.Errorf("load account %q: %w", name, err)
		}
		tokens[ac.Subject], names[ac.Subject] = tok, name
	}
	return tokens, names, nil
}

// PrintReport prints a drift report: warnings for unreadable sources, a table of what differs.
func PrintReport(f *cmdutil.Factory, rep *driftcheck.Report) {
	for _, src := range rep.Sources {
		if src.Error != "" {
			f.IO.Warn("%s %s could not be read: %s", src.Kind, src.Name, src.Error)
		}
		if src.Note != "" {
			f.IO.Info("%s %s: %s", src.Kind, src.Name, src.Note)
		}
	}
	found := rep.Drift()
	accounts := map[string]bool{}
	for _, e := range rep.Entries {
		accounts[e.Account] = true
	}
	if len(found) == 0 {
		if rep.Clean() {
			f.IO.OK("no drift: %d accounts in sync at %d sources", len(accounts), len(rep.Sources))
		}
		return
	}
	t := cmdutil.NewTable("Drift")
	t.AppendHeader(table.Row{"Account", "Source", "Status", "Store iat", "Source iat", "Detail"})
	for _, e := range found {
		name := e.Name
		if name == "" {
			name = e.Account
		}
		t.AppendRow(table.Row{name, e.Source, string(e.Status), cmdutil.FormatUnix(e.StoreIssuedAt), cmdutil.FormatUnix(e.SourceIssuedAt), e.Detail})
	}
	cmdutil.RenderTable(f.IO.Out, t)
	f.IO.Warn("drift: %d of %d entries differ from the store (%d sources asked)", len(found), len(rep.Entries), len(rep.Sources))
}
