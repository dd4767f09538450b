// Package tool holds `signet tool` (pub, sub, req, reply, rtt: talk to NATS as a user of the
// current account, through the operator's service URLs or --nats) and `signet generate context`
// (a nats CLI context for a user).
package tool

import (
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// Register attaches `tool` to the root command and `context` to `generate`.
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	tool := &cobra.Command{
		Use:   "tool",
		Short: "Publish, subscribe, request, reply and measure round trips as a user of the current account",
		Args:  cobra.NoArgs,
	}
	tool.AddCommand(NewCmdPub(f), NewCmdSub(f), NewCmdReq(f), NewCmdReply(f), NewCmdRTT(f))
	root.AddCommand(tool)
	if g := verbs["generate"]; g != nil {
		g.AddCommand(NewCmdGenerateContext(f))
	}
}
