package generate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// `generate profile` is how the nats CLI (and other tools) resolve `--creds nsc://op/acc/user`:
// they run `nsc generate profile URL`, read user_creds and operator.service from its JSON (often
// with stdout and stderr combined), and connect. The JSON is nsc's, field for field, and nothing
// is printed on stderr when it succeeds.

// ProfileDetails is one entity in a profile; nsc's names and order.
type ProfileDetails struct {
	Service []string `json:"service,omitempty"`
	Name    string   `json:"name,omitempty"`
	Seed    string   `json:"seed,omitempty"`
	Key     string   `json:"id,omitempty"`
}

// Profile is what `generate profile` prints.
type Profile struct {
	UserCreds string          `json:"user_creds,omitempty"`
	Operator  *ProfileDetails `json:"operator,omitempty"`
	Account   *ProfileDetails `json:"account,omitempty"`
	User      *ProfileDetails `json:"user,omitempty"`
}

// NscURL is a parsed nsc://operator[/account[/user]][?query] URL. Query keys are lower case;
// a key without a value maps to "".
type NscURL struct {
	Operator, Account, User string
	Query                   map[string]string
}

// ParseNscURL parses an nsc:// URL as nsc does (the scheme and the query keys in any case).
// Unlike nsc it keeps the case of query values (store and keystore paths) and unescapes %XX in
// names.
func ParseNscURL(raw string) (*NscURL, error) {
	const prefix = "nsc://"
	if !strings.HasPrefix(strings.ToLower(raw), prefix) {
		return nil, fmt.Errorf("%q is not an nsc URL: expected nsc://operator[/account[/user]][?options]", raw)
	}
	rest := raw[len(prefix):]
	u := &NscURL{Query: map[string]string{}}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		for _, kv := range strings.Split(rest[i+1:], "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			val, err := url.QueryUnescape(v)
			if err != nil {
				return nil, fmt.Errorf("nsc URL %q: option %q: %w", raw, k, err)
			}
			u.Query[strings.ToLower(k)] = val
		}
		rest = rest[:i]
	}
	parts := strings.Split(rest, "/")
	if len(parts) > 3 {
		return nil, fmt.Errorf("nsc URL %q: expected at most operator/account/user", raw)
	}
	names := []*string{&u.Operator, &u.Account, &u.User}
	for i, p := range parts {
		if n, err := url.PathUnescape(p); err == nil {
			p = n
		}
		*names[i] = p
	}
	if u.Operator == "" {
		return nil, fmt.Errorf("nsc URL %q names no operator: expected nsc://operator[/account[/user]]", raw)
	}
	if u.User != "" && u.Account == "" {
		return nil, fmt.Errorf("nsc URL %q names a user without an account", raw)
	}
	return u, nil
}

func (u *NscURL) has(key string) bool {
	_, ok := u.Query[key]
	return ok
}

// ProfileOptions are the inputs of `generate profile`.
type ProfileOptions struct {
	URL        string
	OutputFile string
}

