package ops

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// Issuer describes the entity that signs: its identity key, its signing keys (with the role of
// each scoped one), and whether the server will insist on a signing key.
type Issuer struct {
	Kind     string // "operator" or "account", for messages
	Name     string
	Identity string
	// SigningKeys lists unscoped keys first, then scoped ones, each group sorted, so the
	// choice is the same on every run.
	SigningKeys []string
	Scoped      map[string]bool   // signing key -> it carries a scope
	Roles       map[string]string // role name -> scoped signing key
	// RequireSigner: the identity key may not sign (the operator's strict signing-key usage,
	// which nats-server applies to operators and accounts alike).
	RequireSigner bool
}

// OperatorIssuer describes an operator as the signer of accounts.
func OperatorIssuer(name string, oc *jwt.OperatorClaims) Issuer {
	keys := append([]string(nil), oc.SigningKeys...)
	sort.Strings(keys)
	return Issuer{
		Kind:          "operator",
		Name:          name,
		Identity:      oc.Subject,
		SigningKeys:   keys,
		RequireSigner: oc.StrictSigningKeyUsage,
	}
}

// AccountIssuer describes an account as the signer of users and activations. operatorStrict is
// the operator's strict signing-key usage: under it nats-server accepts users signed by the
// account's signing keys only.
func AccountIssuer(name string, ac *jwt.AccountClaims, operatorStrict bool) Issuer {
	iss := Issuer{Kind: "account", Name: name, Identity: ac.Subject, Scoped: map[string]bool{}, Roles: map[string]string{}, RequireSigner: operatorStrict}
	var unscoped, scoped []string
	for pub, scope := range ac.SigningKeys {
		if scope == nil {
			unscoped = append(unscoped, pub)
			continue
		}
		scoped = append(scoped, pub)
		iss.Scoped[pub] = true
		if us, ok := scope.(*jwt.UserScope); ok && us.Role != "" {
			iss.Roles[us.Role] = pub
		}
	}
	sort.Strings(unscoped)
	sort.Strings(scoped)
	iss.SigningKeys = append(unscoped, scoped...)
	return iss
}

// Signer chooses the key that signs an entity issued by iss: the one rule every command follows.
//
// spec is the user's -K (role name, public key, seed, or seed file); it overrides the choice,
// within the keys iss may sign with. Without it, the entity is signed by a signing key of its
// issuer whenever the keystore holds one: the key that signed it before (previous) if it is
// still a signing key, then an unscoped signing key, and the identity key only when no unscoped
// signing key is at hand and signing keys are not required. A scoped key is picked by itself
// only when nothing else can sign. When signing keys are required and the keystore holds none,
// the error names the keys it needs.
//
// A spec that names no key at all (keystore.ErrUnresolved: say a mistyped seed, or a seed file
// that is not there) is taken as the identity key, as nsc does, when iss may sign with it; under
// strict signing-key usage, or when iss has scoped signing keys (a mistyped role would drop the
// user's scope), it stays an error. SignerWarning says when that happened.
func Signer(ks keystore.KeyStore, iss Issuer, spec, previous string) (nkeys.KeyPair, error) {
	if spec != "" {
		if ok, why := unresolvedSigner(ks, iss, spec); ok {
			kp, err := explicitSigner(ks, iss, iss.Identity)
			if err != nil {
				return nil, fmt.Errorf("-K: %v, and the identity key cannot sign in its place: %w", why, err)
			}
			return kp, nil
		}
		return explicitSigner(ks, iss, spec)
	}
	var candidates []string
	if previous != "" && previous != iss.Identity && slices.Contains(iss.SigningKeys, previous) {
		candidates = append(candidates, previous)
	}
	var scoped []string
	for _, pub := range iss.SigningKeys {
		if iss.Scoped[pub] {
			scoped = append(scoped, pub)
		} else {
			candidates = append(candidates, pub)
		}
	}
	if !iss.RequireSigner {
		candidates = append(candidates, iss.Identity)
	}
	candidates = append(candidates, scoped...)
	for _, pub := range candidates {
		if kp, err := ks.Get(pub); err == nil {
			return kp, nil
		}
	}
	if iss.RequireSigner {
		if len(iss.SigningKeys) == 0 {
			return nil, fmt.Errorf("%w: %s %q must be signed by a signing key (the operator requires signing keys) but has none: add one with `signet edit %s %s--sk generate`", keystore.ErrMissingKey, iss.Kind, iss.Name, iss.Kind, nameArg(iss))
		}
		return nil, fmt.Errorf("%w: %s %q requires signing keys and the keystore holds none of %v: pass one with -K <seed or seed file>", keystore.ErrMissingKey, iss.Kind, iss.Name, iss.SigningKeys)
	}
	return nil, fmt.Errorf("%w: the keystore has no seed for %s %q (%s) or its signing keys: pass one with -K <seed or seed file>", keystore.ErrMissingKey, iss.Kind, iss.Name, iss.Identity)
}

