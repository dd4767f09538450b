// Package keystore keeps seeds and creds files on disk in nsc's layout:
// <dir>/keys/<kind>/<characters 2-3 of the public key>/<PUB>.nk (mode 0600, folders 0700) and
// <dir>/creds/<operator>/<account>/<user>.creds, with nsc's .gitignore at the root.
package keystore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	redactpkg "github.com/signet-dev/signet/redact"
	"github.com/signet-dev/signet/store"
)

// ErrNoKey is returned (wrapped) when the keystore does not hold the seed for a public key.
var ErrNoKey = errors.New("key not in keystore")

// ErrUnresolved is returned (wrapped) by ResolveKey for a value that names no key at all: not a
// seed, not a valid public key, and no file by that name. nsc treats such a -K as absent.
var ErrUnresolved = errors.New("not a seed, a valid public key, or an existing file")

const gitignore = `# ignore all nk files
**/*.nk

# ignore all creds files
**/*.creds
`

// KeyStore is a keystore folder.
type KeyStore struct {
	Dir string
}

// KeyPath is where the seed of pub lives.
func (k KeyStore) KeyPath(pub string) string {
	if len(pub) < 3 {
		return filepath.Join(k.Dir, "keys", "invalid", pub+".nk")
	}
	return filepath.Join(k.Dir, "keys", pub[0:1], pub[1:3], pub+".nk")
}

// CredsPath is where the creds file of a user lives.
func (k KeyStore) CredsPath(operator, account, user string) string {
	return filepath.Join(k.Dir, "creds", operator, account, user+".creds")
}

func (k KeyStore) init() error {
	for _, d := range []string{k.Dir, filepath.Join(k.Dir, "keys"), filepath.Join(k.Dir, "creds")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create keystore folder %q: %w", d, err)
		}
	}
	ig := filepath.Join(k.Dir, ".gitignore")
	if _, err := os.Stat(ig); errors.Is(err, fs.ErrNotExist) {
		if err := store.WriteFileAtomic(ig, []byte(gitignore), 0o600, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// Store saves the seed of kp and returns its path. Storing a key that is already there is fine;
// a different seed at the same path is an error.
func (k KeyStore) Store(kp nkeys.KeyPair) (string, error) {
	pub, err := kp.PublicKey()
	if err != nil {
		return "", fmt.Errorf("store key: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return "", fmt.Errorf("store key %s: no seed: %w", pub, err)
	}
	if err := k.init(); err != nil {
		return "", err
	}
	p := k.KeyPath(pub)
	if old, err := os.ReadFile(p); err == nil {
		if bytes.Equal(bytes.TrimSpace(old), seed) {
			return p, nil
		}
		return "", fmt.Errorf("key file %q already exists with a different seed", p)
	}
	if err := store.WriteFileAtomic(p, seed, 0o600, 0o700); err != nil {
		return "", err
	}
	return p, nil
}

// Get loads the key pair of pub from the keystore.
func (k KeyStore) Get(pub string) (nkeys.KeyPair, error) {
	if !isPublicKey(pub) {
		return nil, fmt.Errorf("%q is not a public key", pub)
	}
	data, err := os.ReadFile(k.KeyPath(pub))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("seed for %s: %w", pub, ErrNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("read seed for %s: %w", pub, err)
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", k.KeyPath(pub), err)
	}
	if got, _ := kp.PublicKey(); got != pub {
		return nil, fmt.Errorf("key file %s holds the seed of %s", k.KeyPath(pub), got)
	}
	return kp, nil
}

// Has reports whether the keystore holds the seed of pub.
func (k KeyStore) Has(pub string) bool {
	_, err := os.Stat(k.KeyPath(pub))
	return err == nil
}

// Remove deletes the seed of pub; a missing key is not an error.
func (k KeyStore) Remove(pub string) error {
	err := os.Remove(k.KeyPath(pub))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove key %s: %w", pub, err)
	}
	_ = os.Remove(filepath.Dir(k.KeyPath(pub))) // only succeeds when empty
	return nil
}

// List returns the public keys the keystore holds, sorted.
func (k KeyStore) List() ([]string, error) {
	var out []string
	root := filepath.Join(k.Dir, "keys")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".nk") {
			out = append(out, strings.TrimSuffix(d.Name(), ".nk"))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// AccountCredsDir is the folder of an account's creds files.
func (k KeyStore) AccountCredsDir(operator, account string) string {
	return filepath.Join(k.Dir, "creds", operator, account)
}

// WriteCreds writes a creds file for the user JWT token and its seed, and returns its path.
func (k KeyStore) WriteCreds(operator, account, user, token string, seed []byte) (string, error) {
	data, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		return "", fmt.Errorf("format creds for %q: %w", user, err)
	}
	if err := k.init(); err != nil {
		return "", err
	}
	p := k.CredsPath(operator, account, user)
	if err := store.WriteFileAtomic(p, data, 0o600, 0o700); err != nil {
		return "", err
	}
	return p, nil
}

// RemoveCreds deletes a user's creds file; a missing one is not an error.
func (k KeyStore) RemoveCreds(operator, account, user string) error {
	err := os.Remove(k.CredsPath(operator, account, user))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove creds of %q: %w", user, err)
	}
	return nil
}

func isPublicKey(s string) bool {
	return nkeys.IsValidPublicKey(s)
}

// ResolveKey turns what a user typed into a key pair: a seed, a public key (found in the keystore
// when its seed is there, else a public-only key pair), or the path of a file holding a seed,
// public key, or creds.
func (k KeyStore) ResolveKey(value string) (nkeys.KeyPair, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, errors.New("empty key")
	}
	if strings.HasPrefix(v, "S") {
		if kp, err := nkeys.FromSeed([]byte(v)); err == nil {
			return kp, nil
		}
	}
	if isPublicKey(v) {
		if kp, err := k.Get(v); err == nil {
			return kp, nil
		}
		return nkeys.FromPublicKey(v)
	}
	data, err := os.ReadFile(expandHome(v))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%q is %w", redact(v), ErrUnresolved)
		}
		return nil, fmt.Errorf("read key file %q: %w", v, err)
	}
	if kp, err := nkeys.ParseDecoratedNKey(data); err == nil {
		return kp, nil
	}
	t := strings.TrimSpace(string(data))
	if isPublicKey(t) {
		return nkeys.FromPublicKey(t)
	}
	return nil, fmt.Errorf("file %q holds no seed or public key", v)
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[2:])
		}
	}
	return p
}

// redact hides what might be a mistyped seed so it never reaches output or logs.
func redact(v string) string {
	if strings.HasPrefix(v, "S") && len(v) > 20 && !strings.ContainsAny(v, "/.") {
		return v[:2] + "…(redacted)"
	}
	return redactpkg.Seeds(v)
}
