package generate

import (
	"errors"
	"fmt"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

// NKeyOptions are the inputs of `generate nkey`.
type NKeyOptions struct {
	Operator bool
	Account  bool
	User     bool
	Curve    bool
	Store    bool
}

// NewCmdNKey builds `generate nkey`.
func NewCmdNKey(f *cmdutil.Factory) *cobra.Command {
	o := &NKeyOptions{}
	cmd := &cobra.Command{
		Use:   "nkey",
		Short: "Generate key pairs: prints each seed and public key; with --store, stores the seed and prints the public key and where the seed went",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunNKey(f, o) },
	}
	fs := cmd.Flags()
	fs.BoolVarP(&o.Operator, "operator", "o", false, "generate an operator key")
	fs.BoolVarP(&o.Account, "account", "a", false, "generate an account key")
	fs.BoolVarP(&o.User, "user", "u", false, "generate a user key")
	fs.BoolVarP(&o.Curve, "curve", "x", false, "generate a curve (xkey) key for encryption")
	fs.BoolVarP(&o.Store, "store", "S", false, "store the generated keys in the keystore")
	return cmd
}

// RunNKey generates the requested keys. Without --store the seed is printed, because that is
// what was asked for; with --store it goes to the keystore only.
func RunNKey(f *cmdutil.Factory, o *NKeyOptions) error {
	type kind struct {
		want   bool
		name   string
		create func() (nkeys.KeyPair, error)
	}
	kinds := []kind{
		{o.Operator, "operator", nkeys.CreateOperator},
		{o.Account, "account", nkeys.CreateAccount},
		{o.User, "user", nkeys.CreateUser},
		{o.Curve, "curve", nkeys.CreateCurveKeys},
	}
	chosen := false
	for _, k := range kinds {
		chosen = chosen || k.want
	}
	if !chosen {
		return errors.New("choose the kind of key: --operator, --account, --user or --curve")
	}
	for _, k := range kinds {
		if !k.want {
			continue
		}
		kp, err := k.create()
		if err != nil {
			return fmt.Errorf("generate %s key: %w", k.name, err)
		}
		seed, err := kp.Seed()
		if err != nil {
			return fmt.Errorf("generate %s key: %w", k.name, err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return fmt.Errorf("generate %s key: %w", k.name, err)
		}
		if !o.Store {
			fmt.Fprintf(f.IO.Out, "%s\n%s\n\n", seed, pub)
			continue
		}
		// Stored: the public key and where the seed went, never the seed itself (as nsc does).
		ks, err := f.KeyStore()
		if err != nil {
			return err
		}
		p, err := ks.Store(kp)
		if err != nil {
			return fmt.Errorf("store %s key: %w", k.name, err)
		}
		fmt.Fprintf(f.IO.Out, "%s\n%s key stored %s\n\n", pub, k.name, p)
	}
	return nil
}