// NewCmdProfile builds `generate profile`.
func NewCmdProfile(f *cmdutil.Factory) *cobra.Command {
	o := &ProfileOptions{}
	cmd := &cobra.Command{
		Use:   "profile nsc://OPERATOR[/ACCOUNT[/USER]][?OPTIONS]",
		Short: "Print, as JSON, the creds file and service URLs of an nsc:// URL (what `nats --creds nsc://...` reads)",
		Long: `Print a JSON profile of the entities an nsc:// URL names, as nsc does:
  {"user_creds": "<creds file, when the URL names a user whose creds file exists>",
   "operator": {"service": ["<operator service URLs>"]}}

Names match the store folders, the JWT names or the public keys, in any case. Options (the query,
keys in any case):
  operatorKey, accountKey, userKey   add the entity's public key ("id"); key: the last one named;
                                     keys: all named
  operatorSeed, accountSeed, userSeed[=PUBKEY]
                                     add the entity's seed ("seed"), or that of one of its signing
                                     keys; seed: every entity named; seeds: all named
  operatorName, accountName, userName
                                     add the name ("name"); name, names: every entity named
  store=DIR                          the folder of operator stores to look in
  keystore=DIR                       the keystore to read creds and seeds from`,
		Example: `signet generate profile nsc://O/A/alice
signet generate profile 'nsc://O/A/alice?names&keys'
signet generate profile 'nsc://O/A?accountSeed=ABC...&store=/path/to/stores'
nats --creds nsc://O/A/alice pub hello world   # with signet installed as nsc`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.URL = args[0]
			return RunProfile(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.OutputFile, "output-file", "o", "--", "write the profile to this file ('--' is stdout)")
	return cmd
}

// RunProfile prints the profile of o.URL.
func RunProfile(f *cmdutil.Factory, o *ProfileOptions) error {
	u, err := ParseNscURL(o.URL)
	if err != nil {
		return err
	}
	stores, err := f.Stores()
	if err != nil {
		return err
	}
	if dir, ok := u.Query["store"]; ok {
		if stores.Dir, err = expandPath(f, dir); err != nil {
			return fmt.Errorf("store option: %w", err)
		}
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	if dir, ok := u.Query["keystore"]; ok {
		if ks.Dir, err = expandPath(f, dir); err != nil {
			return fmt.Errorf("keystore option: %w", err)
		}
	}
	p, err := BuildProfile(stores, ks, u)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	data = append(data, '\n')
	if o.OutputFile == "" || o.OutputFile == "--" {
		_, err := f.IO.Out.Write(data)
		return err
	}
	path, err := outputPath(f, o.OutputFile)
	if err != nil {
		return err
	}
	if err := store.WriteFileAtomic(path, data, 0o600, 0o700); err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	f.IO.OK("wrote tool configuration to %#q", path)
	return nil
}

// expandPath resolves ~ and a relative path the way nsc's store and keystore options do.
func expandPath(f *cmdutil.Factory, p string) (string, error) {
	if p == "" {
		return "", errors.New("empty folder")
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home := f.Getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("%q: $HOME is not set", p)
		}
		p = filepath.Join(home, p[1:])
	}
	return outputPath(f, p)
}

// profileTarget is what the URL resolved to.
type profileTarget struct {
	store         *store.Store
	oc            *jwt.OperatorClaims
	account, user string // folder names
	ac            *jwt.AccountClaims
	uc            *jwt.UserClaims
}

// BuildProfile resolves u in stores and fills the profile from the store and ks.
func BuildProfile(stores store.Stores, ks keystore.KeyStore, u *NscURL) (*Profile, error) {
	t, err := resolveProfileTarget(stores, u)
	if err != nil {
		return nil, err
	}
	p := &Profile{Operator: &ProfileDetails{Service: t.oc.OperatorServiceURLs}}
	if t.uc != nil {
		creds := ks.CredsPath(t.store.Name(), t.account, t.user)
		if _, err := os.Stat(creds); err == nil {
			p.UserCreds = creds
		}
	}
	account := func() *ProfileDetails {
		if p.Account == nil {
			p.Account = &ProfileDetails{}
		}
		return p.Account
	}
	user := func() *ProfileDetails {
		if p.User == nil {
			p.User = &ProfileDetails{}
		}
		return p.User
	}
	// need reports whether an option asks for the account or user part, and refuses it when the
	// URL does not name that entity.
	need := func(opt, what string, named bool) (bool, error) {
		if !u.has(opt) {
			return false, nil
		}
		if !named {
			return false, fmt.Errorf("option %s needs a URL that names %s", opt, what)
		}
		return true, nil
	}

	// Names, as nsc: the operator's store name, the account's and user's JWT names.
	all := u.has("names")
	if u.has("operatorname") || all || u.has("name") {
		p.Operator.Name = t.store.Name()
	}
	if ok, err := need("accountname", "an account", t.ac != nil); err != nil {
		return nil, err
	} else if t.ac != nil && (ok || all || u.has("name")) {
		account().Name = t.ac.Name
	}
	if ok, err := need("username", "a user", t.uc != nil); err != nil {
		return nil, err
	} else if t.uc != nil && (ok || all || u.has("name")) {
		user().Name = t.uc.Name
	}

	// Public keys: key is the last entity named.
	all = u.has("keys")
	last := u.has("key")
	if u.has("operatorkey") || all || (last && t.ac == nil) {
		p.Operator.Key = t.oc.Subject
	}
	if ok, err := need("accountkey", "an account", t.ac != nil); err != nil {
		return nil, err
	} else if t.ac != nil && (ok || all || (last && t.uc == nil)) {
		account().Key = t.ac.Subject
	}
	if ok, err := need("userkey", "a user", t.uc != nil); err != nil {
		return nil, err
	} else if t.uc != nil && (ok || all || last) {
		user().Key = t.uc.Subject
	}

	// Seeds: the identity key's, else a signing key's, or the one the option names.
	all = u.has("seeds") || u.has("seed")
	if ok, err := need("userseed", "a user", t.uc != nil); err != nil {
		return nil, err
	} else if t.uc != nil && (ok || all) {
		seed, err := seedOf(ks, "user", t.uc.Subject, nil, u.Query["userseed"])
		if err != nil {
			return nil, err
		}
		user().Seed = seed
	}
	if ok, err := need("accountseed", "an account", t.ac != nil); err != nil {
		return nil, err
	} else if t.ac != nil && (ok || all) {
		seed, err := seedOf(ks, "account", t.ac.Subject, t.ac.SigningKeys.Keys(), u.Query["accountseed"])
		if err != nil {
			return nil, err
		}
		account().Seed = seed
	}
	if u.has("operatorseed") || all {
		seed, err := seedOf(ks, "operator", t.oc.Subject, t.oc.SigningKeys, u.Query["operatorseed"])
		if err != nil {
			return nil, err
		}
		p.Operator.Seed = seed
	}
	return p, nil
}

// seedOf returns the seed of want (a public key among the entity's keys), or with want empty the
// first of the identity key and the signing keys whose seed the keystore holds.
func seedOf(ks keystore.KeyStore, kind, subject string, signingKeys []string, want string) (string, error) {
	keys := append([]string{subject}, signingKeys...)
	if want != "" {
		want = strings.ToUpper(want)
		found := false
		for _, k := range keys {
			found = found || k == want
		}
		if !found {
			return "", fmt.Errorf("%s seed: %s is neither the %s's public key nor one of its signing keys", kind, want, kind)
		}
		keys = []string{want}
	}
	for _, k := range keys {
		kp, err := ks.Get(k)
		if err != nil {
			continue
		}
		seed, err := kp.Seed()
		if err != nil {
			return "", fmt.Errorf("%s seed of %s: %w", kind, k, err)
		}
		return string(seed), nil
	}
	return "", fmt.Errorf("no seed for %s %s in the keystore %s", kind, keys[0], ks.Dir)
}

// resolveProfileTarget finds the operator, account and user the URL names: by folder name, JWT
// name or public key, in any case, as nsc does.
func resolveProfileTarget(stores store.Stores, u *NscURL) (*profileTarget, error) {
	ops, err := stores.Operators()
	if err != nil {
		return nil, err
	}
	t := &profileTarget{}
	for _, name := range ops {
		s, err := stores.Open(name)
		if err != nil {
			continue
		}
		oc, _, err := s.Operator()
		if err != nil {
			continue
		}
		if matches(u.Operator, name, oc.Name, oc.Subject) {
			t.store, t.oc = s, oc
			// A folder name that matches exactly wins over a JWT name that matches another.
			if name == u.Operator {
				break
			}
		}
	}
	if t.store == nil {
		return nil, fmt.Errorf("operator %q is not in %s: list them with `signet list operators`", u.Operator, stores.Dir)
	}
	if u.Account == "" {
		return t, nil
	}
	accounts, err := t.store.Accounts()
	if err != nil {
		return nil, err
	}
	var ac jwt.Claims
	t.account, ac, err = findNamed(u.Account, accounts, func(n string) (jwt.Claims, error) {
		ac, _, err := t.store.Account(n)
		return ac, err
	})
	if err != nil {
		return nil, fmt.Errorf("account %q is not in operator %q: list them with `signet list accounts`", u.Account, t.store.Name())
	}
	t.ac = ac.(*jwt.AccountClaims)
	if u.User == "" {
		return t, nil
	}
	users, err := t.store.UserNames(t.account)
	if err != nil {
		return nil, err
	}
	var uc jwt.Claims
	t.user, uc, err = findNamed(u.User, users, func(n string) (jwt.Claims, error) {
		uc, _, err := t.store.User(t.account, n)
		return uc, err
	})
	if err != nil {
		return nil, fmt.Errorf("user %q is not in account %q: list them with `signet list users -a %s`", u.User, t.account, shellquote.Quote(t.account))
	}
	t.uc = uc.(*jwt.UserClaims)
	return t, nil
}

// findNamed finds an entity by folder name (in any case), else by JWT name or public key.
func findNamed(want string, names []string, load func(string) (jwt.Claims, error)) (string, jwt.Claims, error) {
	for _, n := range names {
		if strings.EqualFold(n, want) {
			c, err := load(n)
			if err != nil {
				return "", nil, err
			}
			return n, c, nil
		}
	}
	for _, n := range names {
		c, err := load(n)
		if err != nil {
			continue
		}
		if matches(want, "", c.Claims().Name, c.Claims().Subject) {
			return n, c, nil
		}
	}
	return "", nil, store.ErrNotFound
}

func matches(want string, candidates ...string) bool {
	for _, c := range candidates {
		if c != "" && strings.EqualFold(want, c) {
			return true
		}
	}
	return false
}
