package ops

import (
	"fmt"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// AddUserRequest describes a new user.
type AddUserRequest struct {
	Account string // the account's name or public key
	Name    string
	// Signer picks the account key that signs (role name, public key, seed or seed file); ""
	// lets Signer choose. A scoped signing key makes the user scoped.
	Signer string
	// PublicKey, when set, is the user's key (public key, seed or seed file) instead of a new
	// one: it is not stored, and creds are written only when the keystore holds its seed.
	PublicKey   string
	Header      Header
	Permissions authz.UserPermOptions // permissions and limits; a scoped signer refuses them
	Now         time.Time             // the clock for Header's relative times; zero is now
}

// AddUserResult is the user as stored.
type AddUserResult struct {
	Account   string // the account's name
	Name      string
	PublicKey string
	JWT       string
	// CredsPath is the creds file written, "" when the keystore does not hold the user's seed.
	CredsPath string
	// KeyGenerated: a new key was generated and stored (no PublicKey in the request).
	KeyGenerated bool
	// Changes are the permission and limit changes, as status lines ("added pub "a.>"").
	Changes []string
}

// AddUser creates a user: a new key (or the given one), a JWT signed by the key Signer
// chooses, the JWT in the store and the creds file. It takes the store's lock; nothing is
// written when a check fails.
func AddUser(s *store.Store, ks keystore.KeyStore, req AddUserRequest) (*AddUserResult, error) {
	return withLock(s, ks, func(l *Locked) (*AddUserResult, error) { return l.AddUser(req) })
}

// AddUser is AddUser within the caller's locked step.
func (l *Locked) AddUser(req AddUserRequest) (*AddUserResult, error) {
	s, ks := l.Store, l.KeyStore
	if req.Name == "" {
		return nil, fmt.Errorf("user name is required")
	}
	if err := store.ValidateName(req.Name); err != nil {
		return nil, fmt.Errorf("user name: %w", err)
	}
	account, err := s.FindAccount(req.Account)
	if err != nil {
		return nil, err
	}
	if s.HasUser(account, req.Name) {
		return nil, fmt.Errorf("user %q already exists in account %q", req.Name, account)
	}
	ukp, upub, given, err := entityKey(ks, req.PublicKey, "a user", nkeys.CreateUser, nkeys.IsValidPublicUserKey)
	if err != nil {
		return nil, err
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	ac, _, err := s.Account(account)
	if err != nil {
		return nil, err
	}
	uc := jwt.NewUserClaims(upub)
	uc.Name = req.Name
	if err := req.Header.ApplyGeneric(&uc.GenericFields, &uc.ClaimsData, now(req.Now)); err != nil {
		return nil, err
	}
	changes, err := req.Permissions.Apply(&uc.UserPermissionLimits)
	if err != nil {
		return nil, err
	}
	token, err := SignUser(ks, account, ac, uc, req.Signer, oc.StrictSigningKeyUsage)
	if err != nil {
		return nil, err
	}
	var seed []byte
	if !given {
		if _, err := ks.Store(ukp); err != nil {
			return nil, err
		}
		seed, _ = ukp.Seed()
	} else if kp, err := ks.Get(upub); err == nil {
		seed, _ = kp.Seed()
	}
	if err := s.SaveUser(account, req.Name, token); err != nil {
		return nil, err
	}
	res := &AddUserResult{Account: account, Name: req.Name, PublicKey: upub, JWT: token, KeyGenerated: !given, Changes: changes}
	if seed != nil {
		if res.CredsPath, err = ks.WriteCreds(s.Name(), account, req.Name, token, seed); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// entityKey is a new entity's key: publicKey (a request's PublicKey: public key, seed or seed
// file) when given, else a new key from create. kind names the entity with its article ("a
// user"); valid checks the key's kind.
func entityKey(ks keystore.KeyStore, publicKey, kind string, create func() (nkeys.KeyPair, error), valid func(string) bool) (kp nkeys.KeyPair, pub string, given bool, err error) {
	if publicKey != "" {
		if kp, err = ks.ResolveKey(publicKey); err != nil {
			return nil, "", false, fmt.Errorf("--public-key: %w", err)
		}
		given = true
	} else if kp, err = create(); err != nil {
		return nil, "", false, fmt.Errorf("create %s key: %w", kind, err)
	}
	pub, _ = kp.PublicKey()
	if !valid(pub) {
		return nil, "", false, fmt.Errorf("--public-key: %s is not %s key", pub, kind)
	}
	return kp, pub, given, nil
}
