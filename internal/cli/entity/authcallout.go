package entity

import (
	"errors"
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// AuthCalloutOptions are the inputs of `edit authcallout`: the account's external
// authorization (jwt.ExternalAuthorization). Users of the account that are not auth users are
// authorized by a service that answers $SYS.REQ.USER.AUTH as one of the auth users.
type AuthCalloutOptions struct {
	Account           string
	Signer            string
	Disable           bool
	AuthUsers         []string
	RmAuthUsers       []string
	AllowedAccounts   []string
	RmAllowedAccounts []string
	Curve             string
	RmCurve           bool
}

// NewCmdEditAuthCallout builds `edit authcallout`.
func NewCmdEditAuthCallout(f *cmdutil.Factory) *cobra.Command {
	o := &AuthCalloutOptions{}
	cmd := &cobra.Command{
		Use:   "authcallout [ACCOUNT]",
		Short: "Edit an account's authorization callout: the service users that authorize its other users",
		Long: `Edit an account's authorization callout. Once the account has auth users, nats-server
sends every other connection of the account to $SYS.REQ.USER.AUTH, where a service connected as
one of the auth users answers with a user JWT for one of the allowed accounts.

--auth-user and --rm-auth-user take a user public key, a user of the account by name, or a seed
or seed file. --allowed-account takes an account public key or name, or '*' for any account the
service can issue users for. --curve sets the key the server encrypts requests to (a curve
public key, seed or seed file, or 'generate' to make one and keep its seed in the keystore).`,
		Example: `  signet edit authcallout AUTH --auth-user auth --allowed-account APP --curve generate
  signet edit authcallout AUTH --rm-allowed-account APP
  signet edit authcallout AUTH --disable`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunEditAuthCallout(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key (default the current account)")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key to sign with: public key, seed, or seed file")
	fs.BoolVar(&o.Disable, "disable", false, "remove the authorization callout (exclusive of the other flags)")
	fs.StringSliceVar(&o.AuthUsers, "auth-user", nil, "add an auth user: it bypasses the callout and runs the authorization service")
	fs.StringSliceVar(&o.RmAuthUsers, "rm-auth-user", nil, "remove an auth user")
	fs.StringSliceVar(&o.AllowedAccounts, "allowed-account", nil, "add an account the service may place users in ('*' for any)")
	fs.StringSliceVar(&o.RmAllowedAccounts, "rm-allowed-account", nil, "remove an allowed account (or '*')")
	fs.StringVarP(&o.Curve, "curve", "x", "", "curve (xkey) key the server encrypts requests to: public key, seed, seed file, or 'generate'")
	fs.BoolVar(&o.RmCurve, "rm-curve", false, "stop encrypting requests (remove the curve key)")
	cmdutil.NameArg(cmd, &o.Account, cmdutil.KindAccount, "account", "name:n")
	return cmd
}

func (o *AuthCalloutOptions) anyChange() bool {
	return len(o.AuthUsers) > 0 || len(o.RmAuthUsers) > 0 || len(o.AllowedAccounts) > 0 ||
		len(o.RmAllowedAccounts) > 0 || o.Curve != "" || o.RmCurve
}

// RunEditAuthCallout edits the account's external authorization and re-signs it.
func RunEditAuthCallout(f *cmdutil.Factory, o *AuthCalloutOptions) error {
	switch {
	case o.Disable && o.anyChange():
		return errors.New("--disable removes the whole callout configuration: drop the other flags")
	case !o.Disable && !o.anyChange():
		return errors.New("nothing to edit: give --auth-user, --allowed-account, --curve (or their --rm- forms), or --disable")
	case o.Curve != "" && o.RmCurve:
		return errors.New("--curve and --rm-curve are exclusive: choose one")
	}
	var keys []pendingKey
	return AccountEdit{
		Account: o.Account,
		Signer:  o.Signer,
		Mutate: func(s *store.Store, ks keystore.KeyStore, name string, ac *jwt.AccountClaims) ([]string, error) {
			msgs, k, err := o.apply(s, ks, name, ac)
			keys = k
			return msgs, err
		},
		BeforeSave: func(ks keystore.KeyStore) error { return storeKeys(ks, keys) },
		Done:       func(name string) string { return fmt.Sprintf("edited the authorization callout of account %q", name) },
	}.Run(f)
}

func (o *AuthCalloutOptions) apply(s *store.Store, ks keystore.KeyStore, name string, ac *jwt.AccountClaims) ([]string, []pendingKey, error) {
	auth := &ac.Authorization
	if o.Disable {
		if !auth.IsEnabled() && len(auth.AllowedAccounts) == 0 && auth.XKey == "" {
			return []string{fmt.Sprintf("account %q had no authorization callout", name)}, nil, nil
		}
		*auth = jwt.ExternalAuthorization{}
		return []string{"removed the authorization callout"}, nil, nil
	}
	resolveUsers := func(flag string, vals []string) ([]string, error) {
		var out []string
		for _, v := range vals {
			pub, err := authUserKey(s, ks, name, v)
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", flag, err)
			}
			out = append(out, pub)
		}
		return out, nil
	}
	resolveAccounts := func(flag string, vals []string) ([]string, error) {
		var out []string
		for _, v := range vals {
			pub, err := allowedAccountKey(s, ks, v)
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", flag, err)
			}
			out = append(out, pub)
		}
		return out, nil
	}
	addUsers, err := resolveUsers("auth-user", o.AuthUsers)
	if err != nil {
		return nil, nil, err
	}
	rmUsers, err := resolveUsers("rm-auth-user", o.RmAuthUsers)
	if err != nil {
		return nil, nil, err
	}
	addAccounts, err := resolveAccounts("allowed-account", o.AllowedAccounts)
	if err != nil {
		return nil, nil, err
	}
	rmAccounts, err := resolveAccounts("rm-allowed-account", o.RmAllowedAccounts)
	if err != nil {
		return nil, nil, err
	}
	var msgs []string
	var keys []pendingKey
	msgs = append(msgs, editList(&auth.AuthUsers, addUsers, rmUsers, "auth user")...)
	msgs = append(msgs, editList(&auth.AllowedAccounts, addAccounts, rmAccounts, "allowed account")...)
	if o.RmCurve {
		if auth.XKey == "" {
			msgs = append(msgs, "no curve key to remove")
		} else {
			msgs = append(msgs, fmt.Sprintf("removed curve key %q", auth.XKey))
			auth.XKey = ""
		}
	}
	if o.Curve != "" {
		kp, err := curveKey(ks, o.Curve)
		if err != nil {
			return nil, nil, err
		}
		pub, _ := kp.PublicKey()
		if _, err := kp.Seed(); err == nil && !ks.Has(pub) {
			keys = append(keys, kp)
		}
		auth.XKey = pub
		msgs = append(msgs, fmt.Sprintf("set curve key %q", pub))
	}
	if len(auth.AllowedAccounts) > 0 && len(auth.AuthUsers) == 0 {
		return nil, nil, fmt.Errorf("account %q would have allowed accounts but no auth user to run the service: add one with --auth-user, or remove them with --disable", name)
	}
	if auth.XKey != "" && len(auth.AuthUsers) == 0 {
		return nil, nil, fmt.Errorf("account %q would have a curve key but no auth user: add one with --auth-user", name)
	}
	var vr jwt.ValidationResults
	auth.Validate(&vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return nil, nil, fmt.Errorf("authorization callout of account %q: %w", name, errs[0])
	}
	return msgs, keys, nil
}

