// Package entity holds the commands that create, edit and delete operators, accounts and users,
// and `init`, which creates all three in one go.
package entity

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/flags"
	"github.com/signet-dev/signet/ops"
)

// AddOperatorOptions are the inputs of `add operator`.
type AddOperatorOptions struct {
	Name       string
	Sys        bool
	GenerateSK bool
	NoSelect   bool
	// Signer is -K: the operator's key (seed or seed file) instead of a new one, as in nsc.
	Signer        string
	Common        CommonOptions
	OperatorFlags OperatorEditOptions
}

// NewCmdAddOperator builds `add operator`.
func NewCmdAddOperator(f *cmdutil.Factory, runF func(*AddOperatorOptions) error) *cobra.Command {
	o := &AddOperatorOptions{}
	cmd := &cobra.Command{
		Use:   "operator [NAME]",
		Short: "Add an operator (a new key pair, or an imported operator JWT with -u)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return RunAddOperator(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Name, "name", "n", "", "operator name")
	fs.BoolVarP(&o.Sys, "sys", "s", false, "also create a system account SYS with a user sys")
	fs.BoolVar(&o.GenerateSK, "generate-signing-key", false, "also generate a signing key")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "the operator's key (seed or seed file) instead of a new one")
	flags.AddHeaderFlags(fs, &o.Common)
	addOperatorFlags(fs, &o.OperatorFlags, false)
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindNew, "name")
	return cmd
}

// RunAddOperator creates an operator store through ops.AddOperator and selects it.
func RunAddOperator(f *cmdutil.Factory, o *AddOperatorOptions) error {
	if o.Name == "" {
		return fmt.Errorf("operator name is required: signet add operator NAME")
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	stores, err := f.Stores()
	if err != nil {
		return err
	}
	res, err := ops.AddOperator(stores, ks, ops.AddOperatorRequest{
		Name:               o.Name,
		Signer:             o.Signer,
		GenerateSigningKey: o.GenerateSK,
		Header:             o.Common,
		OperatorSettings:   o.OperatorFlags,
		System:             o.Sys,
		Now:                f.Now(),
	})
	if err != nil {
		return err
	}
	if res.KeyGenerated {
		f.IO.OK("generated and stored operator key %q", res.PublicKey)
	} else {
		f.IO.OK("stored operator key %q", res.PublicKey)
	}
	for _, p := range res.SigningKeys {
		f.IO.OK("generated and stored operator signing key %q", p)
	}
	for _, m := range res.Changes {
		f.IO.OK("%s", m)
	}
	f.IO.OK("added operator %q", res.Name)
	if sys := res.System; sys != nil {
		reportAccount(f, sys.Account)
		if sys.SigningKey != "" {
			f.IO.OK("generated and stored account signing key %q", sys.SigningKey)
		}
		f.IO.OK("set system account %q", sys.Account.PublicKey)
		reportUser(f, sys.User)
	}
	return f.Select(res.Name, "")
}
