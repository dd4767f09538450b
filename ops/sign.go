package ops

import (
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// SignAccount signs account claims with the operator key that Signer chooses for spec (the key
// that signed the account before is kept while it is still a signing key). For a managed
// operator (no operator key at hand) the account signs itself, and the account server re-signs
// it. accountKP, when set, is the account's own key (a new account not yet in the keystore).
func SignAccount(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, ac *jwt.AccountClaims, accountKP nkeys.KeyPair, spec string) (string, error) {
	var kp nkeys.KeyPair
	if s.Info.Managed && spec == "" {
		if accountKP == nil {
			k, err := ks.Get(ac.Subject)
			if err != nil {
				return "", fmt.Errorf("account %q: %w", ac.Name, err)
			}
			accountKP = k
		}
		kp = accountKP
	} else {
		k, err := Signer(ks, OperatorIssuer(s.Name(), oc), spec, ac.Issuer)
		if err != nil {
			return "", err
		}
		kp = k
	}
	return EncodeAccountAfter(ac, kp, ac.IssuedAt)
}

// maxIssueWait bounds how long signing waits for the clock to pass the stored JWT's iat: long
// enough for a managed operator's server whose clock runs a few seconds ahead of this one.
const maxIssueWait = 5 * time.Second

// EncodeAccountAfter signs ac with an iat later than prev (the stored JWT's), so that every
// version of an account has its own second: two JWTs of one second cannot be ordered, and a server or a
// pull that takes the wrong one brings back an older state. jwt/v2 stamps the current time, so
// a quick second edit waits for the next second.
func EncodeAccountAfter(ac *jwt.AccountClaims, kp nkeys.KeyPair, prev int64) (string, error) {
	deadline := time.Now().Add(maxIssueWait)
	for {
		token, err := ac.Encode(kp)
		if err != nil {
			return "", fmt.Errorf("sign account %q: %w", ac.Name, err)
		}
		if ac.IssuedAt > prev {
			return token, nil
		}
		wait := time.Until(time.Unix(prev+1, 0))
		if time.Now().Add(wait).After(deadline) {
			return "", fmt.Errorf("sign account %q: the stored JWT was issued at %s, later than this machine's clock allows a newer one: check the clock", ac.Name, time.Unix(prev, 0).UTC().Format(time.RFC3339))
		}
		time.Sleep(wait)
	}
}

// SignUser signs user claims with the account key that Signer chooses for spec. A user signed
// by a scoped signing key becomes scoped (and may carry no permissions of its own); one signed
// by the identity or an unscoped key gets back the defaults of an ordinary user when it was
// scoped. operatorStrict is the operator's strict signing-key usage.
func SignUser(ks keystore.KeyStore, account string, ac *jwt.AccountClaims, uc *jwt.UserClaims, spec string, operatorStrict bool) (string, error) {
	kp, err := Signer(ks, AccountIssuer(account, ac, operatorStrict), spec, uc.Issuer)
	if err != nil {
		return "", err
	}
	pub, _ := kp.PublicKey()
	uc.IssuerAccount = ""
	if pub != ac.Subject {
		uc.IssuerAccount = ac.Subject
		if scope, ok := ac.SigningKeys.GetScope(pub); ok && scope != nil {
			if HasOwnPermissions(uc) {
				role := ""
				if us, ok := scope.(*jwt.UserScope); ok {
					role = us.Role
				}
				return "", fmt.Errorf("user %q is signed by the scoped signing key %s (role %q), which sets its permissions and limits: drop the permission and limit flags, or edit the scope with `signet edit signing-key`", uc.Name, pub, role)
			}
			uc.SetScoped(true)
		} else {
			unscope(uc)
		}
	} else {
		unscope(uc)
	}
	token, err := uc.Encode(kp)
	if err != nil {
		return "", fmt.Errorf("sign user %q: %w", uc.Name, err)
	}
	return token, nil
}

// unscope gives a user that was scoped (all permissions and limits zero) the unlimited defaults
// of an ordinary user again; any other user keeps its limits as they are.
func unscope(uc *jwt.UserClaims) {
	if uc.HasEmptyPermissions() {
		uc.SetScoped(false)
	}
}

// HasOwnPermissions reports whether a user carries permissions or limits of its own, which a
// scoped user may not.
func HasOwnPermissions(uc *jwt.UserClaims) bool {
	p := uc.UserPermissionLimits
	// A scoped user's limits are zero (SetScoped clears them); a new user's are -1 (unlimited).
	set := func(n int64) bool { return n != jwt.NoLimit && n != 0 }
	return len(p.Pub.Allow) > 0 || len(p.Pub.Deny) > 0 || len(p.Sub.Allow) > 0 || len(p.Sub.Deny) > 0 ||
		p.Resp != nil || p.BearerToken || len(p.Src) > 0 || len(p.Times) > 0 ||
		p.Locale != "" || len(p.AllowedConnectionTypes) > 0 ||
		set(p.Subs) || set(p.Data) || set(p.Payload)
}

// SignOperator signs operator claims with the operator identity key: the operator JWT is
// self-signed, and nats-server trusts the keys it lists only through that signature. spec
// (the user's -K: seed, seed file or public key) supplies the key when the keystore lacks it;
// it must be the identity key.
func SignOperator(ks keystore.KeyStore, oc *jwt.OperatorClaims, spec string) (string, error) {
	var kp nkeys.KeyPair
	if spec == "" {
		k, err := ks.Get(oc.Subject)
		if err != nil {
			return "", fmt.Errorf("operator %q: %w: the operator identity key signs the operator JWT; pass its seed or seed file with -K (a managed operator's JWT is signed by its owner)", oc.Name, err)
		}
		kp = k
	} else {
		k, err := ks.ResolveKey(spec)
		if err != nil {
			return "", fmt.Errorf("-K: %w", err)
		}
		pub, _ := k.PublicKey()
		if pub != oc.Subject {
			if slices.Contains(oc.SigningKeys, pub) {
				return "", fmt.Errorf("-K: %s is a signing key of operator %q; the operator JWT is signed by its identity key %s", pub, oc.Name, oc.Subject)
			}
			return "", fmt.Errorf("-K: %s is not the identity key of operator %q (%s)", pub, oc.Name, oc.Subject)
		}
		if _, err := k.Seed(); err != nil {
			return "", fmt.Errorf("%w: the keystore has no seed for operator %q (%s); pass its seed or seed file with -K", keystore.ErrMissingKey, oc.Name, pub)
		}
		kp = k
	}
	token, err := oc.Encode(kp)
	if err != nil {
		return "", fmt.Errorf("sign operator %q: %w", oc.Name, err)
	}
	return token, nil
}
