package tool

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
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
	fs.StringVarP(&o.User, "user", "u", "", "user to connect as (name or public key; default: the account's first user with a key in the keystore)")
}

// ConnOptions say whom to connect as and where.
type ConnOptions struct {
	UserOptions
	// NatsURL overrides the operator's service URLs.
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

// AddFlags binds the user flags, --nats, --connect-timeout and the TLS flags.
func (o *ConnOptions) AddFlags(fs *pflag.FlagSet) {
	o.UserOptions.AddFlags(fs)
	fs.StringVar(&o.NatsURL, "nats", "", "NATS server URLs, comma separated (default: the operator's service URLs)")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", 5*time.Second, "time allowed to connect to a server")
	o.TLS.AddFlags(fs)
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
	// JWT is the stored user JWT.
	JWT string
	// Seed is the user's seed from the keystore, if the keystore holds it.
	Seed []byte
	// CredsFile is the user's creds file in the keystore, if it exists.
	CredsFile string
	// ServiceURLs are the operator's service URLs.
	ServiceURLs []string
}

// ResolveIdentity finds the user to act as: o.User (name or public key) in o.Account (or the
// current account), else the account's first user whose seed or creds file is in the keystore.
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
	id := &Identity{Operator: s.Name(), Account: account, ServiceURLs: oc.OperatorServiceURLs}
	if o.User != "" {
		name, err := s.FindUser(account, o.User)
		if err != nil {
			return nil, fmt.Errorf("%w: list them with `signet list users -a %s`", err, account)
		}
		id.User = name
	} else {
		name, err := firstUserWithKey(s, ks, account)
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
	if kp, err := ks.Get(uc.Subject); err == nil {
		seed, err := kp.Seed()
		if err != nil {
			return nil, fmt.Errorf("read seed of user %q: %w", id.User, err)
		}
		id.Seed = seed
	} else if !errors.Is(err, keystore.ErrNoKey) {
		return nil, fmt.Errorf("read key of user %q: %w", id.User, err)
	}
	if p := ks.CredsPath(id.Operator, account, id.User); fileExists(p) {
		id.CredsFile = p
	}
	if id.Seed == nil && id.CredsFile == "" {
		return nil, fmt.Errorf("user %q of account %q (%s) has neither a seed in the keystore %s nor a creds file: "+
			"pick another user with -u or create one with `signet add user -a %s NAME`", id.User, account, id.PublicKey, ks.Dir, account)
	}
	return id, nil
}

// firstUserWithKey returns the first user (by name) of the account whose seed or creds file the
// keystore holds.
func firstUserWithKey(s *store.Store, ks keystore.KeyStore, account string) (string, error) {
	users, err := s.ListUsers(account)
	if err != nil {
		return "", err
	}
	if len(users) == 0 {
		return "", fmt.Errorf("account %q has no users: add one with `signet add user -a %s NAME`", account, account)
	}
	for _, u := range users {
		if ks.Has(u.PublicKey) || fileExists(ks.CredsPath(s.Name(), account, u.Name)) {
			return u.Name, nil
		}
	}
	return "", fmt.Errorf("none of the %d users of account %q has a seed or creds file in the keystore %s: "+
		"pass -u USER or add a user with `signet add user -a %s NAME`", len(users), account, ks.Dir, account)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// URLs are the servers to connect to: --nats, else the operator's service URLs.
func (o *ConnOptions) URLs(id *Identity) (string, error) {
	if o.NatsURL != "" {
		return o.NatsURL, nil
	}
	if len(id.ServiceURLs) == 0 {
		return "", fmt.Errorf("operator %q has no service URL: set one with `signet edit operator -n nats://...` or pass --nats", id.Operator)
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
	id, err := ResolveIdentity(f, o.UserOptions)
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
		return nil, nil, connectError(ctx, urls, id, err, dialer.err())
	}
	return nc, id, nil
}

// connectError explains a failed connection: the server's own reason, and what to try next.
func connectError(ctx context.Context, urls string, id *Identity, err, dialErr error) error {
	who := fmt.Sprintf("user %q of account %q", id.User, id.Account)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("connect to %s: %w", urls, ctx.Err())
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked),
		errors.Is(err, nats.ErrAccountAuthExpired):
		return fmt.Errorf("connect to %s as %s: the server refused: %w (check that the servers trust operator %q and know account %q: `signet push -a %s`)",
			urls, who, err, id.Operator, id.Account, id.Account)
	case errors.Is(err, nats.ErrNoServers):
		if dialErr != nil {
			err = fmt.Errorf("%w: %w", err, dialErr)
		}
		return fmt.Errorf("connect to %s as %s: %w (is a nats-server listening there? pass another with --nats)", urls, who, err)
	}
	return fmt.Errorf("connect to %s as %s: %w", urls, who, err)
}
