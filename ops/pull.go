package ops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// PullRequest says which account JWTs to pull, and from where.
type PullRequest struct {
	Account string // one account of the store, by name or public key
	All     bool   // every account the servers have
	// URL is an account server (http(s)://) or nats-servers (nats://, tls://, ws://, wss://);
	// "" is the operator's account server URL.
	URL string
	// OverwriteNewer replaces local JWTs even when they are newer (by iat) than the servers'.
	OverwriteNewer bool
	HTTP           *http.Client // for account servers; nil is http.DefaultClient
	Dial           ResolverDial // for nats-servers
}

// SaveStatus is what SaveTrusted did with a pulled account JWT.
type SaveStatus int

const (
	Saved     SaveStatus = iota // stored (new, or replacing the local JWT)
	Same                        // the store already held this JWT
	KeptNewer                   // the local JWT is newer and was kept: a failure, as in nsc
	Missing                     // a local account the account server does not have (pull -A over HTTP): a failure, as in nsc
)

// PullRow is what became of one pulled account.
type PullRow struct {
	Account string // public key
	Name    string // the account's name in the store ("" when Err)
	Status  SaveStatus
	Err     error // the JWT was refused (not the operator's, not valid) and not stored
}

// PullResult is what became of a pull, one row per account in public-key order.
type PullResult struct {
	URL    string
	Rows   []PullRow
	Failed bool // a row has an Err, or is KeptNewer or Missing (nsc exits 1 for each)
}

// Pull fetches account JWTs from an account server or nats-server resolvers, then, under the
// store's lock, stores those the operator (or one of its signing keys, only those when it
// requires them) issued, through SaveTrusted. A JWT that is refused is a row with Err, not an
// error; servers that cannot be reached are a *ConnectError, and nothing is written.
func Pull(ctx context.Context, s *store.Store, ks keystore.KeyStore, req PullRequest) (*PullResult, error) {
	f, err := fetchAccounts(ctx, s, ks, req)
	if err != nil {
		return nil, err
	}
	return withLock(s, ks, func(l *Locked) (*PullResult, error) { return l.savePulled(f, req.OverwriteNewer) })
}

// Pull is Pull within the caller's locked step: the servers are asked while the lock is held.
func (l *Locked) Pull(ctx context.Context, req PullRequest) (*PullResult, error) {
	f, err := fetchAccounts(ctx, l.Store, l.KeyStore, req)
	if err != nil {
		return nil, err
	}
	return l.savePulled(f, req.OverwriteNewer)
}

// fetched is what the servers answered a pull.
type fetched struct {
	oc   *jwt.OperatorClaims
	url  string
	jwts map[string]string // public key -> JWT
	// want are the store's accounts (public key -> name) the servers were asked for one by
	// one: pull -A from an account server, which nsc asks for every local account, and fails
	// for each it lacks. A nats-server's pack is what it has; nsc asks for nothing more.
	want map[string]string
}

// fetchAccounts asks the servers for the account JWTs the request names.
func fetchAccounts(ctx context.Context, s *store.Store, ks keystore.KeyStore, req PullRequest) (*fetched, error) {
	if req.Account != "" && req.All {
		return nil, errors.New("give either -a ACCOUNT or -A, not both")
	}
	if req.Account == "" && !req.All {
		return nil, errors.New("give the account to pull, or all of them")
	}
	if req.HTTP == nil {
		req.HTTP = http.DefaultClient
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	u, err := ServerURL(oc, req.URL)
	if err != nil {
		return nil, err
	}
	unreachable := func(err error) error { return &ConnectError{URL: u, Err: err} }
	if !req.All {
		name, err := s.FindAccount(req.Account)
		if err != nil {
			return nil, err
		}
		ac, _, err := s.Account(name)
		if err != nil {
			return nil, err
		}
		tok, err := pullOne(ctx, s, ks, oc, u, ac.Subject, req)
		if err != nil {
			return nil, unreachable(err)
		}
		return &fetched{oc: oc, url: u, jwts: map[string]string{ac.Subject: tok}}, nil
	}
	if !IsNATSURL(u) {
		jwts, err := remote.PackHTTP(ctx, req.HTTP, u)
		if err != nil {
			return nil, unreachable(err)
		}
		want, err := accountsByKey(s)
		if err != nil {
			return nil, err
		}
		return &fetched{oc: oc, url: u, jwts: jwts, want: want}, nil
	}
	c, err := DialResolver(s, ks, oc, u, req.Dial)
	if err != nil {
		return nil, unreachable(err)
	}
	defer c.Close()
	jwts, err := c.Pack(ctx)
	if err != nil {
		return nil, err
	}
	return &fetched{oc: oc, url: u, jwts: jwts}, nil
}

func pullOne(ctx context.Context, s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, u, pub string, req PullRequest) (string, error) {
	if !IsNATSURL(u) {
		return remote.PullHTTP(ctx, req.HTTP, u, pub)
	}
	c, err := DialResolver(s, ks, oc, u, req.Dial)
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

// savePulled stores the fetched JWTs that the operator issued.
func (l *Locked) savePulled(f *fetched, overwriteNewer bool) (*PullResult, error) {
	// One read of the store: finding each pulled key by scanning every account made pull -A
	// quadratic (a minute and a half to restore 1,000 accounts).
	known, err := accountsByKey(l.Store)
	if err != nil {
		return nil, err
	}
	res := &PullResult{URL: f.url}
	for pub, name := range f.want {
		if _, ok := f.jwts[pub]; !ok {
			res.Rows = append(res.Rows, PullRow{Account: pub, Name: name, Status: Missing})
		}
	}
	for pub, tok := range f.jwts {
		name, status, err := saveTrusted(l.Store, f.oc, tok, overwriteNewer, known)
		res.Rows = append(res.Rows, PullRow{Account: pub, Name: name, Status: status, Err: err})
	}
	slices.SortFunc(res.Rows, func(a, b PullRow) int { return strings.Compare(a.Account, b.Account) })
	for _, r := range res.Rows {
		res.Failed = res.Failed || r.Err != nil || r.Status == KeptNewer || r.Status == Missing
	}
	return res, nil
}

// SaveTrusted stores a pulled account JWT after checking that the operator (or one of its
// signing keys, only those when it requires them) issued it, and returns the account's name.
// An existing account is found by public key; a new one is stored under the JWT's name. A
// local JWT newer (by iat) than the pulled one is kept unless overwriteNewer. It takes the
// store's lock.
func SaveTrusted(s *store.Store, token string, overwriteNewer bool) (string, SaveStatus, error) {
	unlock, err := s.Lock()
	if err != nil {
		return "", 0, err
	}
	defer unlock()
	return Held(s, keystore.KeyStore{}).SaveTrusted(token, overwriteNewer)
}

// SaveTrusted is SaveTrusted within the caller's locked step.
func (l *Locked) SaveTrusted(token string, overwriteNewer bool) (string, SaveStatus, error) {
	oc, _, err := l.Store.Operator()
	if err != nil {
		return "", 0, err
	}
	return saveTrusted(l.Store, oc, token, overwriteNewer, nil)
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
func saveTrusted(s *store.Store, oc *jwt.OperatorClaims, token string, overwriteNewer bool, known map[string]string) (string, SaveStatus, error) {
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
				return name, Same, nil
			}
			if local.IssuedAt > ac.IssuedAt && !overwriteNewer {
				return name, KeptNewer, nil
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
	return name, Saved, nil
}
