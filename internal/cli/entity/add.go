// Package entity holds the commands that create, edit and delete operators, accounts and users,
// and `init`, which creates all three in one go.
package entity

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/flags"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
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
	o.OperatorFlags.AddFlags(fs, false)
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindNew, "name")
	return cmd
}

// RunAddOperator creates an operator store with a new operator key.
func RunAddOperator(f *cmdutil.Factory, o *AddOperatorOptions) error {
	if o.Name == "" {
		return fmt.Errorf("operator name is required: signet add operator NAME")
	}
	if err := store.ValidateName(o.Name); err != nil {
		return fmt.Errorf("operator name: %w", err)
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	stores, err := f.Stores()
	if err != nil {
		return err
	}
	if _, err := stores.Open(o.Name); err == nil {
		return fmt.Errorf("operator %q already exists: choose another name or `signet edit operator`", o.Name)
	}
	kp, err := operatorKey(ks, o.Signer)
	if err != nil {
		return err
	}
	pub, _ := kp.PublicKey()
	oc := jwt.NewOperatorClaims(pub)
	oc.Name = o.Name
	if err := o.Common.ApplyGeneric(&oc.GenericFields, &oc.ClaimsData, f.Now()); err != nil {
		return err
	}
	var newKeys []nkeys.KeyPair
	if o.GenerateSK {
		sk, err := nkeys.CreateOperator()
		if err != nil {
			return fmt.Errorf("create signing key: %w", err)
		}
		skPub, _ := sk.PublicKey()
		oc.SigningKeys.Add(skPub)
		newKeys = append(newKeys, sk)
	}
	opMsgs, opKeys, err := o.OperatorFlags.Apply(ks, oc)
	if err != nil {
		return err
	}
	newKeys = append(newKeys, opKeys...)
	seed, _ := kp.Seed() // the new (or -K) key is not in the keystore yet
	token, err := ops.SignOperator(ks, oc, string(seed))
	if err != nil {
		return err
	}
	// Keys first: a store whose keys are missing is worse than a key without a store.
	if _, err := ks.Store(kp); err != nil {
		return err
	}
	for _, k := range newKeys {
		if _, err := ks.Store(k); err != nil {
			return err
		}
	}
	s, err := stores.Create(o.Name, token, false)
	if err != nil {
		return err
	}
	if o.Signer == "" {
		f.IO.OK("generated and stored operator key %q", pub)
	} else {
		f.IO.OK("stored operator key %q", pub)
	}
	for _, k := range newKeys {
		p, _ := k.PublicKey()
		f.IO.OK("generated and stored operator signing key %q", p)
	}
	for _, m := range opMsgs {
		f.IO.OK("%s", m)
	}
	f.IO.OK("added operator %q", o.Name)
	if err := f.Select(o.Name, ""); err != nil {
		return err
	}
	if o.Sys {
		if err := CreateSystemAccount(f, s, ks); err != nil {
			return err
		}
	}
	return nil
}

// operatorKey is the key of a new operator: spec's (-K) when given, else a new one.
func operatorKey(ks keystore.KeyStore, spec string) (nkeys.KeyPair, error) {
	if spec == "" {
		kp, err := nkeys.CreateOperator()
		if err != nil {
			return nil, fmt.Errorf("create operator key: %w", err)
		}
		return kp, nil
	}
	kp, err := ks.ResolveKey(spec)
	if err != nil {
		return nil, fmt.Errorf("-K: %w", err)
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicOperatorKey(pub) {
		return nil, fmt.Errorf("-K: %s is not an operator key", pub)
	}
	if _, err := kp.Seed(); err != nil {
		return nil, fmt.Errorf("-K: %w: give the operator's seed or seed file, not its public key", keystore.ErrMissingKey)
	}
	return kp, nil
}

// CreateSystemAccount adds account SYS with user sys and makes it the operator's system account.
func CreateSystemAccount(f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore) error {
	l, err := ops.Lock(s, ks)
	if err != nil {
		return err
	}
	defer l.Unlock()
	oc, _, err := s.Operator()
	if err != nil {
		return err
	}
	// An operator with signing keys may come to require them; nats-server then accepts only
	// users signed by an account signing key, so SYS gets one for its user sys (as nsc does).
	req := ops.AddAccountRequest{Name: "SYS"}
	var sysSK string
	if len(oc.SigningKeys) > 0 {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			return fmt.Errorf("create system account signing key: %w", err)
		}
		seed, _ := kp.Seed()
		sysSK, _ = kp.PublicKey()
		req.SigningKeys = []string{string(seed)} // stored with the account
	}
	acc, err := l.AddAccount(req)
	if err != nil {
		return err
	}
	reportAccount(f, acc)
	if sysSK != "" {
		f.IO.OK("generated and stored account signing key %q", sysSK)
	}
	oc.SystemAccount = acc.PublicKey
	if err := SaveOperatorClaims(s, ks, oc); err != nil {
		return err
	}
	f.IO.OK("set system account %q", acc.PublicKey)
	res, err := l.AddUser(ops.AddUserRequest{Account: "SYS", Name: "sys"})
	if err != nil {
		return err
	}
	reportUser(f, res)
	return nil
}

// SaveOperatorClaims re-signs the operator with its own key and stores it.
func SaveOperatorClaims(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims) error {
	token, err := ops.SignOperator(ks, oc, "")
	if err != nil {
		return err
	}
	return s.SaveOperator(token)
}
