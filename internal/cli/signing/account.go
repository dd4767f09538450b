package signing

import (
	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/entity"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// accountEdit is one change to an account JWT: load, mutate, re-sign with the operator key
// chosen by signer, save. Every command of this package that edits an account goes through it.
type accountEdit struct {
	account string // -a flag: name or public key, "" = current
	signer  string // -K flag: operator key
	// mutate edits the claims and returns the status lines to print once the account is saved.
	mutate func(s *store.Store, ks keystore.KeyStore, name string, ac *jwt.AccountClaims) ([]string, error)
	// beforeSave, when set, runs after the account was signed and before it is saved (to store
	// new keys first: an account naming a key the keystore lost is worse than a spare key).
	beforeSave func(ks keystore.KeyStore) error
	// done, when set, is printed as the last status line.
	done func(name string) string
}

// run performs the edit under the store lock and then runs the account-saved hook (push) with
// the lock released.
func (e accountEdit) run(f *cmdutil.Factory) error {
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	name, err := f.Account(s, e.account)
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
	oc, _, err := s.Operator()
	if err != nil {
		return err
	}
	ac, _, err := s.Account(name)
	if err != nil {
		return err
	}
	msgs, err := e.mutate(s, ks, name, ac)
	if err != nil {
		return err
	}
	token, err := entity.SignAccount(s, ks, oc, ac, nil, e.signer)
	if err != nil {
		return err
	}
	if e.beforeSave != nil {
		if err := e.beforeSave(ks); err != nil {
			return err
		}
	}
	if err := s.SaveAccount(name, token); err != nil {
		return err
	}
	for _, m := range msgs {
		f.IO.OK("%s", m)
	}
	if e.done != nil {
		f.IO.OK("%s", e.done(name))
	}
	unlock()
	return f.AccountSaved(s, name)
}
