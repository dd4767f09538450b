package tool

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// UserOptions choose a user of the current operator: -a account, -u user.
type UserOptions struct {
	Account string
	User    string
}

// AddFlags binds -a/--account and -u/--user.
func (o *UserOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Account, "account", "a", "", "account of the user (name or public key; default: the current account)")
	fs.StringVarP(&o.User, "user", "u", "", "user to connect as (name or public key; default: the demo user, else the first user by name that can connect: not revoked, not expired, seed or creds in the keystore)")
}

// ConnOptions say whom to connect as and where.
type ConnOptions struct {
	UserOptions
	// Creds is a creds file to connect with instead of a user of the store (the nats CLI's
	// --creds); the store still names the user and explains a refusal when it knows them.
	Creds string
	// NatsURL overrides the operator's service URLs (--nats, or the nats CLI's -s/--server).
	NatsURL string
	// ConnectTimeout bounds the dial of each server.
	ConnectTimeout time.Duration
	TLS            TLSOptions
}

// TLSOptions are nsc's client TLS flags.
type TLSOptions struct {
	First      bool
	CACert     string
	ClientCert string
	ClientKey  string
	Curves     string
}

// AddFlags binds the user flags, --creds, --nats/--server, --connect-timeout and the TLS flags.
func (o *ConnOptions) AddFlags(fs *pflag.FlagSet) {
	o.UserOptions.AddFlags(fs)
	o.addEndpointFlags(fs)
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", 5*time.Second, "time allowed to connect to a server")
	o.TLS.AddFlags(fs)
}

// addEndpointFlags binds --creds and the server URL flags: nsc's --nats and the nats CLI's
// -s/--server, two names for one value.
func (o *ConnOptions) addEndpointFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Creds, "creds", "", "creds file to connect with, as the nats CLI's --creds (instead of -a/-u)")
	fs.StringVar(&o.NatsURL, "nats", "", "NATS server URLs, comma separated (default: the operator's service URLs)")
	fs.StringVarP(&o.NatsURL, "server", "s", "", "NATS server URLs, comma separated: the nats CLI's name of --nats")
}

// AddFlags binds nsc's TLS flags.
func (o *TLSOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.First, "tls-first", false, "start with the TLS handshake (servers configured with handshake_first)")
	fs.StringVar(&o.CACert, "ca-cert", "", "CA certificate file to verify the servers with")
	fs.StringVar(&o.ClientCert, "client-cert", "", "client certificate file for TLS connections")
	fs.StringVar(&o.ClientKey, "client-key", "", "client key file for TLS connections")
	fs.StringVar(&o.Curves, "tls-curves", "", "comma-separated TLS curve preferences (P256, P384, P521, X25519); default: Go's")
}

// NATSOptions turns the TLS flags into connection options for other commands (push, pull).
func (o TLSOptions) NATSOptions() ([]nats.Option, error) { return o.options() }

