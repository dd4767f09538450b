package exports

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/internal/shellquote"
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
	cmd.Flags().IntVarP(&o.Weight, "weight", "w", 100, "percentage of the messages sent to --to (1-100; 0, nsc's default, means 100)")
	return cmd
}

// RunAddMapping adds a weighted mapping, or changes the weight of an existing from/to pair.
func RunAddMapping(f *cmdutil.Factory, o *MappingOptions) error {
	if err := ops.CheckSubject("--from", o.From); err != nil {
		return err
	}
	if err := ops.CheckSubject("--to", o.To); err != nil {
		return err
	}
	if err := server.ValidateMapping(o.From, o.To); err != nil {
		return fmt.Errorf("mapping %q to %q: %w", o.From, o.To, err)
	}
	if o.Weight == 0 {
		o.Weight = 100 // nsc's default value, which jwt/v2 reads as 100
	}
	if o.Weight < 1 || o.Weight > 100 {
		return fmt.Errorf("--weight %d: must be a percentage from 1 to 100", o.Weight)
	}
	return editAccount(f, o.Target, func(_ *store.Store, name string, ac *jwt.AccountClaims) ([]string, error) {
		if ac.Mappings == nil {
			ac.Mappings = jwt.Mapping{}
		}
		from := jwt.Subject(o.From)
		list := slices.Clone(ac.Mappings[from])
		verb := "added"
		i := slices.IndexFunc(list, func(m jwt.WeightedMapping) bool {
			return string(m.Subject) == o.To && m.Cluster == o.Cluster
		})
		if i >= 0 {
			list[i].Weight = uint8(o.Weight)
			verb = "updated"
		} else {
			list = append(list, jwt.WeightedMapping{Subject: jwt.Subject(o.To), Weight: uint8(o.Weight), Cluster: o.Cluster})
		}
		total := 0
		for _, m := range list {
			if m.Cluster == o.Cluster {
				total += int(m.GetWeight())
			}
		}
		if total > 100 {
			where := ""
			if o.Cluster != "" {
				where = fmt.Sprintf(" in cluster %q", o.Cluster)
			}
			return nil, fmt.Errorf("the mappings of %q%s would total %d%%, over 100%% (now: %s): lower --weight, or remove one with `signet delete mapping -a %s -f %s -t <to>`",
				o.From, where, total, describeMappings(ac.Mappings[from]), shellquote.Quote(name), shellquote.Quote(o.From))
		}
		ac.Mappings[from] = list
		return []string{fmt.Sprintf("%s mapping %q -> %q (%d%%%s) in account %q", verb, o.From, o.To, o.Weight, clusterNote(o.Cluster), name)}, nil
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

// RunDeleteMapping removes a mapping's destinations.
func RunDeleteMapping(f *cmdutil.Factory, o *MappingOptions) error {
	if err := ops.CheckSubject("--from", o.From); err != nil {
		return err
	}
	return editAccount(f, o.Target, func(_ *store.Store, name string, ac *jwt.AccountClaims) ([]string, error) {
		from := jwt.Subject(o.From)
		list, ok := ac.Mappings[from]
		if !ok {
			var have []string
			for k := range ac.Mappings {
				have = append(have, fmt.Sprintf("%q", k))
			}
			if len(have) == 0 {
				return nil, fmt.Errorf("account %q has no mappings", name)
			}
			sort.Strings(have)
			return nil, fmt.Errorf("account %q has no mapping from %q (it maps %s)", name, o.From, strings.Join(have, ", "))
		}
		if o.To == "" && o.Cluster == "" {
			delete(ac.Mappings, from)
			return []string{fmt.Sprintf("deleted all mappings of %q in account %q", o.From, name)}, nil
		}
		kept := slices.DeleteFunc(slices.Clone(list), func(m jwt.WeightedMapping) bool {
			return (o.To == "" || string(m.Subject) == o.To) && (o.Cluster == "" || m.Cluster == o.Cluster)
		})
		if len(kept) == len(list) {
			return nil, fmt.Errorf("account %q maps %q to %s, not to %q%s", name, o.From, describeMappings(list), o.To, clusterNote(o.Cluster))
		}
		if len(kept) == 0 {
			delete(ac.Mappings, from)
		} else {
			ac.Mappings[from] = kept
		}
		return []string{fmt.Sprintf("deleted %s of %q in account %q", plural.N(len(list)-len(kept), "mapping"), o.From, name)}, nil
	})
}

func clusterNote(cluster string) string {
	if cluster == "" {
		return ""
	}
	return fmt.Sprintf(", cluster %q", cluster)
}

func describeMappings(list []jwt.WeightedMapping) string {
	var parts []string
	for _, m := range list {
		parts = append(parts, fmt.Sprintf("%q %d%%%s", m.Subject, m.GetWeight(), clusterNote(m.Cluster)))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
