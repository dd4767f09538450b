package signing

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/flags"
	"github.com/signet-dev/signet/ops"
)

// EditSigningKeyOptions are the inputs of `edit signing-key`.
type EditSigningKeyOptions struct {
	Account     string
	Key         string // --sk: public key, seed, seed file, role name, or "generate"
	Role        string
	Description string
	Signer      string // -K: operator key that re-signs the account
	Perms       authz.UserPermOptions
	// descSet records whether --description was given (it may clear the description).
	descSet bool
}

// NewCmdEditSigningKey builds `edit signing-key`.
func NewCmdEditSigningKey(f *cmdutil.Factory) *cobra.Command {
	o := &EditSigningKeyOptions{}
	cmd := &cobra.Command{
		Use:   "signing-key [KEY|ROLE]",
		Short: "Make an account signing key scoped: a role and the permissions of every user it signs",
		Example: `  signet edit signing-key -a A --sk generate --role service --allow-sub "q.>" --deny-pub ">" --allow-pub-response
  signet edit signing-key -a sales --sk team-service --allow-sub "{{account-name()}}.{{tag(team)}}.{{name()}}.>"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.descSet = cmd.Flags().Changed("description")
			return RunEditSigningKey(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.StringVar(&o.Key, "sk", "", "signing key: public key, seed, seed file, role name, or 'generate' for a new one")
	fs.StringVar(&o.Role, "role", "", "role name of the scoped key (unique in the account; usable with -K)")
	fs.StringVar(&o.Description, "description", "", "description of the scoped key")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to re-sign the account with: role, public key, seed, or seed file")
	flags.AddUserPermFlags(fs, &o.Perms)
	cmdutil.NameArg(cmd, &o.Key, cmdutil.KindSigningKey, "sk")
	return cmd
}

// RunEditSigningKey adds or edits a scoped signing key of an account through ops.EditSigningKey.
func RunEditSigningKey(f *cmdutil.Factory, o *EditSigningKeyOptions) error {
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, "", o.Signer)
	res, err := ops.EditSigningKey(t.Store, t.KeyStore, ops.EditSigningKeyRequest{
		Account:        t.Account,
		Key:            o.Key,
		Role:           o.Role,
		Description:    o.Description,
		DescriptionSet: o.descSet,
		Permissions:    o.Perms,
		Signer:         o.Signer,
	})
	if err != nil {
		return err
	}
	warnSigner()
	return f.AccountChanged(t.Store, res.Name, res.Warnings, append(res.Changes, fmt.Sprintf("edited signing key %q", res.Key)))
}
