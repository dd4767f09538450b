package exports

import (
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// Target names the account a command changes and the operator key that re-signs it.
type Target struct {
	Account string // -a: name or public key; empty means the current account
	Signer  string // -K: operator key (public key, seed, seed file); empty means the keystore's
}

func (t *Target) addFlags(fs *pflag.FlagSet, what string) {
	fs.StringVarP(&t.Account, "account", "a", "", what+" (name or public key; default the current account)")
	fs.StringVarP(&t.Signer, "private-key", "K", "", "operator key that re-signs the account: public key, seed, or seed file")
}

// parseKind reads a --kind selector: "", "service" or "stream".
func parseKind(v string) (jwt.ExportType, error) {
	switch strings.ToLower(v) {
	case "":
		return jwt.Unknown, nil
	case "service":
		return jwt.Service, nil
	case "stream":
		return jwt.Stream, nil
	}
	return jwt.Unknown, fmt.Errorf("--kind %q: use service or stream", v)
}

// changed runs one ops change of the account -a names (the current account when empty), prints
// its warnings and status lines, and then runs the account-saved hook (push) with the lock
// released.
func changed(f *cmdutil.Factory, account string, op func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error)) error {
	t, err := f.Target(account)
	if err != nil {
		return err
	}
	res, err := op(t.Store, t.KeyStore, t.Account)
	if err != nil {
		return err
	}
	return f.AccountChanged(t.Store, res.Name, res.Warnings, res.Changes)
}
