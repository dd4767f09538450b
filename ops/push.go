package ops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// ResolverDial is how push and pull reach nats-server resolvers: as a system-account user.
type ResolverDial struct {
	SystemUser    string // a user of the system account whose creds to connect with; "" makes a short-lived one
	SystemAccount string // another system account than the operator's (name or public key)
	Timeout       time.Duration
	Options       []nats.Option // more connection options (TLS)
}

// PushRequest says which account JWTs to push, and where.
type PushRequest struct {
	Account string // one account, by name or public key
	All     bool   // every account of the store (also implied by Prune and Diff without Account)
	// URL is an account server (http(s)://) or nats-servers (nats://, tls://, ws://, wss://);
	// "" is the operator's account server URL.
	URL   string
	Prune bool // delete accounts on the servers that the store no longer has
	Diff  bool // compare with the servers and change nothing
	// Remove deletes this account (name or public key) from nats-server resolvers.
	Remove string
	Signer string       // operator key for Prune and Remove; "" lets Signer choose
	HTTP   *http.Client // for account servers; nil is http.DefaultClient
	Dial   ResolverDial // for nats-servers
	// Progress, when set, hears how many accounts were pushed so far.
	Progress func(done, total int)
}

// PushResult is what became of a push. It is also push's JSON.
type PushResult struct {
	URL      string            `json:"url"`
	Accounts int               `json:"accounts"`
	HTTP     []HTTPPush        `json:"http,omitempty"`
	NATS     *remote.Summary   `json:"nats,omitempty"`
	Pruned   []string          `json:"pruned,omitempty"`
	Diff     []PushDiff        `json:"diff,omitempty"`
	Names    map[string]string `json:"-"` // public key -> account name
	// Rows say per account what became of it (pushed, pruned, removed, or why it failed); a
	// Diff has none.
	Rows []PushRow `json:"-"`
	// Failed: an account was not pushed (or pruned) everywhere.
	Failed bool `json:"-"`
	// Refused: nothing listened at an account server's URL.
	Refused bool `json:"-"`
}

// HTTPPush is the push of one account to an account server.
type HTTPPush struct {
	Account string `json:"account"`
	Name    string `json:"name"`
	Status  int    `json:"status,omitempty"`
	Pending bool   `json:"pending,omitempty"`
	Error   string `json:"error,omitempty"`
	Err     error  `json:"-"`
}

// PushDiff is one account in the comparison of the store with the servers.
type PushDiff struct {
	Account string `json:"account"`
	Name    string `json:"name,omitempty"`
	Action  string `json:"action"` // add, update, same, remote-newer, prune
}

// PushRow is one account and what became of it.
type PushRow struct {
	Name, Account, Result string
	Failed                bool
}

// ConnectError is a push or pull that could not connect to the nats-servers (Login: could not
// make the system-account user to connect as): nothing was sent.
type ConnectError struct {
	URL   string
	Login bool
	Err   error
}