func nameArg(iss Issuer) string {
	if iss.Kind == "operator" {
		return ""
	}
	return shellquote.Quote(iss.Name) + " "
}

// MaySign says whether iss may sign with the key pub: its identity key unless signing keys are
// required, or one of its signing keys. signet serve's signing mode checks its key with it too.
func MaySign(iss Issuer, pub string) error {
	switch {
	case pub == iss.Identity && iss.RequireSigner:
		return fmt.Errorf("%s %q requires signing keys: pass -K with one of its signing keys (%v)", iss.Kind, iss.Name, iss.SigningKeys)
	case pub != iss.Identity && !slices.Contains(iss.SigningKeys, pub):
		return fmt.Errorf("key %s is not the identity key or a signing key of %s %q", pub, iss.Kind, iss.Name)
	}
	return nil
}

// unresolvedSigner says whether spec names no key (not a role of iss, not a seed, a valid public
// key or an existing file) and iss may sign with its identity key instead; the error is why
// spec names no key. An issuer with scoped signing keys gets no such fallback (unlike nsc): the
// -K may have meant one of them, mistyped, and the identity key would sign the user without
// the scope's limits, so it stays an error (explicitSigner's).
func unresolvedSigner(ks keystore.KeyStore, iss Issuer, spec string) (bool, error) {
	if _, ok := iss.Roles[spec]; ok || len(iss.Scoped) > 0 {
		return false, nil
	}
	_, err := ks.ResolveKey(spec)
	if !errors.Is(err, keystore.ErrUnresolved) || MaySign(iss, iss.Identity) != nil {
		return false, nil
	}
	return true, err
}

// SignerWarning is the warning a command prints when Signer ignores its -K spec (one that names
// no key) and signs with the identity key of the issuer instead, or "" when Signer uses spec.
// account names the issuer, "" for the operator.
func SignerWarning(s *store.Store, ks keystore.KeyStore, account, spec string) string {
	if spec == "" {
		return ""
	}
	oc, _, err := s.Operator()
	if err != nil {
		return ""
	}
	iss := OperatorIssuer(s.Name(), oc)
	if account != "" {
		ac, _, err := s.Account(account)
		if err != nil {
			return ""
		}
		iss = AccountIssuer(account, ac, oc.StrictSigningKeyUsage)
	}
	ok, why := unresolvedSigner(ks, iss, spec)
	if !ok {
		return ""
	}
	return fmt.Sprintf("-K ignored: %v; %s %q signs with its identity key %s, as nsc does", why, iss.Kind, iss.Name, iss.Identity)
}

// explicitSigner resolves -K and checks that iss may sign with it.
func explicitSigner(ks keystore.KeyStore, iss Issuer, spec string) (nkeys.KeyPair, error) {
	if pub, ok := iss.Roles[spec]; ok {
		spec = pub
	}
	kp, err := ks.ResolveKey(spec)
	if err != nil {
		if errors.Is(err, keystore.ErrUnresolved) && len(iss.Scoped) > 0 {
			return nil, fmt.Errorf("-K: %w, nor a role of %s %q (%s): with scoped signing keys, a -K that names no key is not taken as the identity key, which would sign without a scope",
				err, iss.Kind, iss.Name, rolesOf(iss))
		}
		return nil, fmt.Errorf("-K: %w", err)
	}
	pub, _ := kp.PublicKey()
	if err := MaySign(iss, pub); err != nil {
		return nil, err
	}
	if _, err := kp.Seed(); err != nil {
		return nil, fmt.Errorf("%w for %s: the keystore has no seed for %s; pass its seed or seed file with -K", keystore.ErrMissingKey, iss.Kind, pub)
	}
	return kp, nil
}

// rolesOf lists the role names of iss's scoped signing keys, for messages.
func rolesOf(iss Issuer) string {
	if len(iss.Roles) == 0 {
		return "its scoped keys have no role names"
	}
	roles := make([]string, 0, len(iss.Roles))
	for r := range iss.Roles {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return "roles: " + strings.Join(roles, ", ")
}
