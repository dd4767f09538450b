// Package tool holds `signet tool` (pub, sub, req, reply, rtt: talk to NATS as a user of the
// current account, through the operator's service URLs or --nats) and `signet generate context`
// (a nats CLI context for a user).
package tool

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Commands builds pub, sub, req, reply and rtt; each call builds a new set.
func Commands(f *cmdutil.Factory) []*cobra.Command {
	return []*cobra.Command{NewCmdPub(f), NewCmdSub(f), NewCmdReq(f), NewCmdReply(f), NewCmdRTT(f)}
}

// Register attaches `tool` (and its commands, hidden, to the root too) and `context` to `generate`.
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	tool := &cobra.Command{
		Use:   "tool",
		Short: "Publish, subscribe, request, reply and measure round trips as a user of the current account",
		Args:  cobra.NoArgs,
	}
	// nsc declares --nats and the TLS flags on `tool` itself, so scripts may write them before
	// the subcommand (`tool --nats URL pub x`); declared here too, cobra finds the subcommand past
	// them, and the subcommand's own flags of the same names receive the values. --creds and
	// -s/--server, the nats CLI's names, go there too.
	group := &ConnOptions{}
	group.addEndpointFlags(tool.PersistentFlags())
	group.TLS.AddFlags(tool.PersistentFlags())
	tool.AddCommand(Commands(f)...)
	root.AddCommand(tool)
	// nsc also has them at the top level (`nsc pub`), hidden from its help: so does signet.
	for _, c := range Commands(f) {
		c.Hidden = true
		c.Example = strings.ReplaceAll(c.Example, "signet tool ", "signet ")
		root.AddCommand(c)
	}
	if g := verbs["generate"]; g != nil {
		g.AddCommand(NewCmdGenerateContext(f))
	}
}
