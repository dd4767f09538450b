package entity

import (
	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// AccountEdit is one change to an account JWT: load, mutate, re-sign with the operator key
// chosen by Signer, save, report, then run the account-saved hook (push) with the lock
// released. Commands that edit an account go through it.
type AccountEdit struct {
	Account string // -a flag: name or public key, "" = current
	Signer  string // -K flag: operator key
	// Mutate edits the claims and returns the status lines to print once the account is saved.
	Mutate func(s *store.Store, ks keystore.KeyStore, name string, ac *jwt.AccountClaims) ([]string, error)
	// Check, when set, runs after Mutate and before signing; its warnings are printed once saved.
	Check func(name string, ac *jwt.AccountClaims) ([]string, error)
	// BeforeSave, when set, runs after signing and before saving (to store new keys first: an
	// account naming a key the keystore lost is worse than a spare key).
	BeforeSave func(ks keystore.KeyStore) error
	// Done, when set, gives the last status line.
	Done func(name string) string
}

// Run performs the edit.
func (e AccountEdit) Run(f *cmdutil.Factory) error {
	t, err := f.Target(e.Account)
	if err != nil {
		return err
	}
	s, ks, name := t.Store, t.KeyStore, t.Account
	unlock, err := s.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	oc, _, err := s.Operator()
	if err != nil {
		return err
	}
	ac, _, err := s.Account(name)
	if err != nil {
		return err
	}
	msgs, err := e.Mutate(s, ks, name, ac)
	if err != nil {
		return err
	}
	var warnings []string
	if e.Check != nil {
		if warnings, err = e.Check(name, ac); err != nil {
			return err
		}
	}
	token, err := ops.SignAccount(s, ks, oc, ac, nil, e.Signer)
	if err != nil {
		return err
	}
	if e.BeforeSave != nil {
		if err := e.BeforeSave(ks); err != nil {
			return err
		}
	}
	if err := s.SaveAccount(name, token); err != nil {
		return err
	}
	for _, w := range warnings {
		f.IO.Warn("account %q: %s", name, w)
	}
	for _, m := range msgs {
		f.IO.OK("%s", m)
	}
	if e.Done != nil {
		f.IO.OK("%s", e.Done(name))
	}
	unlock()
	return f.AccountSaved(s, name)
}