// authUserKey resolves an auth user: a user public key, a user of the account by name, or a
// seed or seed file of a user key.
func authUserKey(s *store.Store, ks keystore.KeyStore, account, v string) (string, error) {
	if nkeys.IsValidPublicUserKey(v) {
		return v, nil
	}
	if store.ValidateName(v) == nil && s.HasUser(account, v) {
		uc, _, err := s.User(account, v)
		if err != nil {
			return "", err
		}
		return uc.Subject, nil
	}
	kp, err := ks.ResolveKey(v)
	if err != nil {
		return "", fmt.Errorf("%w (nor a user of account %q)", err, account)
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("%s is not a user key", pub)
	}
	return pub, nil
}

// allowedAccountKey resolves an allowed account: '*', an account public key, an account of the
// operator by name, or a file holding an account key.
func allowedAccountKey(s *store.Store, ks keystore.KeyStore, v string) (string, error) {
	if v == jwt.AnyAccount || nkeys.IsValidPublicAccountKey(v) {
		return v, nil
	}
	if store.ValidateName(v) == nil && s.HasAccount(v) {
		ac, _, err := s.Account(v)
		if err != nil {
			return "", err
		}
		return ac.Subject, nil
	}
	kp, err := ks.ResolveKey(v)
	if err != nil {
		return "", fmt.Errorf("%w (nor an account of operator %q, nor '*')", err, s.Name())
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicAccountKey(pub) {
		return "", fmt.Errorf("%s is not an account key", pub)
	}
	return pub, nil
}

// curveKey resolves --curve: "generate" makes a new curve key pair.
func curveKey(ks keystore.KeyStore, v string) (nkeys.KeyPair, error) {
	if v == "generate" {
		kp, err := nkeys.CreateCurveKeys()
		if err != nil {
			return nil, fmt.Errorf("--curve generate: %w", err)
		}
		return kp, nil
	}
	kp, err := ks.ResolveKey(v)
	if err != nil {
		return nil, fmt.Errorf("--curve: %w", err)
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicCurveKey(pub) {
		return nil, fmt.Errorf("--curve: %s is not a curve (X) key", pub)
	}
	return kp, nil
}

// editList adds and removes entries of one of the callout's lists (what names its kind, with
// "an" before it) and says what changed.
func editList(list *jwt.StringList, add, rm []string, what string) []string {
	var msgs []string
	for _, p := range add {
		if list.Contains(p) {
			msgs = append(msgs, fmt.Sprintf("%s %q was already set", what, p))
			continue
		}
		list.Add(p)
		msgs = append(msgs, fmt.Sprintf("added %s %q", what, p))
	}
	for _, p := range rm {
		if !list.Contains(p) {
			msgs = append(msgs, fmt.Sprintf("%q was not an %s", p, what))
			continue
		}
		list.Remove(p)
		msgs = append(msgs, fmt.Sprintf("removed %s %q", what, p))
	}
	return msgs
}
