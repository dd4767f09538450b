package sync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// PullOptions are the inputs of `pull`.
type PullOptions struct {
	Account        string
	All            bool
	URL            string
	OverwriteNewer bool
	Dial           DialOptions
}

func newCmdPull(f *cmdutil.Factory) *cobra.Command {
	o := &PullOptions{}
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Pull account JWTs from the account server or nats-server resolvers into the store",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunPull(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "pull this account (name or public key)")
	fs.BoolVarP(&o.All, "all", "A", false, "pull every account the server has")
	fs.StringVarP(&o.URL, "account-jwt-server-url", "u", "", "account server or NATS URL (default: the operator's account server URL)")
	fs.BoolVarP(&o.OverwriteNewer, "overwrite-newer", "F", false, "replace local JWTs even when they are newer than the server's")
	o.Dial.addFlags(fs, "how long to wait for servers")
	return cmd
}

// RunPull pulls account JWTs and stores the trusted ones.
func RunPull(ctx context.Context, f *cmdutil.Factory, o *PullOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Account != "" && o.All {
		return errors.New("give either -a ACCOUNT or -A, not both")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	oc, _, err := s.Operator()
	if err != nil {
		return err
	}
	u, err := ops.ServerURL(oc, o.URL)
	if err != nil {
		return err
	}
	var fetched map[string]string
	switch {
	case !o.All:
		name, err := f.Account(s, o.Account)
		if err != nil {
			return err
		}
		ac, _, err := s.Account(name)
		if err != nil {
			return err
		}
		tok, err := pullOne(ctx, f, s, oc, u, ac.Subject, o)
		if err != nil {
			return cmdutil.WithRefusedHint(err, u)
		}
		fetched = map[string]string{ac.Subject: tok}
	case ops.IsNATSURL(u):
		ks, err := f.KeyStore()
		if err != nil {
			return err
		}
		c, err := dialResolver(s, ks, oc, u, o.Dial)
		if err != nil {
			return cmdutil.WithRefusedHint(err, u)
		}
		defer c.Close()
		if fetched, err = c.Pack(ctx); err != nil {
			return err
		}
	default:
		if fetched, err = remote.PackHTTP(ctx, f.HTTP, u); err != nil {
			return cmdutil.WithRefusedHint(err, u)
		}
	}
	unlock, err := s.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	// One read of the store: finding each pulled key by scanning every account made pull -A
	// quadratic (a minute and a half to restore 1,000 accounts).
	known, err := accountsByKey(s)
	if err != nil {
		return err
	}
	var failed bool
	for _, pub := range slices.Sorted(maps.Keys(fetched)) {
		name, status, err := saveTrusted(s, oc, fetched[pub], o.OverwriteNewer, known)
		switch {
		case err != nil:
			failed = true
			fmt.Fprintf(f.IO.ErrOut, "[ERR ] account %s: %v\n", pub, err)
		case status == saveKeptNewer:
			f.IO.Warn("kept local account %q: it is newer than the server's (pass --overwrite-newer to replace it)", name)
		case status == saveSame:
			f.IO.OK("account %q is up to date", name)
		default:
			f.IO.OK("pulled account %q from %s", name, u)
		}
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

func pullOne(ctx context.Context, f *cmdutil.Factory, s *store.Store, oc *jwt.OperatorClaims, u, pub string, o *PullOptions) (string, error) {
	if !ops.IsNATSURL(u) {
		return remote.PullHTTP(ctx, f.HTTP, u, pub)
	}
	ks, err := f.KeyStore()
	if err != nil {
		return "", err
	}
	c, err := dialResolver(s, ks, oc, u, o.Dial)
	if err != nil {
		return "", err
	}
	defer c.Close()
	// One account: ask for it alone rather than packing the servers' whole store.
	tok, err := c.Lookup(ctx, pub)
	if err != nil {
		return "", fmt.Errorf("%w (on %s)", err, u)
	}
	return tok, nil
}

type saveStatus int

const (
	saveWritten saveStatus = iota
	saveSame
	saveKeptNewer
)

// SaveTrusted stores a pulled account JWT after checking that the operator (or one of its
// signing keys) issued it. An existing account is found by public key; a new one is stored
// under the JWT's name. A local JWT newer (by iat) than the pulled one is kept unless
// overwriteNewer. The caller holds the store lock.
func SaveTrusted(s *store.Store, oc *jwt.OperatorClaims, token string, overwriteNewer bool) (string, saveStatus, error) {
	return saveTrusted(s, oc, token, overwriteNewer, nil)
}

// accountsByKey maps the public key of every account of the store to its name.
func accountsByKey(s *store.Store) (map[string]string, error) {
	names, err := s.Accounts()
	if err != nil {
		return nil, err
	}
	known := make(map[string]string, len(names))
	for _, n := range names {
		tok, err := s.AccountJWT(n)
		if err != nil {
			return nil, err
		}
		if pub, err := store.PeekSubject(tok); err == nil {
			known[pub] = n
		}
	}
	return known, nil
}

// saveTrusted is SaveTrusted; known, when not nil, maps the store's account keys to names (from
// accountsByKey) and is kept current, so that many saves read the store once.
func saveTrusted(s *store.Store, oc *jwt.OperatorClaims, token string, overwriteNewer bool, known map[string]string) (string, saveStatus, error) {
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return "", 0, fmt.Errorf("not a valid account JWT: %w", err)
	}
	if ac.Issuer != oc.Subject && !slices.Contains(oc.SigningKeys, ac.Issuer) {
		return "", 0, fmt.Errorf("issued by %s, which is not operator %q or one of its signing keys: refused", ac.Issuer, oc.Name)
	}
	if oc.StrictSigningKeyUsage && ac.Issuer == oc.Subject {
		return "", 0, fmt.Errorf("signed by the operator identity key, but operator %q requires signing keys: refused", oc.Name)
	}
	var name string
	if known == nil {
		name, err = s.FindAccount(ac.Subject)
	} else if name = known[ac.Subject]; name == "" {
		name, err = ac.Subject, nil // FindAccount's last resort: a folder named after the key
		if !s.HasAccount(name) {
			err = store.ErrNotFound
		}
	}
	if err == nil {
		local, localTok, err := s.Account(name)
		if err == nil {
			if localTok == token {
				return name, saveSame, nil
			}
			if local.IssuedAt > ac.IssuedAt && !overwriteNewer {
				return name, saveKeptNewer, nil
			}
		}
	} else {
		name = ac.Name
		if err := store.ValidateName(name); err != nil {
			name = ac.Subject
		}
		if s.HasAccount(name) {
			name = name + "_" + ac.Subject[:8]
		}
	}
	if err := s.SaveAccount(name, token); err != nil {
		return "", 0, err
	}
	if known != nil {
		known[ac.Subject] = name
	}
	return name, saveWritten, nil
}
