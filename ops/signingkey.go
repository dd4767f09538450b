package ops

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// EditSigningKeyRequest makes a signing key of an account scoped, or edits its scope: the role
// that names it (for a signer such as AddUserRequest.Signer) and the template of permissions and
// limits of every user it signs.
type EditSigningKeyRequest struct {
	Account string // the account's name or public key
	// Key is the signing key: a public key, seed or seed file (a key the account does not list
	// yet is added), the role name of one of its scoped keys, or "generate" for a new key.
	Key  string
	Role string // the scope's role name, unique in the account; "" keeps it
	// Description replaces the scope's description when DescriptionSet (it may clear it).
	Description    string
	DescriptionSet bool
	Permissions    authz.UserPermOptions // the template's permissions and limits
	Signer         string                // operator key that re-signs the account; "" lets Signer choose
}

// EditSigningKeyResult is the re-signed account and the scoped key.
type EditSigningKeyResult struct {
	AccountResult
	Key string // the signing key's public key
	// Changes are the status lines of the edit ("added signing key ...", permission changes).
	Changes []string
	// Warnings are what the template's subjects may not do as meant (authz.LintTemplate).
	Warnings []string
}

// EditSigningKey adds or edits a scoped signing key of an account and re-signs the account
// through UpdateAccount; a generated key, or one given as a seed new to the keystore, is stored
// once the account is signed. It takes the store's lock; nothing is written when a check fails.
// A request that changes nothing is no error: as nsc's edit signing-key, it makes an unscoped
// key scoped (its template allows everything until edited) and re-signs the account, so a
// script that names only the key runs as it does with nsc.
func EditSigningKey(s *store.Store, ks keystore.KeyStore, req EditSigningKeyRequest) (*EditSigningKeyResult, error) {
	return withLock(s, ks, func(l *Locked) (*EditSigningKeyResult, error) { return l.EditSigningKey(req) })
}

