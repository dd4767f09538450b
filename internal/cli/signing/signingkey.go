package signing

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/flags"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
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

// RunEditSigningKey adds or edits a scoped signing key of an account and re-signs the account.
func RunEditSigningKey(f *cmdutil.Factory, o *EditSigningKeyOptions) error {
	if o.Key == "" {
		return errors.New("--sk is required: a signing key of the account (public key, seed file or role name), or 'generate'")
	}
	var newKey nkeys.KeyPair // stored once the account is signed
	var pub string
	edit := accountEdit{account: o.Account, signer: o.Signer}
	edit.mutate = func(s *store.Store, ks keystore.KeyStore, name string, ac *jwt.AccountClaims) ([]string, error) {
		var msgs []string
		changed := false // role or description; nsc reports only permission changes
		kp, p, err := resolveScopedKey(ks, ac, o.Key)
		if err != nil {
			return nil, err
		}
		pub, newKey = p, kp
		if !ac.SigningKeys.Contains(pub) {
			msgs = append(msgs, fmt.Sprintf("added signing key %q", pub))
		}
		scope := &jwt.UserScope{}
		if old, ok := ac.SigningKeys.GetScope(pub); ok && old != nil {
			us, isUser := old.(*jwt.UserScope)
			if !isUser {
				return nil, fmt.Errorf("signing key %s has a scope of type %T that signet cannot edit", pub, old)
			}
			c := *us
			scope = &c
		} else {
			scope = jwt.NewUserScope()
			scope.Key = pub
		}
		if o.Role != "" && o.Role != scope.Role {
			if k := roleKey(ac, o.Role); k != "" && k != pub {
				return nil, fmt.Errorf("--role %q: signing key %s of account %q already has that role; role names are unique within an account", o.Role, k, name)
			}
			scope.Role = o.Role
			changed = true
		}
		if o.descSet && o.Description != scope.Description {
			scope.Description = o.Description
			changed = true
		}
		pm, err := o.Perms.Apply(&scope.Template)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, pm...)
		if len(msgs) == 0 && !changed {
			return nil, fmt.Errorf("nothing to edit for signing key %s: give --role, --description or permission flags (see `signet edit signing-key --help`)", pub)
		}
		for _, w := range templateWarnings(scope.Template) {
			f.IO.Warn("%s", w)
		}
		ac.SigningKeys.AddScopedSigner(scope)
		return msgs, nil
	}
	edit.done = func(string) string { return fmt.Sprintf("edited signing key %q", pub) }
	edit.beforeSave = func(ks keystore.KeyStore) error {
		if newKey == nil {
			return nil
		}
		_, err := ks.Store(newKey)
		return err
	}
	return edit.run(f)
}

// resolveScopedKey turns --sk into an account signing key. It returns the key pair when its
// seed is new to the keystore (generated or given as a seed), so the caller can store it.
func resolveScopedKey(ks keystore.KeyStore, ac *jwt.AccountClaims, v string) (nkeys.KeyPair, string, error) {
	if v == "generate" {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			return nil, "", fmt.Errorf("generate signing key: %w", err)
		}
		pub, _ := kp.PublicKey()
		return kp, pub, nil
	}
	if pub := roleKey(ac, v); pub != "" {
		return nil, pub, nil
	}
	kp, err := ks.ResolveKey(v)
	if err != nil {
		return nil, "", fmt.Errorf("--sk: %w (or give the role name of one of the account's scoped keys)", err)
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicAccountKey(pub) {
		return nil, "", fmt.Errorf("--sk: %s is not an account key", pub)
	}
	if pub == ac.Subject {
		return nil, "", fmt.Errorf("--sk: %s is the account's identity key; a scoped key must be a signing key", pub)
	}
	if _, err := kp.Seed(); err == nil && !ks.Has(pub) {
		return kp, pub, nil
	}
	return nil, pub, nil
}

// roleKey returns the signing key holding role in the account, or "".
func roleKey(ac *jwt.AccountClaims, role string) string {
	for _, k := range ac.SigningKeys.Keys() {
		if sc, ok := ac.SigningKeys.GetScope(k); ok && sc != nil {
			if us, ok := sc.(*jwt.UserScope); ok && us.Role == role && role != "" {
				return k
			}
		}
	}
	return ""
}

// templateWarnings lints every subject of a scope's template.
func templateWarnings(t jwt.UserPermissionLimits) []string {
	var out []string
	for _, list := range []jwt.StringList{t.Pub.Allow, t.Pub.Deny, t.Sub.Allow, t.Sub.Deny} {
		for _, s := range list {
			for _, w := range authz.LintTemplate(s) {
				if !slices.Contains(out, w) {
					out = append(out, w)
				}
			}
		}
	}
	return out
}
