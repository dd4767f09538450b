package entity

import (
	"fmt"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/flags"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
)

// pendingKey is a key generated or given during a command, stored only once the command's
// checks all passed.
type pendingKey = nkeys.KeyPair

func storeKeys(ks keystore.KeyStore, keys []pendingKey) error {
	for _, k := range keys {
		if _, err := ks.Store(k); err != nil {
			return err
		}
	}
	return nil
}

// EditOperatorOptions are the inputs of `edit operator`.
type EditOperatorOptions struct {
	Common   CommonOptions
	Operator OperatorEditOptions
	// Signer is -K: the operator identity key's seed or seed file, when the keystore lacks it.
	Signer string
	// AutoPush is signet's own setting (not in the JWT): push saved accounts by themselves.
	AutoPush, AutoPushSet bool
	// ResignAnyway re-signs an unchanged operator: an edit flag was given with a value that
	// changes nothing.
	ResignAnyway bool
}

// NewCmdEditOperator builds `edit operator`.
func NewCmdEditOperator(f *cmdutil.Factory) *cobra.Command {
	o := &EditOperatorOptions{}
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Edit the current operator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// --auto-push alone is signet's own setting, which re-signs nothing.
			o.ResignAnyway = flags.EditFlagGiven(cmd.LocalNonPersistentFlags(), "private-key", "auto-push")
			return RunEditOperator(f, o)
		},
	}
	fs := cmd.Flags()
	flags.AddHeaderFlags(fs, &o.Common)
	addOperatorFlags(fs, &o.Operator, true)
	fs.StringSliceVar(&o.Operator.RmSigningKeys, "rm-sk", nil, "remove a signing key")
	fs.StringSliceVar(&o.Operator.RmServiceURLs, "rm-service-url", nil, "remove an operator service URL")
	fs.StringVar(&o.Operator.SystemAccount, "system-account", "", "set the system account (name or public key)")
	fs.BoolVar(&o.Operator.RmAccountServer, "rm-account-jwt-server-url", false, "clear the account server URL")
	fs.BoolVar(&o.Operator.NoRequireSK, "no-require-signing-keys", false, "allow the operator identity key to sign accounts again")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator identity key that signs the operator JWT, when the keystore lacks it: seed or seed file")
	fs.BoolVar(&o.AutoPush, "auto-push", false, "push every saved account to the operator's account server by itself (signet only; --auto-push=false turns it off)")
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { o.AutoPushSet = cmd.Flags().Changed("auto-push") }
	return cmd
}

// RunEditOperator edits the current operator through ops.EditOperator, then pushes the
// accounts it re-signed.
func RunEditOperator(f *cmdutil.Factory, o *EditOperatorOptions) error {
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	req := ops.EditOperatorRequest{Header: o.Common, OperatorSettings: o.Operator, Signer: o.Signer, Now: f.Now(), ResignAnyway: o.ResignAnyway}
	if o.AutoPushSet {
		req.AutoPush = &o.AutoPush
	}
	res, err := ops.EditOperator(s, ks, req)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		f.IO.Warn("%s", w)
	}
	if res.AutoPush != nil {
		f.IO.OK("automatic push of operator %q set to: %t", res.Name, *res.AutoPush)
	}
	if res.JWT == "" {
		return nil
	}
	for _, m := range res.Changes {
		f.IO.OK("%s", m)
	}
	if r := res.Resigned; r != nil {
		for _, a := range r.Accounts {
			f.IO.OK("re-signed account %q with an operator signing key", a.Name)
		}
		for _, u := range r.Users {
			f.IO.OK("re-signed user %q of account %q with an account signing key", u.Name, u.Account)
		}
		for _, c := range res.Creds {
			f.IO.OK("generated user creds file %q", c)
		}
	}
	f.IO.OK("edited operator %q", res.Name)
	if r := res.Resigned; r != nil {
		for _, a := range r.Accounts {
			if err := f.AccountSaved(s, a.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewCmdEditAccount builds `edit account`.
func NewCmdEditAccount(f *cmdutil.Factory) *cobra.Command {
	o := &AccountOptions{}
	var cmd *cobra.Command
	cmd = nameCmd("account [NAME]", "Edit an account", func() error {
		o.ResignAnyway = flags.EditFlagGiven(cmd.LocalNonPersistentFlags(), "name", "account", "private-key")
		return RunEditAccount(f, o)
	})
	o.addFlags(cmd)
	// nsc takes the account as the argument or -n; -a/--account, as every other command
	// names an account, means the same here.
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindAccount, "name", "account:a")
	return cmd
}

// RunEditAccount edits an account through ops.EditAccount.
func RunEditAccount(f *cmdutil.Factory, o *AccountOptions) error {
	t, err := f.Target(o.Name)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, "", o.Signer)
	res, err := ops.EditAccount(t.Store, t.KeyStore, ops.EditAccountRequest{
		Account:         t.Account,
		Signer:          o.Signer,
		AccountSettings: o.AccountSettings,
		ResignAnyway:    o.ResignAnyway,
		Now:             f.Now(),
	})
	if err != nil {
		return err
	}
	warnSigner()
	return f.AccountChanged(t.Store, res.Name, res.Warnings, append(res.Changes, fmt.Sprintf("edited account %q", res.Name)))
}

// NewCmdEditUser builds `edit user`.
func NewCmdEditUser(f *cmdutil.Factory) *cobra.Command {
	o := &UserOptions{}
	var cmd *cobra.Command
	cmd = nameCmd("user [NAME]", "Edit a user and regenerate its creds", func() error {
		o.ResignAnyway = flags.EditFlagGiven(cmd.LocalNonPersistentFlags(), "name", "account", "private-key")
		return RunEditUser(f, o)
	})
	o.addFlags(cmd)
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindUser, "name")
	return cmd
}

// RunEditUser edits a user through ops.EditUser.
func RunEditUser(f *cmdutil.Factory, o *UserOptions) error {
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, t.Account, o.Signer)
	res, err := ops.EditUser(t.Store, t.KeyStore, ops.EditUserRequest{
		Account:      t.Account,
		User:         o.Name,
		Signer:       o.Signer,
		Header:       o.Common,
		Permissions:  o.Perms,
		Now:          f.Now(),
		ResignAnyway: o.ResignAnyway,
	})
	if err != nil {
		return err
	}
	warnSigner()
	if res.CredsPath != "" {
		f.IO.OK("generated user creds file %q", res.CredsPath)
	}
	for _, m := range res.Changes {
		f.IO.OK("%s", m)
	}
	f.IO.OK("edited user %q", res.Name)
	if res.CredsErr != nil {
		p := t.KeyStore.CredsPath(t.Store.Name(), res.Account, res.Name)
		return fmt.Errorf("user %q is saved, but its creds file %s still holds the previous JWT (%w): write it again with `signet generate creds -a %s -n %s -o %s`",
			res.Name, p, res.CredsErr, shellquote.Quote(res.Account), shellquote.Quote(res.Name), shellquote.Quote(p))
	}
	return nil
}