// EditSigningKey is EditSigningKey within the caller's locked step.
func (l *Locked) EditSigningKey(req EditSigningKeyRequest) (*EditSigningKeyResult, error) {
	if req.Key == "" {
		return nil, errors.New("--sk is required: a signing key of the account (public key, seed file or role name), or 'generate'")
	}
	res := &EditSigningKeyResult{}
	var newKey nkeys.KeyPair // stored once the account is signed
	acc, err := l.UpdateAccount(AccountUpdate{
		Account: req.Account,
		Signer:  req.Signer,
		Change: func(name string, ac *jwt.AccountClaims) error {
			kp, pub, err := resolveScopedKey(l.KeyStore, ac, req.Key)
			if err != nil {
				return err
			}
			newKey, res.Key = kp, pub
			old, had := ac.SigningKeys.GetScope(pub)
			changes, warnings, err := req.scope(name, ac, pub)
			res.Changes, res.Warnings = changes, warnings
			if err != nil {
				return err
			}
			if had && old == nil {
				if err := checkNewlyScoped(l.Store, name, pub); err != nil {
					return err
				}
			}
			w, err := checkBearerScope(l.Store, name, ac, pub)
			if w != "" {
				res.Warnings = append(res.Warnings, w)
			}
			return err
		},
		BeforeSave: func() error {
			if newKey == nil {
				return nil
			}
			_, err := l.KeyStore.Store(newKey)
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	res.AccountResult = *acc
	return res, nil
}

// scope applies the request to the scope of signing key pub of account name (a new scope when
// the key has none) and puts it in the claims.
func (req *EditSigningKeyRequest) scope(name string, ac *jwt.AccountClaims, pub string) (changes, warnings []string, err error) {
	// Only a new key and permission changes are reported, as nsc reports them.
	if !ac.SigningKeys.Contains(pub) {
		changes = append(changes, fmt.Sprintf("added signing key %q", pub))
	}
	var scope *jwt.UserScope
	if old, ok := ac.SigningKeys.GetScope(pub); ok && old != nil {
		us, isUser := old.(*jwt.UserScope)
		if !isUser {
			return nil, nil, fmt.Errorf("signing key %s has a scope of type %T that signet cannot edit", pub, old)
		}
		c := *us
		scope = &c
	} else {
		scope = jwt.NewUserScope()
		scope.Key = pub
	}
	if req.Role != "" && req.Role != scope.Role {
		if k := RoleKey(ac, req.Role); k != "" && k != pub {
			return nil, nil, fmt.Errorf("--role %q: signing key %s of account %q already has that role; role names are unique within an account", req.Role, k, name)
		}
		scope.Role = req.Role
	}
	if req.DescriptionSet {
		scope.Description = req.Description
	}
	pm, err := req.Permissions.Apply(&scope.Template)
	if err != nil {
		return nil, nil, err
	}
	changes = append(changes, pm...)
	ac.SigningKeys.AddScopedSigner(scope)
	return changes, templateWarnings(scope.Template), nil
}

// checkNewlyScoped is called when the edit makes pub, an unscoped signing key of the account,
// a scoped one. The users pub signed carry permissions and limits of their own, and nats-server
// refuses a user of a scoped key that does (jwt's ValidateScopedSigner): they would all be locked
// out. With such users stored the edit is refused, naming them (nsc makes the key scoped).
func checkNewlyScoped(s *store.Store, account, pub string) error {
	signed, err := storedUsers(s, account, func(uc *jwt.UserClaims) bool { return uc.Issuer == pub })
	if err != nil || len(signed) == 0 {
		return err
	}
	return fmt.Errorf("signing key %s of account %q is unscoped and signs user(s) %s: once it is scoped, nats-server refuses them (a user of a scoped key may carry no permissions or limits of its own); sign them with another key first (`signet edit user NAME -a %s -K KEY`), or make a new scoped key with --sk generate",
		pub, account, quotedNames(signed), shellquote.Quote(account))
}

// checkBearerScope checks scoped signing key pub of an account that disallows bearer tokens
// whose template, as the edit leaves it (ac), says --bearer: the users it signs would be bearer
// users the server refuses. With such users stored it refuses the edit, naming them; with none
// it returns a warning, as add user refuses the users it would sign. nsc checks neither.
func checkBearerScope(s *store.Store, account string, ac *jwt.AccountClaims, pub string) (warning string, err error) {
	scope, _ := ac.SigningKeys.GetScope(pub)
	us, ok := scope.(*jwt.UserScope)
	if !ok {
		return "", nil
	}
	warning, ok = bearerScopeWarning(account, ac, us)
	if !ok {
		return "", nil
	}
	signed, err := storedUsers(s, account, func(uc *jwt.UserClaims) bool { return uc.Issuer == pub && IsBearerUser(uc, ac) })
	if err != nil {
		return "", err
	}
	if len(signed) == 0 {
		return warning, nil
	}
	q := shellquote.Quote(account)
	return "", fmt.Errorf("account %q forbids the use of bearer tokens (--disallow-bearer), and scoped signing key %s (role %q) signs user(s) %s: with --bearer in its template the server would refuse them; leave out --bearer (or give --bearer=false), or allow them with `signet edit account %s --disallow-bearer=false`",
		account, pub, us.Role, quotedNames(signed), q)
}

// resolveScopedKey turns a request's Key into an account signing key. It returns the key pair
// when its seed is new to the keystore (generated or given as a seed), so the caller can store it.
func resolveScopedKey(ks keystore.KeyStore, ac *jwt.AccountClaims, v string) (nkeys.KeyPair, string, error) {
	if v == "generate" {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			return nil, "", fmt.Errorf("generate signing key: %w", err)
		}
		pub, _ := kp.PublicKey()
		return kp, pub, nil
	}
	if pub := RoleKey(ac, v); pub != "" {
		return nil, pub, nil
	}
	kp, err := ks.ResolveKey(v)
	if err != nil {
		return nil, "", fmt.Errorf("--sk: %w (or give the role name of one of the account's scoped keys)", err)
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicAccountKey(pub) {
		return nil, "", fmt.Errorf("--sk: %s is not an account key", pub)
	}
	if pub == ac.Subject {
		return nil, "", fmt.Errorf("--sk: %s is the account's identity key; a scoped key must be a signing key", pub)
	}
	if _, err := kp.Seed(); err == nil && !ks.Has(pub) {
		return kp, pub, nil
	}
	return nil, pub, nil
}

// RoleKey returns the signing key of the account whose scope has role, or "".
func RoleKey(ac *jwt.AccountClaims, role string) string {
	for _, k := range ac.SigningKeys.Keys() {
		if sc, ok := ac.SigningKeys.GetScope(k); ok && sc != nil {
			if us, ok := sc.(*jwt.UserScope); ok && us.Role == role && role != "" {
				return k
			}
		}
	}
	return ""
}

// templateWarnings lints every subject of a scope's template.
func templateWarnings(t jwt.UserPermissionLimits) []string {
	var out []string
	for _, list := range []jwt.StringList{t.Pub.Allow, t.Pub.Deny, t.Sub.Allow, t.Sub.Deny} {
		for _, s := range list {
			for _, w := range authz.LintTemplate(s) {
				if !slices.Contains(out, w) {
					out = append(out, w)
				}
			}
		}
	}
	return out
}
