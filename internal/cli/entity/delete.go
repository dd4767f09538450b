package entity

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/ops"
)

// DeleteUserOptions are the inputs of `delete user`.
type DeleteUserOptions struct {
	Names   []string
	Account string
	Revoke  bool
	RmCreds bool
	RmNKey  bool
	Signer  string
}

// NewCmdDeleteUser builds `delete user`.
func NewCmdDeleteUser(f *cmdutil.Factory) *cobra.Command {
	o := &DeleteUserOptions{}
	cmd := &cobra.Command{
		Use:   "user NAME...",
		Short: "Delete users (revoking them by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = append(o.Names, args...)
			return RunDeleteUser(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVarP(&o.Names, "name", "n", nil, "user name or public key")
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.BoolVarP(&o.Revoke, "revoke", "R", true, "revoke the user before deleting it (re-signs the account)")
	fs.BoolVarP(&o.RmCreds, "rm-creds", "C", false, "also delete the creds file")
	fs.BoolVarP(&o.RmNKey, "rm-nkey", "D", false, "also delete the user's key from the keystore")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to re-sign the account with when revoking")
	cmdutil.Subjects(cmd, cmdutil.KindUser, "name")
	return cmd
}

// RunDeleteUser deletes users through ops.DeleteUser and pushes the account they were revoked in.
func RunDeleteUser(f *cmdutil.Factory, o *DeleteUserOptions) error {
	if len(o.Names) == 0 {
		return errors.New("user name is required: signet delete user NAME")
	}
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, "", o.Signer)
	res, err := ops.DeleteUser(t.Store, t.KeyStore, ops.DeleteUserRequest{
		Account: t.Account,
		Users:   o.Names,
		Revoke:  o.Revoke,
		At:      f.Now(),
		Signer:  o.Signer,
		RmCreds: o.RmCreds,
		RmKey:   o.RmNKey,
	})
	if err != nil {
		return err
	}
	warnSigner()
	if res.Revoked != nil {
		for _, r := range res.Revoked.Revocations {
			f.IO.OK("revoked user %q", r.PublicKey)
		}
	}
	for _, u := range res.Deleted {
		f.IO.OK("deleted user %q", u.Name)
	}
	if res.Revoked != nil {
		return f.AccountSaved(t.Store, res.Account)
	}
	return nil
}

// DeleteAccountOptions are the inputs of `delete account`.
type DeleteAccountOptions struct {
	Name    string
	RmNKey  bool // -D: the account's and its users' keys (and, in signet, their creds too)
	RmCreds bool // -C: the users' creds files
	Force   bool // -F: a managed operator's account
	// Revoke is nsc's -R (default true): nsc revokes the users in the expired account JWT it
	// pushes to a managed operator's server. signet pushes nothing on delete, so it is accepted
	// and changes nothing (a warning says so when it is given).
	Revoke    bool
	RevokeSet bool
}

// NewCmdDeleteAccount builds `delete account`.
func NewCmdDeleteAccount(f *cmdutil.Factory) *cobra.Command {
	o := &DeleteAccountOptions{}
	cmd := &cobra.Command{
		Use:   "account NAME",
		Short: "Delete an account and its users from the store",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.RevokeSet = cmd.Flags().Changed("revoke")
			return RunDeleteAccount(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Name, "name", "n", "", "account name or public key (or the argument)")
	fs.BoolVarP(&o.RmNKey, "rm-nkey", "D", false, "also delete the account's and its users' keys and creds")
	fs.BoolVarP(&o.RmCreds, "rm-creds", "C", false, "also delete the users' creds files")
	fs.BoolVarP(&o.Force, "force", "F", false, "delete an account of a managed operator (its account server keeps it)")
	fs.BoolVarP(&o.Revoke, "revoke", "R", true, "nsc's: revoke the users in the expired JWT it pushes; signet pushes nothing on delete, so this changes nothing")
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindAccount, "name", "account:a")
	return cmd
}

// RunDeleteAccount deletes an account through ops.DeleteAccount.
func RunDeleteAccount(f *cmdutil.Factory, o *DeleteAccountOptions) error {
	if o.Name == "" {
		return errors.New("account name is required: signet delete account NAME")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	res, err := ops.DeleteAccount(s, ks, ops.DeleteAccountRequest{Account: o.Name, Force: o.Force, RmKeys: o.RmNKey, RmCreds: o.RmCreds})
	if err != nil {
		return err
	}
	f.IO.OK("deleted account %q", res.Name)
	if o.RevokeSet {
		f.IO.Warn("nsc's --revoke changes nothing in signet: delete account pushes no JWT in which to revoke the users")
	}
	if res.Managed {
		f.IO.Warn("account %q stays on the account server of managed operator %q: signet does not push an expired JWT on delete (nsc does)", res.Name, s.Name())
	}
	return nil
}

// NewCmdDeleteOperator builds `delete operator`.
func NewCmdDeleteOperator(f *cmdutil.Factory) *cobra.Command {
	var force bool
	var name string
	cmd := &cobra.Command{
		Use:   "operator NAME",
		Short: "Delete an operator store (keys stay in the keystore)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return errors.New("operator name is required: signet delete operator NAME")
			}
			s, err := f.Operator(name)
			if err != nil {
				return err
			}
			accounts, err := s.Accounts()
			if err != nil {
				return err
			}
			if len(accounts) > 0 && !force {
				return fmt.Errorf("operator %q still has %s: pass --force to delete it with them", s.Name(), plural.N(len(accounts), "account"))
			}
			if err := os.RemoveAll(s.Dir); err != nil {
				return fmt.Errorf("delete operator %q: %w", s.Name(), err)
			}
			f.IO.OK("deleted operator %q", s.Name())
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete even if the operator has accounts")
	cmdutil.NameArg(cmd, &name, cmdutil.KindOperator, "name:n")
	return cmd
}