func (e *ConnectError) Error() string { return e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// IsNATSURL reports whether u speaks the NATS protocol rather than HTTP.
func IsNATSURL(u string) bool {
	for _, p := range []string{"nats://", "tls://", "ws://", "wss://"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// ServerURL is the URL to push to or pull from: u, else the operator's account server URL.
func ServerURL(oc *jwt.OperatorClaims, u string) (string, error) {
	if u == "" {
		u = oc.AccountServerURL
	}
	if u == "" {
		return "", fmt.Errorf("operator %q has no account server URL: pass -u <url> or set one with `signet edit operator -u <url>`", oc.Name)
	}
	if !IsNATSURL(u) && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", fmt.Errorf("url %q: want http(s)://, nats://, tls://, ws:// or wss://", u)
	}
	return u, nil
}

// Push sends account JWTs to an account server or to nats-server resolvers, the way `signet
// push` does: one account or all, with Prune, Diff or Remove, and returns per account what
// became of it. It reads the store without its lock and writes nothing to it; an account the
// servers refused is in the result (Failed), not an error.
func Push(ctx context.Context, s *store.Store, ks keystore.KeyStore, req PushRequest) (*PushResult, error) {
	if req.Account == "" && !req.All {
		// prune makes sense only for the whole store; nsc's --diff compares the whole store too
		req.All = req.Prune || req.Diff
	}
	switch {
	case req.Account != "" && req.All:
		return nil, errors.New("give either -a ACCOUNT or -A, not both")
	case req.Remove != "" && (req.Prune || req.Diff):
		return nil, errors.New("--account-removal is exclusive of --prune and --diff")
	case req.Account == "" && !req.All && req.Remove == "":
		return nil, errors.New("give the account to push, or all of them")
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
	if req.Remove != "" && !IsNATSURL(u) {
		return nil, fmt.Errorf("--account-removal works with nats-server resolvers only (a nats:// URL), not %s", u)
	}
	tokens, names := map[string]string{}, map[string]string{}
	if req.Account != "" || req.All {
		if tokens, names, err = accountTokens(s, req.Account, req.All); err != nil {
			return nil, err
		}
	}
	p := &pusher{s: s, ks: ks, oc: oc, u: u, req: req, tokens: tokens,
		res: &PushResult{URL: u, Accounts: len(tokens), Names: names}}
	if IsNATSURL(u) {
		err = p.nats(ctx)
	} else {
		err = p.http(ctx)
	}
	if err != nil {
		return nil, err
	}
	return p.res, nil
}

// accountTokens loads the JWTs to push: one account or all of them (public key -> JWT, and
// public key -> name).
func accountTokens(s *store.Store, account string, all bool) (map[string]string, map[string]string, error) {
	var names []string
	if all {
		n, err := s.Accounts()
		if err != nil {
			return nil, nil, err
		}
		names = n
	} else {
		n, err := s.FindAccount(account)
		if err != nil {
			return nil, nil, err
		}
		names = []string{n}
	}
	tokens := map[string]string{}
	byPub := map[string]string{}
	for _, n := range names {
		tok, err := s.AccountJWT(n)
		if err != nil {
			return nil, nil, err
		}
		pub, err := store.PeekSubject(tok)
		if err != nil {
			return nil, nil, fmt.Errorf("account %q: %w", n, err)
		}
		tokens[pub] = tok
		byPub[pub] = n
	}
	return tokens, byPub, nil
}

// pusher is one push under way.
type pusher struct {
	s      *store.Store
	ks     keystore.KeyStore
	oc     *jwt.OperatorClaims
	u      string
	req    PushRequest
	tokens map[string]string
	res    *PushResult
}

// operatorKey is the key that signs delete requests (prune, removal).
func (p *pusher) operatorKey(what string) (nkeys.KeyPair, error) {
	kp, err := Signer(p.ks, OperatorIssuer(p.s.Name(), p.oc), p.req.Signer, "")
	if err != nil {
		return nil, fmt.Errorf("%s needs the operator key: %w", what, err)
	}
	return kp, nil
}

func (p *pusher) http(ctx context.Context) error {
	req, res := p.req, p.res
	pubs := sortedKeys(p.tokens)
	if req.Diff || req.Prune {
		remoteAll, err := remote.PackHTTP(ctx, req.HTTP, p.u)
		if err != nil {
			return &ConnectError{URL: p.u, Err: fmt.Errorf("list accounts on %s: %w", p.u, err)}
		}
		if req.Diff {
			res.Diff = diff(p.tokens, remoteAll, res.Names, req.Prune)
			return nil
		}
		var stale []string
		for pub := range remoteAll {
			if _, ok := p.tokens[pub]; !ok && pub != p.oc.SystemAccount {
				stale = append(stale, pub)
			}
		}
		sort.Strings(stale)
		if len(stale) > 0 {
			kp, err := p.operatorKey("--prune")
			if err != nil {
				return err
			}
			if err := remote.DeleteHTTP(ctx, req.HTTP, p.u, kp, stale); err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			res.Pruned = stale
		}
	}
	results := make([]HTTPPush, len(pubs))
	var wg gosync.WaitGroup
	var mu gosync.Mutex
	finished := 0
	sem := make(chan struct{}, 8)
	for i, pub := range pubs {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, pub string) {
			defer wg.Done()
			defer func() { <-sem }()
			r := HTTPPush{Account: pub, Name: res.Names[pub]}
			pr, err := remote.PushHTTP(ctx, req.HTTP, p.u, p.tokens[pub])
			r.Status, r.Pending = pr.Status, pr.Pending
			if err != nil {
				r.Error, r.Err = err.Error(), err
			}
			results[i] = r
			mu.Lock()
			finished++
			if req.Progress != nil {
				req.Progress(finished, len(pubs))
			}
			mu.Unlock()
		}(i, pub)
	}
	wg.Wait()
	res.HTTP = results
	for _, r := range results {
		res.Refused = res.Refused || Refused(r.Err)
		row := PushRow{Name: r.Name, Account: r.Account, Result: "pushed"}
		switch {
		case r.Err != nil:
			res.Failed = true
			row.Failed, row.Result = true, "failed: "+pushReason(r.Err)
		case r.Pending:
			row.Result = fmt.Sprintf("pushed, pending approval (%d)", r.Status)
		}
		res.Rows = append(res.Rows, row)
	}
	for _, pub := range res.Pruned {
		res.Rows = append(res.Rows, PushRow{Name: res.Names[pub], Account: pub, Result: "pruned"})
	}
	return nil
}

// pushReason says why a push to an account server failed, once: remote's errors carry the
// account key and the URL (which holds the key again), and the summary row names both already.
func pushReason(err error) string {
	var he *remote.HTTPError
	if errors.As(err, &he) {
		if he.Reason != "" {
			return fmt.Sprintf("%d %s", he.Status, he.Reason)
		}
		return fmt.Sprintf("%d %s", he.Status, http.StatusText(he.Status))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func (p *pusher) nats(ctx context.Context) error {
	req, res := p.req, p.res
	c, err := DialResolver(p.s, p.ks, p.oc, p.u, req.Dial)
	if err != nil {
		return err
	}
	defer c.Close()
	if req.Diff || req.Prune {
		remoteAll, err := c.Pack(ctx)
		if err != nil {
			return err
		}
		if req.Diff {
			res.Diff = diff(p.tokens, remoteAll, res.Names, req.Prune)
			return nil
		}
	}
	pubs := sortedKeys(p.tokens)
	list := make([]string, len(pubs))
	for i, pub := range pubs {
		list[i] = p.tokens[pub]
	}
	sum, err := c.PushAll(ctx, list, remote.PushOptions{Timeout: req.Dial.Timeout, Progress: req.Progress})
	if err != nil {
		return err
	}
	res.NATS = &sum
	res.Failed = !sum.OK()
	res.Rows = natsRows(sum, pubs, res.Names, "pushed")
	if req.Prune {
		lr, err := c.List(ctx)
		if err != nil {
			return err
		}
		var stale []string
		for _, pub := range lr.Union() {
			if _, ok := p.tokens[pub]; !ok && pub != p.oc.SystemAccount {
				stale = append(stale, pub)
			}
		}
		if len(stale) > 0 {
			if err := p.delete(ctx, c, stale, res.Names, "--prune", "prune", "pruned"); err != nil {
				return err
			}
		}
	}
	if req.Remove != "" {
		pub := req.Remove
		if !nkeys.IsValidPublicAccountKey(pub) {
			ac, err := p.account(pub)
			if err != nil {
				return fmt.Errorf("--account-removal: %w", err)
			}
			pub = ac.Subject
		}
		names := map[string]string{pub: res.Names[pub]}
		if names[pub] == "" {
			if n, err := p.s.FindAccount(pub); err == nil {
				names[pub] = n
			}
		}
		if err := p.delete(ctx, c, []string{pub}, names, "--account-removal", "--account-removal", "removed"); err != nil {
			return err
		}
	}
	return nil
}

// account is the store's account named by name or public key.
func (p *pusher) account(nameOrKey string) (*jwt.AccountClaims, error) {
	name, err := p.s.FindAccount(nameOrKey)
	if err != nil {
		return nil, err
	}
	ac, _, err := p.s.Account(name)
	return ac, err
}

// delete deletes accounts from the resolvers with a request signed by the operator key, and
// adds their rows.
func (p *pusher) delete(ctx context.Context, c *remote.Client, pubs []string, names map[string]string, flag, what, done string) error {
	kp, err := p.operatorKey(flag)
	if err != nil {
		return err
	}
	dsum, err := c.Delete(ctx, kp, pubs, remote.PushOptions{Timeout: p.req.Dial.Timeout})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !dsum.OK() {
		p.res.Failed = true
	}
	p.res.Pruned = append(p.res.Pruned, pubs...)
	p.res.Rows = append(p.res.Rows, natsRows(dsum, pubs, names, done)...)
	return nil
}

// natsRows turns a NATS push or delete summary into rows: per account, what (pushed, pruned,
// removed) unless a server refused it or did not answer in time; the servers that said the
// same are named together, the account once.
func natsRows(sum remote.Summary, pubs []string, names map[string]string, what string) []PushRow {
	type problem struct{ refused, message string } // refused "" = no answer
	servers := map[string]map[problem][]string{}   // account -> problem -> servers
	note := func(account string, p problem, server string) {
		if servers[account] == nil {
			servers[account] = map[problem][]string{}
		}
		servers[account][p] = append(servers[account][p], server)
	}
	answered := 0
	for _, sv := range sum.Servers {
		name := sv.Server.Name
		if name == "" {
			name = sv.Server.ID
		}
		if sv.Expected {
			answered++
		}
		for _, fl := range sv.Failures {
			note(fl.Account, problem{refused: "refused", message: fl.Message}, name)
		}
		for _, a := range sv.MissingAccounts {
			note(a, problem{}, name)
		}
	}
	done := what
	if answered > 1 {
		done += fmt.Sprintf(" (%d servers)", answered)
	}
	rows := make([]PushRow, 0, len(pubs))
	for _, p := range pubs {
		row := PushRow{Name: names[p], Account: p, Result: done}
		if probs := servers[p]; len(probs) > 0 {
			var msgs []string
			for pr, svs := range probs {
				if pr.refused == "" {
					msgs = append(msgs, "no answer from "+strings.Join(svs, ", ")+" before the timeout")
				} else {
					msgs = append(msgs, "refused by "+strings.Join(svs, ", ")+": "+pr.message)
				}
			}
			sort.Strings(msgs)
			row.Failed, row.Result = true, "failed: "+strings.Join(msgs, "; ")
		}
		rows = append(rows, row)
	}
	return rows
}

func diff(local, remoteAll map[string]string, names map[string]string, prune bool) []PushDiff {
	var out []PushDiff
	for _, pub := range sortedKeys(local) {
		d := PushDiff{Account: pub, Name: names[pub]}
		rt, ok := remoteAll[pub]
		switch {
		case !ok:
			d.Action = "add"
		case rt == local[pub]:
			d.Action = "same"
		default:
			d.Action = "update"
			lc, err1 := jwt.DecodeAccountClaims(local[pub])
			rc, err2 := jwt.DecodeAccountClaims(rt)
			if err1 == nil && err2 == nil && rc.IssuedAt > lc.IssuedAt {
				d.Action = "remote-newer"
			}
		}
		out = append(out, d)
	}
	if prune {
		for _, pub := range sortedKeys(remoteAll) {
			if _, ok := local[pub]; !ok {
				out = append(out, PushDiff{Account: pub, Action: "prune"})
			}
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
