package exports

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// ExportOptions are the inputs of `add export`, `edit export` and `delete export`.
type ExportOptions struct {
	Target
	Subject string
	// Kind selects among exports sharing a subject (edit, delete): "service", "stream" or "".
	Kind string

	Name                 string
	Service              bool
	Private              bool
	ResponseType         string
	ResponseThreshold    time.Duration
	Latency              string
	Sampling             string
	RmLatency            bool
	AccountTokenPosition uint
	Advertise            bool
	AllowTrace           bool
	Description          string
	InfoURL              string

	// Set holds the names of the flags given: add and edit apply only those fields (a caller
	// that builds ExportOptions by hand lists the fields it sets).
	Set map[string]bool
}

func (o *ExportOptions) addFieldFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Name, "name", "n", "", "export name (default the subject)")
	fs.BoolVarP(&o.Private, "private", "p", false, "require an activation token to import (--private=false makes it public)")
	fs.StringVar(&o.ResponseType, "response-type", "", "service response type: Singleton, Stream or Chunked")
	fs.DurationVar(&o.ResponseThreshold, "response-threshold", 0, "service: how long the server waits for a response (e.g. 5s)")
	fs.StringVar(&o.Latency, "latency", "", "service: subject where the server publishes latency measurements")
	fs.StringVar(&o.Sampling, "sampling", "", "service latency sampling: a percentage 1-100, or 'headers' (default 100)")
	fs.UintVar(&o.AccountTokenPosition, "account-token-position", 0, "position (1-based) of the * token that must hold the importing account's public key")
	fs.BoolVar(&o.Advertise, "advertise", false, "advertise the export to other accounts")
	fs.BoolVar(&o.AllowTrace, "allow-trace", false, "service: let message traces cross the export")
	fs.StringVar(&o.Description, "description", "", "description")
	fs.StringVar(&o.InfoURL, "info-url", "", "link to more information")
}

// visited records which flags a command line gave.
func visited(cmd *cobra.Command) map[string]bool {
	set := map[string]bool{}
	cmd.Flags().Visit(func(fl *pflag.Flag) { set[fl.Name] = true })
	return set
}

// NewCmdAddExport builds `add export`.
func NewCmdAddExport(f *cmdutil.Factory) *cobra.Command {
	o := &ExportOptions{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Add a stream or service export to an account",
		Example: `  signet add export -a A -s "news.>"
  signet add export -a A -s help --service --private --response-type Stream`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Set = visited(cmd)
			return RunAddExport(f, o)
		},
	}
	fs := cmd.Flags()
	o.addFlags(fs, "account that exports")
	fs.StringVarP(&o.Subject, "subject", "s", "", "subject to export (wildcards allowed)")
	fs.BoolVarP(&o.Service, "service", "r", false, "export a service (requests and replies) instead of a stream")
	o.addFieldFlags(fs)
	return cmd
}

// RunAddExport adds an export and re-signs the account.
func RunAddExport(f *cmdutil.Factory, o *ExportOptions) error {
	if err := validSubject("--subject", o.Subject); err != nil {
		return err
	}
	kind := kindOf(o.Service)
	return editAccount(f, o.Target, func(_ *store.Store, name string, ac *jwt.AccountClaims) ([]string, error) {
		for _, e := range ac.Exports {
			if e.Type == kind && string(e.Subject) == o.Subject {
				return nil, fmt.Errorf("account %q already exports %s %q: change it with `signet edit export -a %s -s %s`", name, kind, o.Subject, shellquote.Quote(name), shellquote.Quote(o.Subject))
			}
		}
		e := &jwt.Export{Name: o.Subject, Subject: jwt.Subject(o.Subject), Type: kind}
		if o.Service {
			e.ResponseType = jwt.ResponseTypeSingleton
		}
		if err := o.apply(e); err != nil {
			return nil, err
		}
		ac.Exports.Add(e)
		return []string{fmt.Sprintf("added %s %s export %q to account %q", visibility(e), kind, o.Subject, name)}, nil
	})
}

