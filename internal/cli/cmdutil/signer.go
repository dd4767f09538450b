package cmdutil

import (
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// IgnoredSigner reads, before a command signs, whether ops.Signer will ignore its -K spec (one
// that names no key, which nsc treats as absent) for the issuer account ("" for the operator),
// and returns what prints that warning once the command has succeeded.
func (f *Factory) IgnoredSigner(s *store.Store, ks keystore.KeyStore, account, spec string) (warn func()) {
	w := ops.SignerWarning(s, ks, account, spec)
	return func() {
		if w != "" {
			f.IO.Warn("%s", w)
		}
	}
}
