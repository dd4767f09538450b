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

// run performs the edit through entity.AccountEdit (lock, sign, save, report, push).
func (e accountEdit) run(f *cmdutil.Factory) error {
	return entity.AccountEdit{
		Account:    e.account,
		Signer:     e.signer,
		Mutate:     e.mutate,
		BeforeSave: e.beforeSave,
		Done:       e.done,
	}.Run(f)
}