// NewCmdEditExport builds `edit export`.
func NewCmdEditExport(f *cmdutil.Factory) *cobra.Command {
	o := &ExportOptions{}
	cmd := &cobra.Command{
		Use:     "export",
		Short:   "Edit an export, chosen by its subject",
		Example: `  signet edit export -a A -s help --response-type Chunked --latency lat.help --sampling headers`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Set = visited(cmd)
			return RunEditExport(f, o)
		},
	}
	fs := cmd.Flags()
	o.addFlags(fs, "account that exports")
	fs.StringVarP(&o.Subject, "subject", "s", "", "subject of the export to edit")
	fs.StringVar(&o.Kind, "kind", "", "service or stream, when a service and a stream export share the subject")
	fs.BoolVar(&o.RmLatency, "rm-latency", false, "stop latency tracking")
	fs.BoolVarP(&o.Service, "service", "r", false, "change the export's type: --service makes it a service, --service=false a stream (this breaks importers)")
	o.addFieldFlags(fs)
	compat.AliasFlags(fs, map[string]string{"rm-latency-sampling": "rm-latency"})
	return cmd
}

// fieldFlags are the flags that change an export's fields.
func fieldFlags() []string {
	return []string{"service", "name", "private", "response-type", "response-threshold", "latency", "sampling",
		"rm-latency", "account-token-position", "advertise", "allow-trace", "description", "info-url"}
}

// RunEditExport changes the fields named in o.Set of one export.
func RunEditExport(f *cmdutil.Factory, o *ExportOptions) error {
	if err := validSubject("--subject", o.Subject); err != nil {
		return err
	}
	kind, err := parseKind(o.Kind)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(fieldFlags(), func(fl string) bool { return o.Set[fl] }) {
		return errors.New("nothing to edit: give at least one flag (see `signet edit export --help`)")
	}
	return editAccount(f, o.Target, func(_ *store.Store, name string, ac *jwt.AccountClaims) ([]string, error) {
		i, err := findExport(name, ac, o.Subject, kind)
		if err != nil {
			return nil, err
		}
		e := ac.Exports[i]
		if o.Set["service"] {
			if m := changeKind(e, kindOf(o.Service)); m != "" {
				f.IO.Warn("%s", m)
			}
		}
		if err := o.apply(e); err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("edited %s %s export %q of account %q", visibility(e), e.Type, o.Subject, name)}, nil
	})
}

// NewCmdDeleteExport builds `delete export`.
func NewCmdDeleteExport(f *cmdutil.Factory) *cobra.Command {
	o := &ExportOptions{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Delete an export, chosen by its subject",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunDeleteExport(f, o) },
	}
	fs := cmd.Flags()
	o.addFlags(fs, "account that exports")
	fs.StringVarP(&o.Subject, "subject", "s", "", "subject of the export to delete")
	fs.StringVar(&o.Kind, "kind", "", "service or stream, when a service and a stream export share the subject")
	return cmd
}

// RunDeleteExport removes one export.
func RunDeleteExport(f *cmdutil.Factory, o *ExportOptions) error {
	if err := validSubject("--subject", o.Subject); err != nil {
		return err
	}
	kind, err := parseKind(o.Kind)
	if err != nil {
		return err
	}
	return editAccount(f, o.Target, func(_ *store.Store, name string, ac *jwt.AccountClaims) ([]string, error) {
		i, err := findExport(name, ac, o.Subject, kind)
		if err != nil {
			return nil, err
		}
		e := ac.Exports[i]
		ac.Exports = slices.Delete(ac.Exports, i, i+1)
		return []string{fmt.Sprintf("deleted %s export %q from account %q", e.Type, o.Subject, name)}, nil
	})
}

