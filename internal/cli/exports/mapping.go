package exports

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// MappingOptions are the inputs of `add mapping` and `delete mapping`.
type MappingOptions struct {
	Target
	From    string
	To      string
	Weight  int
	Cluster string
}

func (o *MappingOptions) addFlags(cmd *cobra.Command, toUsage string) {
	fs := cmd.Flags()
	o.Target.addFlags(fs, "account of the mapping")
	fs.StringVarP(&o.From, "from", "f", "", "subject that publishers use (wildcards allowed)")
	fs.StringVarP(&o.To, "to", "t", "", toUsage)
	fs.StringVarP(&o.Cluster, "cluster", "c", "", "apply the mapping only in this cluster")
}

// NewCmdAddMapping builds `add mapping`.
func NewCmdAddMapping(f *cmdutil.Factory) *cobra.Command {
	o := &MappingOptions{}
	cmd := &cobra.Command{
		Use:   "mapping",
		Short: "Add a subject mapping (with a weight, for A/B splits and canaries) to an account",
		Example: `  signet add mapping -a A -f orders -t orders.v2
  signet add mapping -a A -f req -t req.canary --weight 10
  signet add mapping -a A -f "in.*" -t "out.{{wildcard(1)}}"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunAddMapping(f, o) },
	}
	o.addFlags(cmd, "subject the messages are delivered on (may use mapping functions)")
	cmd.Flags().IntVarP(&o.Weight, "weight", "w", 0, "percentage of the messages sent to --to, 1-100 (default 100; 0 means 100)")
	return cmd
}

// RunAddMapping adds a weighted mapping, or changes the weight of an existing from/to pair,
// through ops.AddMapping.
func RunAddMapping(f *cmdutil.Factory, o *MappingOptions) error {
	return changed(f, o.Account, func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error) {
		return ops.AddMapping(s, ks, ops.AddMappingRequest{Account: account, Signer: o.Signer, From: o.From, To: o.To, Weight: o.Weight, Cluster: o.Cluster})
	})
}

// NewCmdDeleteMapping builds `delete mapping`.
func NewCmdDeleteMapping(f *cmdutil.Factory) *cobra.Command {
	o := &MappingOptions{}
	cmd := &cobra.Command{
		Use:   "mapping",
		Short: "Delete the mappings of a subject, or one of its destinations",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunDeleteMapping(f, o) },
	}
	o.addFlags(cmd, "delete only this destination (default all destinations of --from)")
	return cmd
}

// RunDeleteMapping removes a mapping's destinations through ops.DeleteMapping.
func RunDeleteMapping(f *cmdutil.Factory, o *MappingOptions) error {
	return changed(f, o.Account, func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error) {
		return ops.DeleteMapping(s, ks, ops.DeleteMappingRequest{Account: account, Signer: o.Signer, From: o.From, To: o.To, Cluster: o.Cluster})
	})
}