// options turns the TLS flags into connection options; none when no flag is given.
func (o TLSOptions) options() ([]nats.Option, error) {
	var opts []nats.Option
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return nil, errors.New("--client-cert and --client-key go together: give both")
	}
	for flag, file := range map[string]string{"--ca-cert": o.CACert, "--client-cert": o.ClientCert, "--client-key": o.ClientKey} {
		if file != "" && !fileExists(file) {
			return nil, fmt.Errorf("%s %s: no such file", flag, file)
		}
	}
	if o.CACert != "" {
		opts = append(opts, nats.RootCAs(o.CACert))
	}
	if o.ClientCert != "" {
		opts = append(opts, nats.ClientCert(o.ClientCert, o.ClientKey))
	}
	if o.First {
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	if o.Curves != "" {
		var curves []tls.CurveID
		for _, c := range strings.Split(o.Curves, ",") {
			switch strings.ToUpper(strings.TrimSpace(c)) {
			case "P256", "P-256":
				curves = append(curves, tls.CurveP256)
			case "P384", "P-384":
				curves = append(curves, tls.CurveP384)
			case "P521", "P-521":
				curves = append(curves, tls.CurveP521)
			case "X25519":
				curves = append(curves, tls.X25519)
			default:
				return nil, fmt.Errorf("--tls-curves: unknown curve %q (accepted: P256, P384, P521, X25519)", c)
			}
		}
		opts = append(opts, func(no *nats.Options) error {
			if no.TLSConfig == nil {
				no.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			no.TLSConfig.CurvePreferences = curves
			return nil
		})
	}
	return opts, nil
}

// Identity is a resolved user: where it lives and how it authenticates.
type Identity struct {
	Operator string
	Account  string
	User     string
	// PublicKey is the user's public key.
	PublicKey string
	// JWT is the stored user JWT (or the one in the --creds file).
	JWT string
	// Seed is the user's seed from the keystore, if the keystore holds it.
	Seed []byte
	// CredsFile is the user's creds file: --creds, else the keystore's, if it exists.
	CredsFile string
	// ServiceURLs are the operator's service URLs.
	ServiceURLs []string

	// store holds the user's account, when known: a refused connection is explained from it.
	store *store.Store
}

// PreferredUser is the user tried first when no -u is given: the demo user `signet dev` makes,
// which the Quickstart's commands expect to act as.
const PreferredUser = "demo"

// ResolveIdentity finds the user to act as: o.User (name or public key) in o.Account (or the
// current account), else the first user of the account that can connect (see pickUser).
func ResolveIdentity(f *cmdutil.Factory, o UserOptions) (*Identity, error) {
	t, err := f.Target(o.Account)
	if err != nil {
		return nil, err
	}
	s, ks, account := t.Store, t.KeyStore, t.Account
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	id := &Identity{Operator: s.Name(), Account: account, ServiceURLs: oc.OperatorServiceURLs, store: s}
	if o.User != "" {
		name, err := s.FindUser(account, o.User)
		if err != nil {
			return nil, fmt.Errorf("%w: list them with `signet list users -a %s`", err, shellquote.Quote(account))
		}
		id.User = name
	} else {
		name, err := pickUser(s, ks, account, now(f))
		if err != nil {
			return nil, err
		}
		id.User = name
	}
	uc, tok, err := s.User(account, id.User)
	if err != nil {
		return nil, err
	}
	id.PublicKey, id.JWT = uc.Subject, tok
	if id.Seed, err = userSeed(ks, id.User, uc.Subject); err != nil {
		return nil, err
	}
	if p := ks.CredsPath(id.Operator, account, id.User); fileExists(p) {
		id.CredsFile = p
	}
	if id.Seed == nil && id.CredsFile == "" {
		return nil, fmt.Errorf("user %q of account %q (%s) has neither a seed in the keystore %s nor a creds file: "+
			"pick another user with -u or create one with `signet add user -a %s NAME`", id.User, account, id.PublicKey, ks.Dir, shellquote.Quote(account))
	}
	return id, nil
}

func now(f *cmdutil.Factory) time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// userSeed is the user's seed from the keystore; nil when the keystore does not hold it.
func userSeed(ks keystore.KeyStore, user, pub string) ([]byte, error) {
	kp, err := ks.Get(pub)
	if errors.Is(err, keystore.ErrNoKey) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key of user %q: %w", user, err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("read seed of user %q: %w", user, err)
	}
	return seed, nil
}

