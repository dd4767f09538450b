// Package speccmd holds the auth-as-code commands: `schema`, `export-spec`, `plan` and `apply`.
// Each parses its flags, makes one call to package spec and prints; the spec file's format,
// the plan and the apply are spec's.
package speccmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	driftcheck "github.com/signet-dev/signet/drift"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/drift"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/spec"
	"github.com/signet-dev/signet/store"
)

// Register adds the commands to the root.
func Register(f *cmdutil.Factory, root *cobra.Command) {
	root.AddCommand(NewCmdSchema(f), NewCmdExportSpec(f), NewCmdPlan(f), NewCmdApply(f))
}

// NewCmdSchema builds `schema`.
func NewCmdSchema(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the auth-as-code spec file (plan, apply, export-spec)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := spec.Schema()
			if err != nil {
				return err
			}
			_, err = f.IO.Out.Write(b)
			return err
		},
	}
}

// ExportOptions are the inputs of `export-spec`.
type ExportOptions struct {
	Operator string
	Output   string
	Users    bool
	JSON     bool
}

// NewCmdExportSpec builds `export-spec`.
func NewCmdExportSpec(f *cmdutil.Factory) *cobra.Command {
	o := &ExportOptions{}
	cmd := &cobra.Command{
		Use:   "export-spec",
		Short: "Write the auth-as-code spec of an existing operator (no keys), to adopt it with plan/apply",
		Example: `  signet export-spec -o auth.yaml
  signet export-spec --operator dev --users -o dev.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunExportSpec(f, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Operator, "operator", "", "operator to export (default the current one)")
	fs.StringVarP(&o.Output, "output-file", "o", "", "write the spec to this file instead of stdout")
	fs.BoolVar(&o.Users, "users", false, "include every user (default: none; users not in a file are left alone)")
	fs.BoolVar(&o.JSON, "json", false, "write JSON instead of YAML (default for an -o file ending in .json)")
	return cmd
}

// RunExportSpec writes the spec of the operator's store.
func RunExportSpec(f *cmdutil.Factory, o *ExportOptions) error {
	s, err := f.Operator(o.Operator)
	if err != nil {
		return err
	}
	sp, err := spec.FromStore(s, spec.ExportOptions{Users: o.Users})
	if err != nil {
		return err
	}
	data, err := spec.Marshal(sp, o.JSON || strings.HasSuffix(o.Output, ".json"))
	if err != nil {
		return err
	}
	if o.Output == "" || o.Output == "--" {
		_, err := f.IO.Out.Write(data)
		return err
	}
	if err := store.WriteFileAtomic(o.Output, data, 0o644, 0o755); err != nil {
		return fmt.Errorf("write spec: %w", err)
	}
	f.IO.OK("wrote the spec of operator %q (%s) to %q", s.Name(), plural.N(len(sp.Accounts), "account"), o.Output)
	return nil
}

// PlanOptions are the inputs of `plan` and `apply`.
type PlanOptions struct {
	Files    []string
	Operator string
	Prune    bool
	JSON     bool
	// Drift (plan only): also ask the servers what they hold (drift.Options: --servers,
	// --account-server, --creds); DriftDefault asks the operator's own URLs.
	Drift        drift.Options
	DriftDefault bool
}

func (o *PlanOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringArrayVarP(&o.Files, "file", "f", nil, "spec file (YAML or JSON); repeat for overlays, later files win")
	fs.StringVar(&o.Operator, "operator", "", "operator to compare with (default the current one)")
	fs.BoolVar(&o.Prune, "prune", false, "delete accounts the file does not list (and users missing from accounts with manage_users)")
	fs.BoolVar(&o.JSON, "json", false, "print the plan as JSON")
}

// addDriftFlags adds plan's flags for comparing the store with what the servers hold.
func (o *PlanOptions) addDriftFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&o.Drift.Servers, "servers", nil, "also compare with what these nats-servers hold (drift)")
	fs.StringVar(&o.Drift.AccountServer, "account-server", "", "also compare with what this account server holds (drift)")
	fs.StringVar(&o.Drift.Creds, "creds", "", "creds file of a system account user for --servers (default: a short-lived system user signed from the keystore)")
	fs.BoolVar(&o.DriftDefault, "drift", false, "also compare with what the operator's service URLs and account server hold")
	fs.DurationVar(&o.Drift.Timeout, "drift-timeout", driftcheck.DefaultTimeout, "how long to wait for servers that have not answered")
}

// wantsDrift reports whether the servers are to be asked too.
func (o *PlanOptions) wantsDrift() bool {
	return o.DriftDefault || len(o.Drift.Servers) > 0 || o.Drift.AccountServer != ""
}

// load reads the spec files, refusing a bad one before the store is opened.
func (o *PlanOptions) load() (*spec.Loaded, error) { return spec.ReadFiles(o.Files...) }

// NewCmdPlan builds `plan`.
func NewCmdPlan(f *cmdutil.Factory) *cobra.Command {
	o := &PlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what `apply` would change to make the operator match a spec file",
		Long: `Show, per account and user, what apply would create, change (field by field: store -> file)
or delete (with --prune). Nothing is signed or written.

With --servers, --account-server or --drift it also asks the resolvers what they hold and
reports what differs from the store for the accounts the file names (missing, older, newer,
different, untrusted) and accounts the file does not know (unknown): drift made behind signet's
back. See signet drift for every account of the store.

Exit status: 0 nothing to do, 2 changes pending or drift found, 1 error or a server that could
not be read (for CI).`,
		Example: `  signet plan -f auth.yaml
  signet plan -f base.yaml -f prod.yaml --operator prod --json
  signet plan -f auth.yaml --servers nats://n1:4222,nats://n2:4222`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunPlan(cmd.Context(), f, o) },
	}
	o.addFlags(cmd)
	o.addDriftFlags(cmd)
	return cmd
}

