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

// Run performs the edit through ops.UpdateAccount.
func (e AccountEdit) Run(f *cmdutil.Factory) error {
	t, err := f.Target(e.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, "", e.Signer)
	l, err := ops.Lock(t.Store, t.KeyStore)
	if err != nil {
		return err
	}
	defer l.Unlock()
	var msgs, warnings []string
	u := ops.AccountUpdate{
		Account: t.Account,
		Signer:  e.Signer,
		Change: func(name string, ac *jwt.AccountClaims) error {
			var err error
			if msgs, err = e.Mutate(l.Store, l.KeyStore, name, ac); err != nil {
				return err
			}
			if e.Check != nil {
				warnings, err = e.Check(name, ac)
			}
			return err
		},
	}
	if e.BeforeSave != nil {
		u.BeforeSave = func() error { return e.BeforeSave(l.KeyStore) }
	}
	res, err := l.UpdateAccount(u)
	if err != nil {
		return err
	}
	warnSigner()
	for _, w := range warnings {
		f.IO.Warn("account %q: %s", res.Name, w)
	}
	for _, m := range msgs {
		f.IO.OK("%s", m)
	}
	if e.Done != nil {
		f.IO.OK("%s", e.Done(res.Name))
	}
	l.Unlock()
	return f.AccountSaved(t.Store, res.Name)
}
