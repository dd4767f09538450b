package ops

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

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

// AddAccountRequest describes a new account.
type AddAccountRequest struct {
	Name   string
	Signer string // operator key (-K): public key, seed or seed file; "" lets Signer choose
	// PublicKey, when set, is the account's key (public key, seed or seed file) instead of a new
	// one; it is not stored.
	PublicKey string
	AccountSettings
	Now time.Time // the clock for Header's relative times; zero is now
}

// AddAccountResult is the account as stored.
type AddAccountResult struct {
	AccountResult
	KeyGenerated bool     // a new account key was generated and stored
	Changes      []string // what the settings set, as status lines
}

// AddAccount creates an account: a new key (or the given one), its settings, a JWT signed by
// the operator key Signer chooses (self-signed for a managed operator, whose account server
// signs it), the keys and the JWT stored. It takes the store's lock; nothing is written when a
// check fails.
func AddAccount(s *store.Store, ks keystore.KeyStore, req AddAccountRequest) (*AddAccountResult, error) {
	return withLock(s, ks, func(l *Locked) (*AddAccountResult, error) { return l.AddAccount(req) })
}

// AddAccount is AddAccount within the caller's locked step.
func (l *Locked) AddAccount(req AddAccountRequest) (*AddAccountResult, error) {
	s, ks := l.Store, l.KeyStore
	if req.Name == "" {
		return nil, errors.New("account name is required")
	}
	if err := store.ValidateName(req.Name); err != nil {
		return nil, fmt.Errorf("account name: %w", err)
	}
	if s.HasAccount(req.Name) {
		return nil, fmt.Errorf("account %q already exists in operator %q", req.Name, s.Name())
	}
	akp, apub, given, err := entityKey(ks, req.PublicKey, "an account", nkeys.CreateAccount, nkeys.IsValidPublicAccountKey)
	if err != nil {
		return nil, err
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	ac := jwt.NewAccountClaims(apub)
	ac.Name = req.Name
	changes, keys, err := req.apply(ks, ac, now(req.Now))
	if err != nil {
		return nil, err
	}
	selfKP := akp // a managed operator's account is self-signed, with a seed only
	if _, err := akp.Seed(); err != nil {
		selfKP = nil
	}
	token, err := SignAccount(s, ks, oc, ac, selfKP, req.Signer)
	if err != nil {
		return nil, err
	}
	if !given {
		keys = append([]nkeys.KeyPair{akp}, keys...)
	}
	if err := storeKeys(ks, keys); err != nil {
		return nil, err
	}
	if err := s.SaveAccount(req.Name, token); err != nil {
		return nil, err
	}
	return &AddAccountResult{
		AccountResult: AccountResult{Name: req.Name, PublicKey: apub, JWT: token},
		KeyGenerated:  !given,
		Changes:       changes,
	}, nil
}