// RunPlan prints the plan (and, when asked, the drift); a plan with changes or drift ends with
// exit status 2, a server that could not be read with 1.
func RunPlan(ctx context.Context, f *cmdutil.Factory, o *PlanOptions) error {
	l, err := o.load()
	if err != nil {
		return err
	}
	s, err := f.Operator(o.Operator)
	if err != nil {
		return err
	}
	p, err := spec.MakePlan(s, l, spec.Options{Prune: o.Prune, Now: f.Now})
	if err != nil {
		return err
	}
	var rep *driftcheck.Report
	if o.wantsDrift() {
		known := map[string]bool{}
		for name := range l.Spec.Accounts {
			known[name] = true
		}
		expected, names, err := drift.StoreJWTs(s, known)
		if err != nil {
			return err
		}
		if rep, err = drift.Check(ctx, f, s, &o.Drift, expected, names); err != nil {
			return err
		}
	}
	if o.JSON {
		if err := cmdutil.PrintJSON(f.IO.Out, planJSON{Plan: p, Drift: rep}); err != nil {
			return err
		}
	} else {
		if err := printPlan(f.IO.Out, p, false); err != nil {
			return err
		}
		if rep != nil {
			drift.PrintReport(f, rep)
		}
	}
	if rep != nil {
		if err := drift.ExitFor(rep); err != nil {
			return err
		}
	}
	if p.Pending() {
		return &cmdutil.ExitError{Code: 2}
	}
	return nil
}

// planJSON is what plan --json prints: the plan, and the drift when the servers were asked.
type planJSON struct {
	*spec.Plan
	Drift *driftcheck.Report `json:"drift,omitempty"`
}

