package entity

import (
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/ops"
)

// CommonOptions are the flags every entity has: validity window and tags (bound with
// flags.AddHeaderFlags).
type CommonOptions = ops.Header

// OperatorEditOptions are the operator-only flags shared by add and edit.
type OperatorEditOptions = ops.OperatorSettings

// addOperatorFlags binds the operator flags. On `edit operator` -n and -u are the service and
// account server URLs; on `add operator` they are the name and the import URL, as in nsc.
func addOperatorFlags(fs *pflag.FlagSet, o *OperatorEditOptions, edit bool) {
	short := func(s string) string {
		if edit {
			return s
		}
		return ""
	}
	fs.StringSliceVar(&o.SigningKeys, "sk", nil, "add a signing key: public key, seed file, or 'generate'")
	fs.StringSliceVarP(&o.ServiceURLs, "service-url", short("n"), nil, "add an operator service URL (nats://host:port)")
	fs.StringVarP(&o.AccountServer, "account-jwt-server-url", short("u"), "", "set the account server URL (http(s)://host:port/jwt/v1)")
	fs.BoolVar(&o.RequireSK, "require-signing-keys", false, "require accounts to be signed by operator signing keys (strict signing-key usage)")
}