// findExport returns the index of the export with exactly this subject (and kind, unless
// Unknown).
func findExport(account string, ac *jwt.AccountClaims, subject string, kind jwt.ExportType) (int, error) {
	var hits []int
	for i, e := range ac.Exports {
		if string(e.Subject) == subject && (kind == jwt.Unknown || e.Type == kind) {
			hits = append(hits, i)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		var have []string
		for _, e := range ac.Exports {
			have = append(have, fmt.Sprintf("%s %q", e.Type, e.Subject))
		}
		if len(have) == 0 {
			return 0, fmt.Errorf("account %q has no exports", account)
		}
		return 0, fmt.Errorf("account %q has no export with subject %q (it exports %s)", account, subject, strings.Join(have, ", "))
	}
	return 0, fmt.Errorf("account %q has a service and a stream export with subject %q: choose one with --kind service or --kind stream", account, subject)
}

// changeKind makes e a service or a stream export, as nsc's edit export --service does, dropping
// what only a service has when it becomes a stream; it returns the warning to print, if any.
func changeKind(e *jwt.Export, kind jwt.ExportType) string {
	if e.Type == kind {
		return ""
	}
	e.Type = kind
	if kind == jwt.Service {
		e.ResponseType = jwt.ResponseTypeSingleton
	} else {
		e.ResponseType, e.ResponseThreshold, e.Latency, e.AllowTrace = "", 0, nil, false
	}
	return fmt.Sprintf("changed export type of %q to %s - this will break importers", e.Subject, kind)
}

func visibility(e *jwt.Export) string {
	if e.TokenReq {
		return "private"
	}
	return "public"
}

// apply sets the fields whose flags are in o.Set, checking that each fits the export's type.
func (o *ExportOptions) apply(e *jwt.Export) error {
	set := o.Set
	serviceOnly := func(flag string) error {
		if set[flag] && !e.IsService() {
			return fmt.Errorf("--%s applies only to service exports, and %q is a stream export", flag, e.Subject)
		}
		return nil
	}
	for _, fl := range []string{"response-type", "response-threshold", "latency", "sampling", "allow-trace"} {
		if err := serviceOnly(fl); err != nil {
			return err
		}
	}
	if set["name"] {
		if strings.TrimSpace(o.Name) == "" {
			return errors.New("--name: empty name")
		}
		e.Name = o.Name
	}
	if set["private"] {
		e.TokenReq = o.Private
	}
	if set["response-type"] {
		rt, err := ops.ParseResponseType(o.ResponseType)
		if err != nil {
			return fmt.Errorf("--response-type: %w", err)
		}
		e.ResponseType = rt
	}
	if set["response-threshold"] {
		if o.ResponseThreshold < 0 {
			return fmt.Errorf("--response-threshold %s: must not be negative", o.ResponseThreshold)
		}
		e.ResponseThreshold = o.ResponseThreshold
	}
	if err := o.applyLatency(e); err != nil {
		return err
	}
	if set["account-token-position"] {
		e.AccountTokenPosition = o.AccountTokenPosition
	}
	if set["advertise"] {
		e.Advertise = o.Advertise
	}
	if set["allow-trace"] {
		e.AllowTrace = o.AllowTrace
	}
	if set["description"] {
		e.Description = o.Description
	}
	if set["info-url"] {
		e.InfoURL = o.InfoURL
	}
	return nil
}

func (o *ExportOptions) applyLatency(e *jwt.Export) error {
	set := o.Set
	if set["rm-latency"] && (set["latency"] || set["sampling"]) {
		return errors.New("--rm-latency cannot be combined with --latency or --sampling")
	}
	if set["rm-latency"] {
		e.Latency = nil
		return nil
	}
	if set["sampling"] && !set["latency"] && e.Latency == nil {
		return errors.New("--sampling needs --latency <subject>: the subject where measurements are published")
	}
	if set["latency"] {
		if err := validSubject("--latency", o.Latency); err != nil {
			return err
		}
		if jwt.Subject(o.Latency).HasWildCards() {
			return fmt.Errorf("--latency %q: the results subject cannot contain wildcards", o.Latency)
		}
		if e.Latency == nil {
			e.Latency = &jwt.ServiceLatency{Sampling: 100}
		}
		e.Latency.Results = jwt.Subject(o.Latency)
	}
	if set["sampling"] {
		rate, err := ops.ParseSampling(o.Sampling)
		if err != nil {
			return fmt.Errorf("--sampling: %w", err)
		}
		e.Latency.Sampling = rate
	}
	return nil
}
