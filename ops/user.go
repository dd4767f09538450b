package ops

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/shellquote"
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

// UserResult is a user as stored.
type UserResult struct {
	Account   string // the account's name
	Name      string
	PublicKey string
	JWT       string
	// CredsPath is the creds file written, "" when the keystore does not hold the user's seed
	// or (an edit) when the file could not be rewritten.
	CredsPath string
	// CredsErr is why an edit could not rewrite the user's creds file: the JWT is saved, the
	// file on disk still holds the previous one.
	CredsErr error
	// Changes are the permission and limit changes, as status lines ("added pub "a.>"").
	Changes []string
}

// AddUserResult is the new user as stored.
type AddUserResult struct {
	UserResult
	// KeyGenerated: a new key was generated and stored (no PublicKey in the request).
	KeyGenerated bool
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
	oc, ac, err := issuers(s, account)
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
	if err := checkBearer(account, req.Name, uc, ac); err != nil {
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
	res := &AddUserResult{UserResult: UserResult{Account: account, Name: req.Name, PublicKey: upub, JWT: token, Changes: changes}, KeyGenerated: !given}
	if seed != nil {
		if res.CredsPath, err = ks.WriteCreds(s.Name(), account, req.Name, token, seed); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// issuers are the stored claims of the operator and of an account, which sign the account's users.
func issuers(s *store.Store, account string) (*jwt.OperatorClaims, *jwt.AccountClaims, error) {
	oc, _, err := s.Operator()
	if err != nil {
		return nil, nil, err
	}
	ac, _, err := s.Account(account)
	if err != nil {
		return nil, nil, err
	}
	return oc, ac, nil
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

// EditUserRequest is a change to a stored user.
type EditUserRequest struct {
	Account string // the account's name or public key
	User    string // the user's name or public key; "" is the account's only user (OnlyUser)
	// Signer picks the account key that re-signs (role name, public key, seed or seed file); ""
	// keeps the key that signed the user when it may still sign (Signer's rule). A signer alone,
	// with nothing else to change, re-signs the user.
	Signer      string
	Header      Header
	Permissions authz.UserPermOptions // permissions and limits; a scoped user refuses them without Signer
	Now         time.Time             // the clock for Header's relative times; zero is now
	// ResignAnyway re-signs a user the request leaves unchanged: nsc counts a flag whose value
	// changes nothing (--allow-pub of a subject already there, --rm of one that is not,
	// --allow-pub-response=0) as an edit; without it, such a request is an error.
	ResignAnyway bool
}

// EditUser changes a user's validity, tags, permissions and limits, re-signs it with the key
// Signer chooses and rewrites its creds when the keystore holds its seed. A user signed by a
// scoped signing key takes its permissions from the scope: changing them needs Signer (a
// non-scoped key). It takes the store's lock; nothing is written when a check fails, and an
// edit that changes nothing is an error.
func EditUser(s *store.Store, ks keystore.KeyStore, req EditUserRequest) (*UserResult, error) {
	return withLock(s, ks, func(l *Locked) (*UserResult, error) { return l.EditUser(req) })
}

// EditUser is EditUser within the caller's locked step.
func (l *Locked) EditUser(req EditUserRequest) (*UserResult, error) {
	s, ks := l.Store, l.KeyStore
	account, err := s.FindAccount(req.Account)
	if err != nil {
		return nil, err
	}
	var name string
	if req.User == "" {
		name, err = OnlyUser(s, account)
	} else {
		name, err = s.FindUser(account, req.User)
	}
	if err != nil {
		return nil, err
	}
	oc, ac, err := issuers(s, account)
	if err != nil {
		return nil, err
	}
	uc, _, err := s.User(account, name)
	if err != nil {
		return nil, err
	}
	if err := req.Header.ApplyGeneric(&uc.GenericFields, &uc.ClaimsData, now(req.Now)); err != nil {
		return nil, err
	}
	scoped := isScopedUser(uc, ac) && req.Signer == ""
	if scoped && len(req.Permissions.SetFlags()) > 0 {
		return nil, fmt.Errorf("user %q is scoped: its permissions come from signing key %s; edit them with `signet edit signing-key`, or re-sign the user with a non-scoped key using -K", name, uc.Issuer)
	}
	changes, err := req.Permissions.Apply(&uc.UserPermissionLimits)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 && !req.Header.Changed() && req.Signer == "" && !req.ResignAnyway {
		return nil, errors.New("nothing to edit: give at least one flag (see `signet edit user --help`)")
	}
	if scoped {
		uc.UserPermissionLimits = jwt.UserPermissionLimits{}
	}
	token, err := SignUser(ks, account, ac, uc, req.Signer, oc.StrictSigningKeyUsage)
	if err != nil {
		return nil, err
	}
	if err := checkBearer(account, name, uc, ac); err != nil {
		return nil, err
	}
	if err := s.SaveUser(account, name, token); err != nil {
		return nil, err
	}
	res := &UserResult{Account: account, Name: name, PublicKey: uc.Subject, JWT: token, Changes: changes}
	if ukp, err := ks.Get(uc.Subject); err == nil {
		seed, _ := ukp.Seed()
		res.CredsPath, res.CredsErr = ks.WriteCreds(s.Name(), account, name, token, seed)
	}
	return res, nil
}

// checkBearer refuses a signed user (uc, its Issuer the key that signed it) that nats-server
// would read as a bearer user in an account that disallows bearer tokens: the server refuses
// its connections. nsc refuses only --bearer; a user signed by a scoped signing key whose
// template says --bearer is just as much a bearer user, and is refused too.
func checkBearer(account, user string, uc *jwt.UserClaims, ac *jwt.AccountClaims) error {
	if !ac.Limits.DisallowBearer || !IsBearerUser(uc, ac) {
		return nil
	}
	q := shellquote.Quote(account)
	allow := fmt.Sprintf("or allow them with `signet edit account %s --disallow-bearer=false`", q)
	if us := UserScope(uc, ac); us != nil {
		return fmt.Errorf("account %q forbids the use of bearer tokens (--disallow-bearer): user %q would be a bearer user, which the server refuses: it is signed by scoped signing key %s (role %q), whose template says --bearer; sign it with another key (-K), clear bearer in the scope with `signet edit signing-key -a %s --sk %s --bearer=false`, %s",
			account, user, us.Key, us.Role, q, scopeName(us), allow)
	}
	return fmt.Errorf("account %q forbids the use of bearer tokens (--disallow-bearer): user %q cannot be a bearer user, the server would refuse it; leave out --bearer (or give --bearer=false), %s", account, user, allow)
}

// IsBearerUser reports whether nats-server reads uc, a user stored in account ac, as a bearer
// user of ac: the one rule for add user, edit user, edit account --disallow-bearer, edit
// signing-key --bearer, validate and the console. The server binds a user to the account that its
// issuer_account names (its issuer when issuer_account is empty); when a scoped signing key of
// that account signed it, the scope's template takes the place of the user's permissions and
// limits, bearer included; then it refuses a bearer user of an account that disallows bearer
// tokens. A user the server binds to another account (or to none) is no bearer user of ac, its
// own flag or its signer's template notwithstanding: it is refused for its issuer_account, which
// validate reports on its own.
func IsBearerUser(uc *jwt.UserClaims, ac *jwt.AccountClaims) bool {
	scope, bound := serverScope(uc, ac)
	if !bound {
		return false
	}
	if scope != nil {
		us, _ := scope.(*jwt.UserScope)
		return us != nil && us.Template.BearerToken
	}
	return uc.BearerToken
}

// UserScope is the user scope whose template nats-server puts in place of the permissions and
// limits of uc, a user stored in account ac: that of the scoped signing key of ac that signed it.
// It is nil when ac's identity key or an unscoped signing key signed it, and when the server
// does not bind the user to ac (IsBearerUser).
func UserScope(uc *jwt.UserClaims, ac *jwt.AccountClaims) *jwt.UserScope {
	scope, _ := serverScope(uc, ac)
	us, _ := scope.(*jwt.UserScope)
	return us
}

// serverScope is the scope of ac's signing key that signed uc (nil for none), and whether the
// server binds uc to ac at all: its issuer_account, or its issuer when that is empty, is ac. No
// account (nil) binds nothing.
func serverScope(uc *jwt.UserClaims, ac *jwt.AccountClaims) (scope jwt.Scope, bound bool) {
	if ac == nil {
		return nil, false
	}
	account := uc.IssuerAccount
	if account == "" {
		account = uc.Issuer
	}
	if account != ac.Subject {
		return nil, false
	}
	scope, _ = ac.SigningKeys.GetScope(uc.Issuer)
	return scope, true
}

// scopeName is how a command names a scoped key: its role, else its public key.
func scopeName(us *jwt.UserScope) string {
	if us.Role != "" {
		return shellquote.Quote(us.Role)
	}
	return us.Key
}

// OnlyUser is the user a command acts on when it is not named: the account's only user, as nsc
// picks it for generate creds, edit user, describe user and the user revocations. An account
// with no user, or with several, is an error that says which.
func OnlyUser(s *store.Store, account string) (string, error) {
	names, err := s.UserNames(account)
	if err != nil {
		return "", err
	}
	switch len(names) {
	case 1:
		return names[0], nil
	case 0:
		return "", fmt.Errorf("user name is required: account %q has no users (add one with `signet add user -a %s NAME`)", account, shellquote.Quote(account))
	}
	return "", fmt.Errorf("user name is required: account %q has %d users (%s): name one", account, len(names), strings.Join(names, ", "))
}

// isScopedUser reports whether a scoped signing key of its account signed the user.
func isScopedUser(uc *jwt.UserClaims, ac *jwt.AccountClaims) bool {
	if uc.Issuer == ac.Subject {
		return false
	}
	scope, ok := ac.SigningKeys.GetScope(uc.Issuer)
	return ok && scope != nil
}

// DeleteUserRequest names users to delete from their account.
type DeleteUserRequest struct {
	Account string   // the account's name or public key
	Users   []string // the users' names or public keys
	// Revoke revokes the users in their account (their JWTs issued until At) before deleting
	// them, so that copies of their creds stop working once the account is pushed; the account
	// is re-signed with the operator key Signer picks.
	Revoke bool
	At     time.Time // the revocation's time; zero is now
	Signer string    // operator key that re-signs the account; "" lets Signer choose
	// RmCreds also removes the users' creds files; RmKey their keys from the keystore.
	RmCreds, RmKey bool
}

// DeletedUser is a user that DeleteUser removed.
type DeletedUser struct {
	Name      string
	PublicKey string
}

// DeleteUserResult is what DeleteUser did.
type DeleteUserResult struct {
	Account string // the account's name
	Deleted []DeletedUser
	// Revoked is the re-signed account with the revocations made, nil without Revoke: the
	// caller pushes the account when it is set.
	Revoked *RevokeUserResult
}

// DeleteUser deletes users from the store, revoking them first when asked, and removes their
// creds and keys when asked. It takes the store's lock; a user that cannot be found, or an
// account that cannot be re-signed for the revocation, changes nothing.
func DeleteUser(s *store.Store, ks keystore.KeyStore, req DeleteUserRequest) (*DeleteUserResult, error) {
	return withLock(s, ks, func(l *Locked) (*DeleteUserResult, error) { return l.DeleteUser(req) })
}

// DeleteUser is DeleteUser within the caller's locked step.
func (l *Locked) DeleteUser(req DeleteUserRequest) (*DeleteUserResult, error) {
	s, ks := l.Store, l.KeyStore
	if len(req.Users) == 0 {
		return nil, errors.New("user name is required")
	}
	account, err := s.FindAccount(req.Account)
	if err != nil {
		return nil, err
	}
	res := &DeleteUserResult{Account: account}
	var pubs []string
	for _, n := range req.Users {
		name, err := s.FindUser(account, n)
		if err != nil {
			return nil, err
		}
		uc, _, err := s.User(account, name)
		if err != nil {
			return nil, err
		}
		res.Deleted = append(res.Deleted, DeletedUser{Name: name, PublicKey: uc.Subject})
		pubs = append(pubs, uc.Subject)
	}
	if req.Revoke {
		rev, err := l.RevokeUser(RevokeUserRequest{Account: account, Keys: pubs, At: req.At, Signer: req.Signer})
		if err != nil {
			return nil, fmt.Errorf("revoke before delete: %w (or pass --revoke=false to delete without revoking)", err)
		}
		res.Revoked = rev
	}
	for _, u := range res.Deleted {
		if err := s.DeleteUser(account, u.Name); err != nil {
			return nil, err
		}
		if req.RmCreds {
			if err := ks.RemoveCreds(s.Name(), account, u.Name); err != nil {
				return nil, err
			}
		}
		if req.RmKey {
			if err := ks.Remove(u.PublicKey); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}
