package entity

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
)

// CommonOptions are the flags every entity has: validity window and tags (bound with
// flags.AddHeaderFlags).
type CommonOptions = ops.Header

// OperatorEditOptions are the operator-only flags shared by add and edit.
type OperatorEditOptions struct {
	SigningKeys     []string
	RmSigningKeys   []string
	ServiceURLs     []string
	RmServiceURLs   []string
	AccountServer   string
	RmAccountServer bool // edit operator --rm-account-jwt-server-url
	SystemAccount   string
	RequireSK       bool
	NoRequireSK     bool
}

// AddFlags binds the operator flags. On `edit operator` -n and -u are the service and account
// server URLs; on `add operator` they are the name and the import URL, as in nsc.
func (o *OperatorEditOptions) AddFlags(fs *pflag.FlagSet, edit bool) {
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

// Apply validates and applies the operator flags. It returns status lines and any keys it
// generated (the caller stores them once everything else succeeded).
func (o *OperatorEditOptions) Apply(ks keystore.KeyStore, oc *jwt.OperatorClaims) ([]string, []nkeys.KeyPair, error) {
	var msgs []string
	var gen []nkeys.KeyPair
	var add []string
	for _, v := range o.SigningKeys {
		if v == "generate" {
			kp, err := nkeys.CreateOperator()
			if err != nil {
				return nil, nil, fmt.Errorf("generate signing key: %w", err)
			}
			gen = append(gen, kp)
			p, _ := kp.PublicKey()
			add = append(add, p)
			continue
		}
		kp, err := ks.ResolveKey(v)
		if err != nil {
			return nil, nil, fmt.Errorf("--sk: %w", err)
		}
		p, _ := kp.PublicKey()
		if !nkeys.IsValidPublicOperatorKey(p) {
			return nil, nil, fmt.Errorf("--sk: %s is not an operator key", p)
		}
		if _, err := kp.Seed(); err == nil && !ks.Has(p) {
			gen = append(gen, kp)
		}
		add = append(add, p)
	}
	var rm []string
	for _, v := range o.RmSigningKeys {
		if !slices.Contains(oc.SigningKeys, v) {
			return nil, nil, fmt.Errorf("--rm-sk: %s is not a signing key of operator %q", v, oc.Name)
		}
		rm = append(rm, v)
	}
	for _, u := range append(append([]string{}, o.ServiceURLs...), o.RmServiceURLs...) {
		if err := validateServiceURL(u); err != nil {
			return nil, nil, err
		}
	}
	if o.AccountServer != "" {
		if !strings.HasPrefix(o.AccountServer, "http://") && !strings.HasPrefix(o.AccountServer, "https://") &&
			!strings.HasPrefix(o.AccountServer, "nats://") && !strings.HasPrefix(o.AccountServer, "tls://") {
			return nil, nil, fmt.Errorf("--account-jwt-server-url %q: want http(s)://host:port/jwt/v1 or nats://host:port", o.AccountServer)
		}
	}
	if o.SystemAccount != "" && !nkeys.IsValidPublicAccountKey(o.SystemAccount) {
		return nil, nil, fmt.Errorf("--system-account %q is not an account public key", o.SystemAccount)
	}
	for _, p := range add {
		if !slices.Contains(oc.SigningKeys, p) {
			oc.SigningKeys.Add(p)
			msgs = append(msgs, fmt.Sprintf("added signing key %q", p))
		}
	}
	for _, p := range rm {
		oc.SigningKeys = slices.DeleteFunc(oc.SigningKeys, func(x string) bool { return x == p })
		msgs = append(msgs, fmt.Sprintf("removed signing key %q", p))
	}
	for _, u := range o.ServiceURLs {
		if !slices.Contains(oc.OperatorServiceURLs, u) {
			oc.OperatorServiceURLs = append(oc.OperatorServiceURLs, u)
			msgs = append(msgs, fmt.Sprintf("added service url %q", u))
		}
	}
	for _, u := range o.RmServiceURLs {
		oc.OperatorServiceURLs = slices.DeleteFunc(oc.OperatorServiceURLs, func(x string) bool { return x == u })
		msgs = append(msgs, fmt.Sprintf("removed service url %q", u))
	}
	if o.RmAccountServer && o.AccountServer != "" {
		return nil, nil, errors.New("--rm-account-jwt-server-url and --account-jwt-server-url are exclusive: choose one")
	}
	if o.RmAccountServer {
		oc.AccountServerURL = ""
		msgs = append(msgs, "removed account server url")
	}
	if o.AccountServer != "" {
		oc.AccountServerURL = o.AccountServer
		msgs = append(msgs, fmt.Sprintf("set account jwt server url to %q", o.AccountServer))
	}
	if o.SystemAccount != "" {
		oc.SystemAccount = o.SystemAccount
		msgs = append(msgs, fmt.Sprintf("set system account %q", o.SystemAccount))
	}
	if o.RequireSK {
		oc.StrictSigningKeyUsage = true
		msgs = append(msgs, "strict signing key usage set to: true")
	}
	if o.NoRequireSK {
		oc.StrictSigningKeyUsage = false
		msgs = append(msgs, "strict signing key usage set to: false")
	}
	return msgs, gen, nil
}

func validateServiceURL(u string) error {
	for _, p := range []string{"nats://", "tls://", "ws://", "wss://"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("service url %q: want nats://, tls://, ws:// or wss://host:port", u)
}