// pickUser returns the user to act as when none is named: the first, by name, that the store
// says can connect (see unusable), with PreferredUser ahead of the others. When none can, the
// error says why for each.
func pickUser(s *store.Store, ks keystore.KeyStore, account string, now time.Time) (string, error) {
	users, err := s.ListUsers(account)
	if err != nil {
		return "", err
	}
	if len(users) == 0 {
		return "", fmt.Errorf("account %q has no users: add one with `signet add user -a %s NAME`", account, shellquote.Quote(account))
	}
	ac, _, err := s.Account(account)
	if err != nil {
		return "", err
	}
	if why := accountUnusable(ac, now); why != "" {
		return "", fmt.Errorf("account %q %s: no user of it can connect", account, why)
	}
	slices.SortStableFunc(users, func(a, b store.NamedKey) int {
		return cmp.Compare(boolRank(a.Name != PreferredUser), boolRank(b.Name != PreferredUser))
	})
	var reasons []string
	for _, u := range users {
		why := unusable(s, ks, account, ac, u.Name, now)
		if why == "" {
			return u.Name, nil
		}
		reasons = append(reasons, fmt.Sprintf("%q %s", u.Name, why))
	}
	const shown = 5
	list := strings.Join(reasons[:min(len(reasons), shown)], "; ")
	if len(reasons) > shown {
		list += fmt.Sprintf("; and %s", plural.N(len(reasons)-shown, "other"))
	}
	return "", fmt.Errorf("no user of account %q can connect (%s): pass --creds FILE or -u USER, or add a user with `signet add user -a %s NAME`",
		account, list, shellquote.Quote(account))
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// unusable says why the store's user name of account (whose claims are ac) cannot connect, or
// "" when nothing the store knows stands in the way: no seed or creds file at hand, a JWT that
// does not decode, expired or not yet valid, or revoked by the account.
func unusable(s *store.Store, ks keystore.KeyStore, account string, ac *jwt.AccountClaims, name string, now time.Time) string {
	uc, _, err := s.User(account, name)
	if err != nil {
		return fmt.Sprintf("cannot be read (%v)", err)
	}
	if why := refusal(ac, uc, now); why != "" {
		return why
	}
	if !ks.Has(uc.Subject) && !fileExists(ks.CredsPath(s.Name(), account, name)) {
		return "has neither a seed nor a creds file in the keystore " + ks.Dir
	}
	return ""
}

// refusal is why a server that holds ac would refuse the user JWT uc: revoked, expired or not
// yet valid; "" when none of these holds. ac may be nil (the account is not in a store).
func refusal(ac *jwt.AccountClaims, uc *jwt.UserClaims, now time.Time) string {
	if ac != nil && ac.IsClaimRevoked(uc) {
		at, ok := ac.Revocations[uc.Subject]
		if !ok || at < uc.IssuedAt {
			at = ac.Revocations[jwt.All]
		}
		return fmt.Sprintf("is revoked by account %q (JWTs issued at or before %s)", ac.Name, cmdutil.FormatUnix(at))
	}
	if uc.Expires != 0 && uc.Expires <= now.Unix() {
		return "expired at " + cmdutil.FormatUnix(uc.Expires)
	}
	if uc.NotBefore != 0 && uc.NotBefore > now.Unix() {
		return "is not valid before " + cmdutil.FormatUnix(uc.NotBefore)
	}
	return ""
}

// accountUnusable says why no user of the account can connect, or "".
func accountUnusable(ac *jwt.AccountClaims, now time.Time) string {
	if ac.Expires != 0 && ac.Expires <= now.Unix() {
		return "expired at " + cmdutil.FormatUnix(ac.Expires)
	}
	if ac.NotBefore != 0 && ac.NotBefore > now.Unix() {
		return "is not valid before " + cmdutil.FormatUnix(ac.NotBefore)
	}
	return ""
}

// credsIdentity is the user of a creds file (--creds). The file must hold a user JWT and that
// user's seed. The operator store that holds the user's account, if any (the current operator
// first), names the user and account and gives the service URLs.
func credsIdentity(f *cmdutil.Factory, path string) (*Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--creds: %w", err)
	}
	tok, err := jwt.ParseDecoratedJWT(data)
	if err != nil {
		return nil, fmt.Errorf("--creds %s: no JWT in it: %w", path, err)
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return nil, fmt.Errorf("--creds %s: its JWT is not a user JWT: %w", path, err)
	}
	kp, err := nkeys.ParseDecoratedNKey(data)
	if err != nil {
		return nil, fmt.Errorf("--creds %s: no seed in it: %w", path, err)
	}
	if pub, err := kp.PublicKey(); err != nil || pub != uc.Subject {
		return nil, fmt.Errorf("--creds %s: the seed is not that of the user %s in its JWT", path, uc.Subject)
	}
	accPub := uc.IssuerAccount
	if accPub == "" {
		accPub = uc.Issuer
	}
	id := &Identity{User: uc.Name, PublicKey: uc.Subject, JWT: tok, CredsFile: path, Account: accPub}
	if id.User == "" {
		id.User = uc.Subject
	}
	s, account := storeOfAccount(f, accPub)
	if s == nil {
		return id, nil
	}
	id.store, id.Operator, id.Account = s, s.Name(), account
	if oc, _, err := s.Operator(); err == nil {
		id.ServiceURLs = oc.OperatorServiceURLs
	}
	if name, err := s.FindUser(account, uc.Subject); err == nil {
		id.User = name
	}
	return id, nil
}

