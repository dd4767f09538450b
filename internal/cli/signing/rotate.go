package signing

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/ops"
)

// RotateOptions are the inputs of `rotate signing-key`.
type RotateOptions struct {
	Account  string // -a: the account whose signing key rotates
	Operator bool   // --operator: rotate an operator signing key instead
	Old      string // --old: public key (or role name) of the key to retire
	New      string // --new: public key, seed or seed file of the replacement, or "generate"
	Signer   string // -K: operator key that re-signs the account (account rotation)
}

// newCmdRotate builds `rotate` and `rotate signing-key`.
func newCmdRotate(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace keys and re-issue what they signed",
		Args:  cobra.NoArgs,
	}
	o := &RotateOptions{}
	sk := &cobra.Command{
		Use:   "signing-key",
		Short: "Replace a signing key: add the new key, re-issue every JWT the old key signed, remove the old key",
		Long: `Replace an account signing key (or, with --operator, an operator signing key).

The new key takes the old key's scope and role. Every user (or account) signed by the old key is
re-signed with the new key and its creds file is regenerated when the user's seed is in the
keystore; then the old key is removed. If the command is interrupted, run it again: it finishes
the job. No JWT is ever left signed by a key its parent no longer lists.`,
		Example: `  signet rotate signing-key -a A --old ADUQTJD4TF4O... --new generate
  signet rotate signing-key --operator --old OAZBRNE7DQGD...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Operator {
				if cmd.Flags().Changed("account") {
					return errors.New("--operator and --account exclude each other")
				}
				return RunRotateOperatorKey(f, o)
			}
			return RunRotateAccountKey(f, o)
		},
	}
	fs := sk.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.BoolVar(&o.Operator, "operator", false, "rotate an operator signing key (re-signs accounts)")
	fs.StringVar(&o.Old, "old", "", "signing key to retire: public key (or role name of an account's scoped key)")
	fs.StringVar(&o.New, "new", "", "replacement: public key in the keystore, seed, seed file, or 'generate' (default generate)")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to re-sign the account with: public key, seed, or seed file")
	cmd.AddCommand(sk)
	return cmd
}

// RunRotateAccountKey rotates an account signing key through ops.RotateSigningKey and pushes
// the account.
func RunRotateAccountKey(f *cmdutil.Factory, o *RotateOptions) error {
	if o.Old == "" {
		return errors.New("--old is required: the signing key to retire")
	}
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, "", o.Signer)
	res, err := ops.RotateSigningKey(t.Store, t.KeyStore, ops.RotateSigningKeyRequest{Account: t.Account, Old: o.Old, New: o.New, Signer: o.Signer})
	if res != nil {
		if res.KeyAdded {
			f.IO.OK("added signing key %q to account %q", res.New, res.Account)
		}
		for _, r := range res.Reissued {
			if r.CredsPath != "" {
				f.IO.OK("re-issued user %q (creds %q)", r.Name, r.CredsPath)
			} else {
				f.IO.OK("re-issued user %q", r.Name)
			}
			if r.Warning != "" {
				f.IO.Warn("%s", r.Warning)
			}
		}
	}
	if err != nil {
		return err
	}
	warnSigner()
	for _, u := range res.KeptRevoked {
		f.IO.OK("kept user %q revoked", u)
	}
	f.IO.OK("removed signing key %q from account %q", res.Old, res.Account)
	f.IO.OK("rotated signing key %q to %q: re-issued %s", res.Old, res.New, plural.N(len(res.Reissued), "user"))
	return f.AccountSaved(t.Store, res.Account)
}

// RunRotateOperatorKey rotates an operator signing key through ops.RotateSigningKey and pushes
// the accounts it re-issued.
func RunRotateOperatorKey(f *cmdutil.Factory, o *RotateOptions) error {
	if o.Old == "" {
		return errors.New("--old is required: the operator signing key to retire")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	res, err := ops.RotateSigningKey(s, ks, ops.RotateSigningKeyRequest{Operator: true, Old: o.Old, New: o.New})
	if res != nil {
		if res.KeyAdded {
			f.IO.OK("added signing key %q to operator %q", res.New, res.Operator)
		}
		for _, a := range res.Reissued {
			f.IO.OK("re-issued account %q", a.Name)
		}
	}
	if err != nil {
		return err // the run that finishes the rotation pushes every re-issued account
	}
	f.IO.OK("removed signing key %q from operator %q", res.Old, res.Operator)
	f.IO.OK("rotated signing key %q to %q: re-issued %s", res.Old, res.New, plural.N(len(res.Reissued), "account"))
	f.IO.Info("the operator JWT changed: update it in the configuration of your nats-servers (signet generate config) and reload them")
	var errs []error
	for _, a := range res.Reissued {
		if err := f.AccountSaved(s, a.Name); err != nil {
			errs = append(errs, fmt.Errorf("push account %q: %w", a.Name, err))
		}
	}
	return errors.Join(errs...)
}
