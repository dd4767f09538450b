package ops

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// StrictResign is what turning on strict signing-key usage takes: every account the operator
// identity key signed, re-signed by an operator signing key, and every user an account identity
// key signed, re-signed by a signing key of its account. nats-server refuses both kinds once the
// operator requires signing keys. The tokens are signed in memory; Save writes them.
type StrictResign struct {
	Accounts []Resigned
	Users    []Resigned
}

// Resigned is one entity's new JWT.
type Resigned struct {
	Account, Name, Token string
}

// PlanStrictResign signs, in memory, the JWTs that strict usage (oc with StrictSigningKeyUsage
// set) needs re-signed. When some cannot be re-signed (no signing key, or none in the keystore)
// it returns an error listing every one of them and what to do, and nothing is to be written.
// The caller holds the store lock.
func PlanStrictResign(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims) (*StrictResign, error) {
	plan := &StrictResign{}
	var problems []string
	accounts, err := s.Accounts()
	if err != nil {
		return nil, err
	}
	for _, name := range accounts {
		ac, _, err := s.Account(name)
		if err != nil {
			return nil, err
		}
		if ac.Issuer == oc.Subject {
			token, err := SignAccount(s, ks, oc, ac, nil, "")
			if err != nil {
				problems = append(problems, fmt.Sprintf("account %q: %v", name, err))
			} else {
				plan.Accounts = append(plan.Accounts, Resigned{Account: name, Name: name, Token: token})
			}
		}
		users, err := s.ListUsers(name)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			uc, _, err := s.User(name, u.Name)
			if err != nil {
				return nil, err
			}
			if uc.Issuer != ac.Subject {
				continue
			}
			token, err := SignUser(ks, name, ac, uc, "", true)
			if err != nil {
				problems = append(problems, fmt.Sprintf("user %q of account %q: %v", u.Name, name, err))
				continue
			}
			plan.Users = append(plan.Users, Resigned{Account: name, Name: u.Name, Token: token})
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("requiring signing keys would leave JWTs that nats-server refuses, and they cannot be re-signed:\n  %s\nnothing was changed", strings.Join(problems, "\n  "))
	}
	return plan, nil
}

// Save writes the re-signed JWTs, accounts first, and rewrites the creds of users whose seeds
// the keystore holds. It returns the paths of the creds files written.
func (p *StrictResign) Save(s *store.Store, ks keystore.KeyStore) ([]string, error) {
	var errs []error
	for _, a := range p.Accounts {
		if err := s.SaveAccount(a.Name, a.Token); err != nil {
			errs = append(errs, err)
		}
	}
	var creds []string
	for _, u := range p.Users {
		if err := s.SaveUser(u.Account, u.Name, u.Token); err != nil {
			errs = append(errs, err)
			continue
		}
		uc, err := jwt.DecodeUserClaims(u.Token)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		kp, err := ks.Get(uc.Subject)
		if err != nil {
			continue // no seed at hand: the user's owner makes creds with the new JWT
		}
		seed, _ := kp.Seed()
		path, err := ks.WriteCreds(s.Name(), u.Account, u.Name, u.Token, seed)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		creds = append(creds, path)
	}
	return creds, errors.Join(errs...)
}
