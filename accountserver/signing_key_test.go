package accountserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Signing mode takes a key by the same rule as the CLI's -K: an operator signing key, or the
// identity key unless the operator requires signing keys; never another key.
func TestSigningModeAcceptsOnlyKeysTheOperatorTrusts(t *testing.T) {
	t.Parallel()
	id, _ := nkeys.CreateOperator()
	sk, _ := nkeys.CreateOperator()
	stranger, _ := nkeys.CreateOperator()
	account, _ := nkeys.CreateAccount()
	idPub, _ := id.PublicKey()
	skPub, _ := sk.PublicKey()
	op := jwt.NewOperatorClaims(idPub)
	op.Name = "O"
	op.SigningKeys.Add(skPub)
	dir := t.TempDir()
	file := func(name string, kp nkeys.KeyPair) string {
		seed, _ := kp.Seed()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, seed, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, c := range map[string]struct {
		kp     nkeys.KeyPair
		strict bool
		ok     bool
	}{
		"signing-key":        {sk, false, true},
		"identity":           {id, false, true},
		"identity-strict":    {id, true, false},
		"signing-key-strict": {sk, true, true},
		"stranger":           {stranger, false, false},
		"account-key":        {account, false, false},
	} {
		op.StrictSigningKeyUsage = c.strict
		seedFile := file(name, c.kp)
		_, err := loadSigningKey(seedFile, op)
		if (err == nil) != c.ok {
			t.Errorf("%s: accepted=%t, want %t (err %v)", name, err == nil, c.ok, err)
		}
		seed, _ := c.kp.Seed()
		if err != nil && strings.Contains(err.Error(), string(seed)) {
			t.Errorf("%s: the error shows the seed", name)
		}
	}
}