// storeOfAccount finds the operator store holding the account with public key pub: the current
// operator's, else any other; nil when none does.
func storeOfAccount(f *cmdutil.Factory, pub string) (*store.Store, string) {
	if s, err := f.Operator(""); err == nil {
		if name, err := s.FindAccount(pub); err == nil {
			return s, name
		}
	}
	stores, err := f.Stores()
	if err != nil {
		return nil, ""
	}
	ops, err := stores.Operators()
	if err != nil {
		return nil, ""
	}
	for _, op := range ops {
		s, err := stores.Open(op)
		if err != nil {
			continue
		}
		if name, err := s.FindAccount(pub); err == nil {
			return s, name
		}
	}
	return nil, ""
}

// identity resolves whom o connects as: the --creds file, else a user of the store.
func (o *ConnOptions) identity(f *cmdutil.Factory) (*Identity, error) {
	if o.Creds == "" {
		return ResolveIdentity(f, o.UserOptions)
	}
	if o.Account != "" || o.User != "" {
		return nil, errors.New("--creds names the user already: leave out -a/--account and -u/--user")
	}
	return credsIdentity(f, o.Creds)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// URLs are the servers to connect to: --nats/--server, else the operator's service URLs.
func (o *ConnOptions) URLs(id *Identity) (string, error) {
	if o.NatsURL != "" {
		return o.NatsURL, nil
	}
	if id.Operator == "" {
		return "", fmt.Errorf("the account %s of the user in %s is in no operator of this store, so its servers are unknown: pass --server URL", id.Account, id.CredsFile)
	}
	if len(id.ServiceURLs) == 0 {
		return "", fmt.Errorf("operator %q has no service URL: set one with `signet edit operator -n nats://...` or pass --nats/--server URL", id.Operator)
	}
	return strings.Join(id.ServiceURLs, ","), nil
}

// AuthOption authenticates as the user: the stored JWT with the keystore seed, else the creds file.
func (id *Identity) AuthOption() nats.Option {
	if id.Seed != nil {
		return nats.UserJWTAndSeed(id.JWT, string(id.Seed))
	}
	return nats.UserCredentials(id.CredsFile)
}

// storeRefusal is why, from what the store knows, a server refuses the user, with what to do:
// "user "alice" is revoked by account "APP" (...): ..."; "" when the store knows no reason.
func (id *Identity) storeRefusal(now time.Time) string {
	uc, err := jwt.DecodeUserClaims(id.JWT)
	if err != nil {
		return ""
	}
	var ac *jwt.AccountClaims
	if id.store != nil {
		if a, _, err := id.store.Account(id.Account); err == nil {
			ac = a
		}
	}
	why := refusal(ac, uc, now)
	switch {
	case why == "" && ac != nil:
		if why := accountUnusable(ac, now); why != "" {
			return fmt.Sprintf("account %q %s: renew it with `signet edit account %s --expiry ...`", id.Account, why, shellquote.Quote(id.Account))
		}
		return ""
	case why == "":
		return ""
	case ac != nil && ac.IsClaimRevoked(uc):
		return fmt.Sprintf("user %q %s: connect as another user (-u NAME), or lift the revocation with `signet revocations delete-user -a %s -n %s`",
			id.User, why, shellquote.Quote(id.Account), shellquote.Quote(id.User))
	case id.store != nil:
		return fmt.Sprintf("user %q %s: connect as another user (-u NAME), or re-issue it with `signet edit user %s -a %s --expiry ...`",
			id.User, why, shellquote.Quote(id.User), shellquote.Quote(id.Account))
	}
	return fmt.Sprintf("user %q %s", id.User, why)
}

// isAuthError says whether err is the server refusing the user (at connect or later).
func isAuthError(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) ||
		errors.Is(err, nats.ErrAccountAuthExpired)
}

