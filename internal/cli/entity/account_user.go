package entity

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/flags"
	"github.com/signet-dev/signet/ops"
)

// AccountOptions are the inputs of `add account` and `edit account`.
type AccountOptions struct {
	Name      string
	Signer    string
	PublicKey string // add account --public-key/-k: the account's key instead of a new one
	ops.AccountSettings
	// ResignAnyway re-signs an unchanged account (edit account): an edit flag was given with a
	// value that changes nothing.
	ResignAnyway bool
}

func (o *AccountOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&o.Name, "name", "n", "", "account name")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to sign with: public key, seed, or seed file")
	fs.StringVar(&o.Description, "description", "", "description")
	fs.StringVar(&o.InfoURL, "info-url", "", "link to more information")
	fs.StringSliceVar(&o.SigningKeys, "sk", nil, "add a signing key: public key, seed file, or 'generate'")
	fs.StringSliceVar(&o.RmSigningKeys, "rm-sk", nil, "remove a signing key")
	flags.AddHeaderFlags(fs, &o.Header)
	flags.AddAccountLimitFlags(fs, &o.Limits)
	flags.AddDefaultPermFlags(fs, &o.DefaultPermissions)
	fs.StringVar(&o.Trace.Subject, "trace-context-subject", "", "subject where nats-server sends the traces of messages with a sampled W3C traceparent header (\"\" turns tracing off)")
	fs.IntVar(&o.Trace.Sampling, "trace-context-sampling", 0, "percentage of traced messages to sample, 1-100 (0 means 100)")
	cmd.PreRun = func(cmd *cobra.Command, _ []string) {
		o.Trace.SubjectSet = cmd.Flags().Changed("trace-context-subject")
		o.Trace.SamplingSet = cmd.Flags().Changed("trace-context-sampling")
	}
}

// nameCmd builds a command whose optional argument is the entity name; its callers bind the
// argument and the flags of the same meaning with cmdutil.NameArg once the flags are defined.
func nameCmd(use, short string, run func() error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE:  func(cmd *cobra.Command, args []string) error { return run() },
	}
}

// NewCmdAddAccount builds `add account`.
func NewCmdAddAccount(f *cmdutil.Factory) *cobra.Command {
	o := &AccountOptions{}
	cmd := nameCmd("account [NAME]", "Add an account signed by the operator", func() error { return RunAddAccount(f, o) })
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&o.PublicKey, "public-key", "k", "", "the account's key instead of a new one: public key, seed or seed file (not stored)")
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindNew, "name")
	return cmd
}

// RunAddAccount creates an account through ops.AddAccount.
func RunAddAccount(f *cmdutil.Factory, o *AccountOptions) error {
	if o.Name == "" {
		return fmt.Errorf("account name is required: signet add account NAME")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(s, ks, "", o.Signer)
	res, err := ops.AddAccount(s, ks, ops.AddAccountRequest{
		Name:            o.Name,
		Signer:          o.Signer,
		PublicKey:       o.PublicKey,
		AccountSettings: o.AccountSettings,
		Now:             f.Now(),
	})
	if err != nil {
		return err
	}
	warnSigner()
	reportAccount(f, res)
	for _, m := range res.Changes {
		f.IO.OK("%s", m)
	}
	if err := f.Select("", o.Name); err != nil {
		return err
	}
	return f.AccountSaved(s, o.Name)
}

// reportAccount prints the status lines of a new account.
func reportAccount(f *cmdutil.Factory, res *ops.AddAccountResult) {
	if res.KeyGenerated {
		f.IO.OK("generated and stored account key %q", res.PublicKey)
	}
	f.IO.OK("added account %q", res.Name)
}

// UserOptions are the inputs of `add user` and `edit user`.
type UserOptions struct {
	Name      string
	Account   string
	Signer    string
	PublicKey string // add user --public-key/-k: the user's key instead of a new one
	Common    CommonOptions
	Perms     authz.UserPermOptions
	// ResignAnyway re-signs an unchanged user (edit user): an edit flag was given with a value
	// that changes nothing.
	ResignAnyway bool
}

func (o *UserOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&o.Name, "name", "n", "", "user name")
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "account key to sign with: role name, public key, seed, or seed file")
	flags.AddHeaderFlags(fs, &o.Common)
	flags.AddUserPermFlags(fs, &o.Perms)
}

// NewCmdAddUser builds `add user`.
func NewCmdAddUser(f *cmdutil.Factory) *cobra.Command {
	o := &UserOptions{}
	cmd := nameCmd("user [NAME]", "Add a user signed by the account (or one of its signing keys with -K)", func() error { return RunAddUser(f, o) })
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&o.PublicKey, "public-key", "k", "", "the user's key instead of a new one: public key, seed or seed file (not stored; creds only when the keystore holds its seed)")
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindNew, "name")
	return cmd
}

// RunAddUser creates a user with its key and creds.
func RunAddUser(f *cmdutil.Factory, o *UserOptions) error {
	if o.Name == "" {
		return fmt.Errorf("user name is required: signet add user NAME")
	}
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, t.Account, o.Signer)
	res, err := ops.AddUser(t.Store, t.KeyStore, ops.AddUserRequest{
		Account:     t.Account,
		Name:        o.Name,
		Signer:      o.Signer,
		PublicKey:   o.PublicKey,
		Header:      o.Common,
		Permissions: o.Perms,
		Now:         f.Now(),
	})
	if err != nil {
		return err
	}
	warnSigner()
	reportUser(f, res)
	return nil
}

// reportUser prints the status lines of a new user.
func reportUser(f *cmdutil.Factory, res *ops.AddUserResult) {
	if res.KeyGenerated {
		f.IO.OK("generated and stored user key %q", res.PublicKey)
	}
	if res.CredsPath != "" {
		f.IO.OK("generated user creds file %q", res.CredsPath)
	} else {
		f.IO.OK("skipped generating creds file - the keystore does not hold the user's seed")
	}
	f.IO.OK("added user %q to account %q", res.Name, res.Account)
	for _, m := range res.Changes {
		f.IO.OK("%s", m)
	}
}
