package entity

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/keystore"
)

// CommonOptions are the flags every entity has: validity window and tags.
type CommonOptions struct {
	Start  string
	Expiry string
	Tags   []string
	RmTags []string
}

// AddFlags binds the common flags.
func (o *CommonOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Start, "start", "", "valid from: 0 (now), yyyy-mm-dd, RFC3339, or a duration like 1d")
	fs.StringVar(&o.Expiry, "expiry", "", "valid until: 0 (never), yyyy-mm-dd, RFC3339, or a duration like 30d")
	fs.StringSliceVar(&o.Tags, "tag", nil, "add tags (key:value or word; repeat or comma separate)")
	fs.StringSliceVar(&o.RmTags, "rm-tag", nil, "remove tags")
}

// Changed reports whether any common flag was given.
func (o *CommonOptions) Changed() bool {
	return o.Start != "" || o.Expiry != "" || len(o.Tags) > 0 || len(o.RmTags) > 0
}

// ApplyGeneric validates and applies the common flags to a claim's header fields.
func (o *CommonOptions) ApplyGeneric(g *jwt.GenericFields, cd *jwt.ClaimsData, now time.Time) error {
	var start, exp int64
	var err error
	if o.Start != "" {
		if start, err = authz.ParseStart(o.Start, now); err != nil {
			return fmt.Errorf("--start: %w", err)
		}
	}
	if o.Expiry != "" {
		if exp, err = authz.ParseExpiry(o.Expiry, now); err != nil {
			return fmt.Errorf("--expiry: %w", err)
		}
	}
	add, err := authz.ParseTags(o.Tags)
	if err != nil {
		return fmt.Errorf("--tag: %w", err)
	}
	rm, err := authz.ParseTags(o.RmTags)
	if err != nil {
		return fmt.Errorf("--rm-tag: %w", err)
	}
	if o.Start != "" {
		cd.NotBefore = start
	}
	if o.Expiry != "" {
		cd.Expires = exp
	}
	for _, t := range add {
		if !slices.Contains(g.Tags, t) {
			g.Tags = append(g.Tags, t)
		}
	}
	for _, t := range rm {
		g.Tags = slices.DeleteFunc(g.Tags, func(x string) bool { return strings.EqualFold(x, t) })
	}
	return nil
}

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