// explain adds to a refusal by the server what the store says about it.
func (id *Identity) explain(err error, now time.Time) error {
	if !isAuthError(err) {
		return err
	}
	if why := id.storeRefusal(now); why != "" {
		return fmt.Errorf("%w: %s", err, why)
	}
	return err
}

// ctxDialer makes connecting honour the command's context (Ctrl-C while dialing) and keeps the
// last dial error, which nats.go hides behind "no servers available".
type ctxDialer struct {
	ctx context.Context
	d   net.Dialer

	mu      sync.Mutex
	lastErr error
}

func (c *ctxDialer) Dial(network, address string) (net.Conn, error) {
	conn, err := c.d.DialContext(c.ctx, network, address)
	if err != nil {
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		return nil, err
	}
	// nats.go waits for the server's INFO without a context: closing the socket ends that
	// wait (and any later read) as soon as the command is interrupted.
	context.AfterFunc(c.ctx, func() { conn.Close() })
	return conn, nil
}

func (c *ctxDialer) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Connect resolves the user and connects to the servers. The connection is closed when ctx ends
// only by the caller; Connect itself stops dialing when ctx is cancelled.
func Connect(ctx context.Context, f *cmdutil.Factory, o *ConnOptions) (*nats.Conn, *Identity, error) {
	tlsOpts, err := o.TLS.options()
	if err != nil {
		return nil, nil, err
	}
	id, err := o.identity(f)
	if err != nil {
		return nil, nil, err
	}
	urls, err := o.URLs(id)
	if err != nil {
		return nil, nil, err
	}
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	dialer := &ctxDialer{ctx: ctx, d: net.Dialer{Timeout: timeout}}
	nc, err := nats.Connect(urls, append(tlsOpts,
		id.AuthOption(),
		nats.Name("signet tool"),
		nats.Timeout(timeout),
		nats.SetCustomDialer(dialer),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			// Permission violations reach the command through LastError; others (slow
			// consumer, say) would otherwise go unseen.
			if !errors.Is(err, nats.ErrPermissionViolation) {
				f.IO.Warn("%v", err)
			}
		}),
	)...)
	if err != nil {
		return nil, nil, connectError(ctx, urls, id, err, dialer.err(), now(f))
	}
	return nc, id, nil
}

// connectError explains a failed connection: the server's own reason, and what to try next.
func connectError(ctx context.Context, urls string, id *Identity, err, dialErr error, now time.Time) error {
	who := fmt.Sprintf("user %q of account %q", id.User, id.Account)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("connect to %s: %w", urls, ctx.Err())
	case isAuthError(err):
		// What the store knows (a revocation, an expiry) is the likelier cause than trust.
		if why := id.storeRefusal(now); why != "" {
			return fmt.Errorf("connect to %s as %s: the server refused: %w: %s", urls, who, err, why)
		}
		if id.Operator == "" {
			return fmt.Errorf("connect to %s as %s: the server refused: %w (check that the servers trust the operator of account %s)", urls, who, err, id.Account)
		}
		return fmt.Errorf("connect to %s as %s: the server refused: %w (check that the servers trust operator %q and know account %q: `signet push -a %s`)",
			urls, who, err, id.Operator, id.Account, shellquote.Quote(id.Account))
	case errors.Is(err, nats.ErrNoServers):
		if dialErr != nil {
			err = fmt.Errorf("%w: %w", err, dialErr)
		}
		if cmdutil.Refused(err) {
			return fmt.Errorf("connect to %s as %s: %w (%s, or pass another with --nats/--server)", urls, who, err, cmdutil.RefusedHint(urls))
		}
		return fmt.Errorf("connect to %s as %s: %w (is a nats-server listening there? pass another with --nats/--server)", urls, who, err)
	}
	return fmt.Errorf("connect to %s as %s: %w", urls, who, err)
}
