package keystore

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nkeys"
)

// Issuer describes the entity that signs: its identity key, its signing keys (with the role of
// each scoped one), and whether it insists on signing keys.
type Issuer struct {
	Kind          string // "operator" or "account", for messages
	Name          string
	Identity      string
	SigningKeys   []string
	Roles         map[string]string // role name -> signing key
	RequireSigner bool              // strict signing-key usage: the identity key may not sign
}

// ErrMissingKey is returned (wrapped) when no usable seed is available.
var ErrMissingKey = errors.New("missing private key")

// Signer chooses the key that signs for iss. spec is the user's -K value (role name, public key,
// seed, or seed file); empty means "whatever the keystore holds", preferring the identity key
// unless strict signing-key usage forbids it.
func (k KeyStore) Signer(iss Issuer, spec string) (nkeys.KeyPair, error) {
	allowed := func(pub string) bool {
		if pub == iss.Identity {
			return !iss.RequireSigner
		}
		return slices.Contains(iss.SigningKeys, pub)
	}
	if spec != "" {
		if pub, ok := iss.Roles[spec]; ok {
			spec = pub
		}
		kp, err := k.ResolveKey(spec)
		if err != nil {
			return nil, fmt.Errorf("-K: %w", err)
		}
		pub, _ := kp.PublicKey()
		if !allowed(pub) {
			if pub == iss.Identity {
				return nil, fmt.Errorf("%s %q requires signing keys: pass -K with one of its signing keys (%v)", iss.Kind, iss.Name, iss.SigningKeys)
			}
			return nil, fmt.Errorf("key %s is not the identity key or a signing key of %s %q", pub, iss.Kind, iss.Name)
		}
		if _, err := kp.Seed(); err != nil {
			return nil, fmt.Errorf("%w for %s: the keystore has no seed for %s; pass its seed or seed file with -K", ErrMissingKey, iss.Kind, pub)
		}
		return kp, nil
	}
	var candidates []string
	if !iss.RequireSigner {
		candidates = append(candidates, iss.Identity)
	}
	candidates = append(candidates, iss.SigningKeys...)
	for _, pub := range candidates {
		if kp, err := k.Get(pub); err == nil {
			return kp, nil
		}
	}
	if iss.RequireSigner {
		if len(iss.SigningKeys) == 0 {
			return nil, fmt.Errorf("%w: %s %q requires signing keys but has none: add one with `signet edit %s --sk generate`", ErrMissingKey, iss.Kind, iss.Name, iss.Kind)
		}
		return nil, fmt.Errorf("%w: %s %q requires signing keys and the keystore holds none of %v: pass one with -K <seed or seed file>", ErrMissingKey, iss.Kind, iss.Name, iss.SigningKeys)
	}
	return nil, fmt.Errorf("%w: the keystore has no seed for %s %q (%s) or its signing keys: pass one with -K <seed or seed file>", ErrMissingKey, iss.Kind, iss.Name, iss.Identity)
}
