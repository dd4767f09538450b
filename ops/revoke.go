package ops

import (
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// RevokeUserRequest names the users whose JWTs an account stops accepting.
type RevokeUserRequest struct {
	Account string // the account's name or public key
	// Users are users of the account in the store, by name or public key; with no Users and no
	// Keys, the account's only user (OnlyUser), as nsc picks it.
	Users []string
	// Keys are user public keys, in the store or not, or "*" (jwt.All) for every user.
	Keys []string
	// At revokes the JWTs issued at or before it; zero is now. ClearUserRevocation ignores it.
	At     time.Time
	Signer string // operator key that re-signs the account; "" lets Signer choose
}

// UserRevocation is one user revocation of an account.
type UserRevocation struct {
	PublicKey string
	At        int64 // JWTs issued at or before this unix time are refused
}

// RevokeUserResult is the re-signed account and the revocations the request made.
type RevokeUserResult struct {
	AccountResult
	Revocations []UserRevocation
}

// RevokeUser revokes users in their account (their JWTs issued at or before req.At) and
// re-signs the account through UpdateAccount. It takes the store's lock; a user that cannot be
// found changes nothing.
func RevokeUser(s *store.Store, ks keystore.KeyStore, req RevokeUserRequest) (*RevokeUserResult, error) {
	return withLock(s, ks, func(l *Locked) (*RevokeUserResult, error) { return l.RevokeUser(req) })
}

// RevokeUser is RevokeUser within the caller's locked step.
func (l *Locked) RevokeUser(req RevokeUserRequest) (*RevokeUserResult, error) {
	at := now(req.At)
	return l.userRevocations(req, func(_ string, ac *jwt.AccountClaims, p string) (UserRevocation, error) {
		ac.RevokeAt(p, at)
		return UserRevocation{PublicKey: p, At: ac.Revocations[p]}, nil
	})
}

// ClearUserRevocation removes user revocations from their account and re-signs it. It takes the
// store's lock; a user that is not revoked is an error and changes nothing.
func ClearUserRevocation(s *store.Store, ks keystore.KeyStore, req RevokeUserRequest) (*RevokeUserResult, error) {
	return withLock(s, ks, func(l *Locked) (*RevokeUserResult, error) { return l.ClearUserRevocation(req) })
}

// ClearUserRevocation is ClearUserRevocation within the caller's locked step.
func (l *Locked) ClearUserRevocation(req RevokeUserRequest) (*RevokeUserResult, error) {
	return l.userRevocations(req, func(name string, ac *jwt.AccountClaims, p string) (UserRevocation, error) {
		at, ok := ac.Revocations[p]
		if !ok {
			return UserRevocation{}, fmt.Errorf("user %q is not revoked in account %q", p, name)
		}
		ac.ClearRevocation(p)
		return UserRevocation{PublicKey: p, At: at}, nil
	})
}

// userRevocations changes the revocation of each user of req in the account and re-signs it.
func (l *Locked) userRevocations(req RevokeUserRequest, change func(name string, ac *jwt.AccountClaims, pub string) (UserRevocation, error)) (*RevokeUserResult, error) {
	var revs []UserRevocation
	acc, err := l.UpdateAccount(AccountUpdate{
		Account: req.Account,
		Signer:  req.Signer,
		Change: func(name string, ac *jwt.AccountClaims) error {
			pubs, err := userKeys(l.Store, name, req)
			if err != nil {
				return err
			}
			for _, p := range pubs {
				r, err := change(name, ac, p)
				if err != nil {
					return err
				}
				revs = append(revs, r)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &RevokeUserResult{AccountResult: *acc, Revocations: revs}, nil
}

// userKeys resolves a request's users (names or keys in the store) and keys to public keys.
func userKeys(s *store.Store, account string, req RevokeUserRequest) ([]string, error) {
	users := req.Users
	if len(users) == 0 && len(req.Keys) == 0 {
		only, err := OnlyUser(s, account)
		if err != nil {
			return nil, fmt.Errorf("%w; give the user: -n NAME, -u PUBLIC_KEY, or -u '*' for every user", err)
		}
		users = []string{only}
	}
	var out []string
	for _, n := range users {
		name, err := s.FindUser(account, n)
		if err != nil {
			return nil, fmt.Errorf("-n: %w", err)
		}
		uc, _, err := s.User(account, name)
		if err != nil {
			return nil, err
		}
		out = append(out, uc.Subject)
	}
	for _, k := range req.Keys {
		if k != jwt.All && !nkeys.IsValidPublicUserKey(k) {
			return nil, fmt.Errorf("-u %q: not a user public key (U...) or '*'", k)
		}
		out = append(out, k)
	}
	return out, nil
}
