package exports

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/keystore"
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

// RunAddExport adds an export through ops.AddExport.
func RunAddExport(f *cmdutil.Factory, o *ExportOptions) error {
	return changed(f, o.Account, func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error) {
		return ops.AddExport(s, ks, ops.AddExportRequest{Account: account, Signer: o.Signer, Subject: o.Subject, Service: o.Service, ExportFields: o.fields()})
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

// RunEditExport changes the fields named in o.Set of one export through ops.EditExport.
func RunEditExport(f *cmdutil.Factory, o *ExportOptions) error {
	kind, err := parseKind(o.Kind)
	if err != nil {
		return err
	}
	// nsc re-signs the account when only --subject is given: it counts it as an edit flag.
	req := ops.EditExportRequest{Signer: o.Signer, Subject: o.Subject, Kind: kind, ExportFields: o.fields(), ResignAnyway: true}
	if o.Set["service"] {
		req.Service = &o.Service
	}
	return changed(f, o.Account, func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error) {
		req.Account = account
		return ops.EditExport(s, ks, req)
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

// RunDeleteExport removes one export through ops.DeleteExport.
func RunDeleteExport(f *cmdutil.Factory, o *ExportOptions) error {
	kind, err := parseKind(o.Kind)
	if err != nil {
		return err
	}
	return changed(f, o.Account, func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error) {
		return ops.DeleteExport(s, ks, ops.DeleteExportRequest{Account: account, Signer: o.Signer, Subject: o.Subject, Kind: kind})
	})
}

// fields are the export fields whose flags o.Set names.
func (o *ExportOptions) fields() ops.ExportFields {
	var x ops.ExportFields
	set := o.Set
	if set["name"] {
		x.Name = &o.Name
	}
	if set["private"] {
		x.Private = &o.Private
	}
	if set["response-type"] {
		x.ResponseType = &o.ResponseType
	}
	if set["response-threshold"] {
		x.ResponseThreshold = &o.ResponseThreshold
	}
	if set["latency"] {
		x.Latency = &o.Latency
	}
	if set["sampling"] {
		x.Sampling = &o.Sampling
	}
	x.RmLatency = set["rm-latency"]
	if set["account-token-position"] {
		x.AccountTokenPosition = &o.AccountTokenPosition
	}
	if set["advertise"] {
		x.Advertise = &o.Advertise
	}
	if set["allow-trace"] {
		x.AllowTrace = &o.AllowTrace
	}
	if set["description"] {
		x.Description = &o.Description
	}
	if set["info-url"] {
		x.InfoURL = &o.InfoURL
	}
	return x
}
