package ops

import (
	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// AccountUpdate is one change to a stored account: load it, change the claims, re-sign them
// with the operator key Signer chooses (with an iat later than the stored JWT's), save.
type AccountUpdate struct {
	Account string // the account's name or public key
	Signer  string // operator key (-K): public key, seed or seed file; "" lets Signer choose
	// Change edits the claims of the account named name; an error leaves the store as it was.
	Change func(name string, ac *jwt.AccountClaims) error
	// BeforeSave, when set, runs once the account is signed and before it is saved: new keys
	// are stored there, as an account naming a key the keystore lost is worse than a spare key.
	BeforeSave func() error
}

// AccountResult is an account as stored.
type AccountResult struct {
	Name      string
	PublicKey string
	JWT       string
}

// UpdateAccount applies u to the store's account and returns it as saved. It takes the store's
// lock; every account change of this package goes through it.
func UpdateAccount(s *store.Store, ks keystore.KeyStore, u AccountUpdate) (*AccountResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountResult, error) { return l.UpdateAccount(u) })
}

// UpdateAccount is UpdateAccount within the caller's locked step.
func (l *Locked) UpdateAccount(u AccountUpdate) (*AccountResult, error) {
	s, ks := l.Store, l.KeyStore
	name, err := s.FindAccount(u.Account)
	if err != nil {
		return nil, err
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	ac, _, err := s.Account(name)
	if err != nil {
		return nil, err
	}
	if u.Change != nil {
		if err := u.Change(name, ac); err != nil {
			return nil, err
		}
	}
	token, err := SignAccount(s, ks, oc, ac, nil, u.Signer)
	if err != nil {
		return nil, err
	}
	if u.BeforeSave != nil {
		if err := u.BeforeSave(); err != nil {
			return nil, err
		}
	}
	if err := s.SaveAccount(name, token); err != nil {
		return nil, err
	}
	return &AccountResult{Name: name, PublicKey: ac.Subject, JWT: token}, nil
}
