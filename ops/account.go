package ops

import (
	"errors"
	"fmt"
	"os"
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

// DeleteAccountRequest names an account to delete from the store with its users.
type DeleteAccountRequest struct {
	Account string // the account's name or public key
	// Force deletes an account of a managed operator, whose account server keeps it (it may
	// take the account's JWT or keys to cancel a service).
	Force bool
	// RmKeys also removes the account's and its users' keys from the keystore, and their creds.
	RmKeys bool
	// RmCreds also removes the creds files of the account's users.
	RmCreds bool
}

// DeleteAccountResult is the account DeleteAccount removed.
type DeleteAccountResult struct {
	Name      string
	PublicKey string
	// RemovedKeys are the public keys removed from the keystore (RmKeys): the account's, then
	// its users'.
	RemovedKeys []string
	// Managed: the operator is managed and its account server still holds the account; nothing
	// is pushed on delete.
	Managed bool
}

// DeleteAccount deletes an account and its users from the store, and their keys and creds
// when asked; it pushes nothing. It takes the store's lock; an account that cannot be found,
// or one of a managed operator without Force, changes nothing.
func DeleteAccount(s *store.Store, ks keystore.KeyStore, req DeleteAccountRequest) (*DeleteAccountResult, error) {
	return withLock(s, ks, func(l *Locked) (*DeleteAccountResult, error) { return l.DeleteAccount(req) })
}

// DeleteAccount is DeleteAccount within the caller's locked step.
func (l *Locked) DeleteAccount(req DeleteAccountRequest) (*DeleteAccountResult, error) {
	s, ks := l.Store, l.KeyStore
	if req.Account == "" {
		return nil, errors.New("account name is required")
	}
	name, err := s.FindAccount(req.Account)
	if err != nil {
		return nil, err
	}
	if s.Info.Managed && !req.Force {
		return nil, fmt.Errorf("operator %q is managed: its account server keeps account %q (it may take the account's JWT or keys to cancel a service): pass --force to delete it from the store", s.Name(), name)
	}
	ac, _, err := s.Account(name)
	if err != nil {
		return nil, err
	}
	res := &DeleteAccountResult{Name: name, PublicKey: ac.Subject, Managed: s.Info.Managed}
	var pubs []string
	if req.RmKeys {
		pubs = append(pubs, ac.Subject)
		users, err := s.ListUsers(name)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			pubs = append(pubs, u.PublicKey)
		}
	}
	if err := s.DeleteAccount(name); err != nil {
		return nil, err
	}
	for _, p := range pubs {
		if err := ks.Remove(p); err != nil {
			return nil, err
		}
		res.RemovedKeys = append(res.RemovedKeys, p)
	}
	if req.RmKeys || req.RmCreds {
		if err := os.RemoveAll(ks.AccountCredsDir(s.Name(), name)); err != nil {
			return nil, fmt.Errorf("remove creds of account %q: %w", name, err)
		}
	}
	return res, nil
}
