package entity

import (
	"errors"
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/flags"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
)

// AccountOptions are the inputs of `add account` and `edit account`.
type AccountOptions struct {
	Name        string
	Signer      string
	PublicKey   string // add account --public-key/-k: the account's key instead of a new one
	Common      CommonOptions
	Limits      authz.AccountLimitOptions
	Description string
	InfoURL     string
	SigningKeys []string
	RmSK        []string
	DefaultPerm authz.UserPermOptions
	Trace       TraceOptions
	// ResignAnyway re-signs an unchanged account: a flag was given with its "no change" value.
	ResignAnyway bool
}

// TraceOptions are the account's message trace context settings (jwt.AccountClaims.Trace):
// where nats-server sends the traces of messages that carry a sampled W3C traceparent header,
// and the percentage it samples.
type TraceOptions struct {
	Subject     string
	SubjectSet  bool // --trace-context-subject was given ("" turns tracing off)
	Sampling    int
	SamplingSet bool
}

// Apply sets the trace context on ac and returns the status lines.
func (o *TraceOptions) Apply(ac *jwt.AccountClaims) ([]string, error) {
	var msgs []string
	if o.SubjectSet && o.Subject != "" {
		if err := authz.ValidateSubject(o.Subject, false); err != nil {
			return nil, fmt.Errorf("--trace-context-subject %q: %w (traces are published there, so no wildcards)", o.Subject, err)
		}
	}
	if o.SamplingSet {
		if o.Sampling < 0 || o.Sampling > 100 {
			return nil, fmt.Errorf("--trace-context-sampling %d: use a percentage from 1 to 100 (0 means 100)", o.Sampling)
		}
		if o.SubjectSet && o.Subject == "" {
			return nil, errors.New("--trace-context-sampling cannot be set while --trace-context-subject \"\" turns tracing off")
		}
		if !o.SubjectSet && (ac.Trace == nil || ac.Trace.Destination == "") {
			return nil, fmt.Errorf("--trace-context-sampling needs a subject for the traces: account %q has none, add --trace-context-subject SUBJECT", ac.Name)
		}
	}
	if o.SubjectSet {
		if o.Subject == "" {
			ac.Trace = nil
			msgs = append(msgs, "disabled trace context")
		} else {
			if ac.Trace == nil {
				ac.Trace = &jwt.MsgTrace{}
			}
			ac.Trace.Destination = jwt.Subject(o.Subject)
			msgs = append(msgs, fmt.Sprintf("changed trace context subject to %q", o.Subject))
		}
	}
	if o.SamplingSet {
		ac.Trace.Sampling = o.Sampling
		if o.Sampling == 0 {
			ac.Trace.Sampling = 100
		}
		msgs = append(msgs, fmt.Sprintf("changed trace context sampling to %d%%", ac.Trace.Sampling))
	}
	return msgs, nil
}

func (o *AccountOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&o.Name, "name", "n", "", "account name")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to sign with: public key, seed, or seed file")
	fs.StringVar(&o.Description, "description", "", "description")
	fs.StringVar(&o.InfoURL, "info-url", "", "link to more information")
	fs.StringSliceVar(&o.SigningKeys, "sk", nil, "add a signing key: public key, seed file, or 'generate'")
	fs.StringSliceVar(&o.RmSK, "rm-sk", nil, "remove a signing key")
	flags.AddHeaderFlags(fs, &o.Common)
	flags.AddAccountLimitFlags(fs, &o.Limits)
	flags.AddDefaultPermFlags(fs, &o.DefaultPerm)
	fs.StringVar(&o.Trace.Subject, "trace-context-subject", "", "subject where nats-server sends the traces of messages with a sampled W3C traceparent header (\"\" turns tracing off)")
	fs.IntVar(&o.Trace.Sampling, "trace-context-sampling", 0, "percentage of traced messages to sample, 1-100 (0 means 100)")
	cmd.PreRun = func(cmd *cobra.Command, _ []string) {
		o.Trace.SubjectSet = cmd.Flags().Changed("trace-context-subject")
		o.Trace.SamplingSet = cmd.Flags().Changed("trace-context-sampling")
	}
}

// givenKey resolves --public-key: nil when it is not given.
func givenKey(ks keystore.KeyStore, v string) (nkeys.KeyPair, error) {
	if v == "" {
		return nil, nil
	}
	kp, err := ks.ResolveKey(v)
	if err != nil {
		return nil, fmt.Errorf("--public-key: %w", err)
	}
	return kp, nil
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

// RunAddAccount creates an account.
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
	unlock, err := s.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	var msgs []string
	var keys []pendingKey
	given, err := givenKey(ks, o.PublicKey)
	if err != nil {
		return err
	}
	_, err = createAccount(f, s, ks, o.Name, o.Signer, given, func(ac *jwt.AccountClaims) error {
		m, k, err := o.apply(f, ac)
		msgs, keys = m, k
		return err
	})
	if err != nil {
		return err
	}
	if err := storeKeys(ks, keys); err != nil {
		return err
	}
	for _, m := range msgs {
		f.IO.OK("%s", m)
	}
	if err := f.Select("", o.Name); err != nil {
		return err
	}
	unlock()
	return f.AccountSaved(s, o.Name)
}

func (o *AccountOptions) apply(f *cmdutil.Factory, ac *jwt.AccountClaims) ([]string, []pendingKey, error) {
	if err := o.Common.ApplyGeneric(&ac.GenericFields, &ac.ClaimsData, f.Now()); err != nil {
		return nil, nil, err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return nil, nil, err
	}
	msgs, keys, err := applyAccountSigningKeys(ks, ac, o.SigningKeys, o.RmSK)
	if err != nil {
		return nil, nil, err
	}
	lm, err := o.Limits.Apply(ac)
	if err != nil {
		return nil, nil, err
	}
	msgs = append(msgs, lm...)
	if o.DefaultPerm.HasPermissionChanges() {
		pm, err := o.DefaultPerm.ApplyPermissions(&ac.DefaultPermissions)
		if err != nil {
			return nil, nil, err
		}
		msgs = append(msgs, pm...)
	}
	tm, err := o.Trace.Apply(ac)
	if err != nil {
		return nil, nil, err
	}
	msgs = append(msgs, tm...)
	if o.Description != "" {
		ac.Description = o.Description
		msgs = append(msgs, fmt.Sprintf("set description to %q", o.Description))
	}
	if o.InfoURL != "" {
		ac.InfoURL = o.InfoURL
		msgs = append(msgs, fmt.Sprintf("set info url to %q", o.InfoURL))
	}
	return msgs, keys, nil
}

// UserOptions are the inputs of `add user` and `edit user`.
type UserOptions struct {
	Name      string
	Account   string
	Signer    string
	PublicKey string // add user --public-key/-k: the user's key instead of a new one
	Common    CommonOptions
	Perms     authz.UserPermOptions
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