// NewCmdApply builds `apply`.
func NewCmdApply(f *cmdutil.Factory) *cobra.Command {
	o := &PlanOptions{}
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make the operator match a spec file, then push the accounts that changed",
		Long: `Make the operator's store match the spec file in one locked step: accounts, their signing keys
and users are created with keys of their own (in the keystore, never in the file), changed
accounts and users are re-signed, and nothing else is touched. A second apply of the same file
does nothing. Accounts the file does not list are deleted only with --prune.

The accounts that changed are then pushed as every command pushes them (the operator's account
server URL, with auto-push or a managed operator).`,
		Example: `  signet apply -f auth.yaml
  signet apply -f base.yaml -f prod.yaml --operator prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunApply(f, o) },
	}
	o.addFlags(cmd)
	return cmd
}

// RunApply plans and applies under the store lock, reports, then pushes with the lock released.
func RunApply(f *cmdutil.Factory, o *PlanOptions) error {
	l, err := o.load()
	if err != nil {
		return err
	}
	lk, err := f.LockNamedOperator(o.Operator)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	s, ks, unlock := lk.Store, lk.KeyStore, lk.Unlock
	p, err := spec.MakePlan(s, l, spec.Options{Prune: o.Prune, Now: f.Now})
	if err != nil {
		return err
	}
	if err := printPlan(f.IO.Out, p, o.JSON); err != nil {
		return err
	}
	res, err := spec.Apply(s, ks, p)
	if res != nil {
		report(f, s, res)
	}
	if err != nil {
		return err
	}
	unlock()
	for _, name := range res.Accounts {
		if err := f.AccountSaved(s, name); err != nil {
			return err
		}
	}
	return nil
}

func report(f *cmdutil.Factory, s *store.Store, res *spec.Result) {
	for _, w := range res.Warnings {
		f.IO.Warn("%s", w)
	}
	for _, a := range res.Accounts {
		f.IO.OK("applied account %q", a)
	}
	for _, u := range res.Users {
		f.IO.OK("applied user %q", u)
	}
	for _, c := range res.Creds {
		f.IO.OK("generated user creds file %q", c)
	}
	if res.Operator {
		f.IO.OK("re-signed operator %q: servers need its new JWT (signet generate config)", s.Name())
	}
	for _, u := range res.DeletedUsers {
		f.IO.OK("revoked and deleted user %q", u)
	}
	for _, a := range res.Deleted {
		f.IO.OK("deleted account %q from the store", a)
	}
	if len(res.Deleted) > 0 {
		f.IO.Warn("the servers keep deleted accounts until they are removed there: `signet push --prune`")
	}
	if len(res.Accounts)+len(res.Users)+len(res.Deleted)+len(res.DeletedUsers) == 0 && !res.Operator {
		f.IO.OK("nothing to do: operator %q matches the spec", s.Name())
	}
}

func printPlan(w io.Writer, p *spec.Plan, asJSON bool) error {
	if asJSON {
		b, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	unmanaged := map[string]int{}
	for _, c := range p.Changes {
		what := fmt.Sprintf("%s %q", c.Kind, c.Name)
		if c.Kind == "user" {
			what = fmt.Sprintf("user %q of account %q", c.Name, c.Account)
		}
		switch c.Action {
		case spec.Create:
			fmt.Fprintf(&b, "+ create %s\n", what)
		case spec.Change:
			fmt.Fprintf(&b, "~ change %s\n", what)
		case spec.Delete:
			if p.Prune {
				fmt.Fprintf(&b, "- delete %s\n", what)
			} else {
				fmt.Fprintf(&b, "- %s is not in the file (kept; --prune deletes it)\n", what)
			}
		case spec.Unmanaged:
			if len(c.Fields) == 1 && c.Fields[0].New == spec.CutOff {
				fmt.Fprintf(&b, "! %s is not in the file and is signed by scoped signing key %s, which the file removes: it will stop working (list the user, or keep the key's role)\n", what, c.Fields[0].Old)
				continue
			}
			unmanaged[c.Account]++
			continue
		}
		for _, fc := range c.Fields {
			switch {
			case c.Action == spec.Create:
				fmt.Fprintf(&b, "    %s: %s\n", fc.Field, fc.New)
			default:
				fmt.Fprintf(&b, "    %s: %s -> %s\n", fc.Field, orNone(fc.Old), orNone(fc.New))
			}
		}
	}
	for _, a := range slices.Sorted(maps.Keys(unmanaged)) {
		fmt.Fprintf(&b, "= %s of account %q not in the file, left alone (manage_users is off)\n", plural.N(unmanaged[a], "user"), a)
	}
	n := p.Count()
	deletes := fmt.Sprintf("%d to delete", n[spec.Delete])
	if !p.Prune {
		deletes = fmt.Sprintf("%d not in the file (kept without --prune)", n[spec.Delete])
	}
	if p.Pending() {
		fmt.Fprintf(&b, "operator %q: %d to create, %d to change, %s\n", p.Operator, n[spec.Create], n[spec.Change], deletes)
	} else {
		fmt.Fprintf(&b, "operator %q: nothing to do (%s)\n", p.Operator, deletes)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
