package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/internal/cli/tool"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// PushOptions are the inputs of `push`.
type PushOptions struct {
	Account string
	All     bool
	URL     string
	Prune   bool
	Diff    bool
	JSON    bool
	Signer  string
	// Remove is nsc's --account-removal/-R: delete this account (name or public key) from the
	// nats-server resolvers.
	Remove string
	// Force is nsc's --force/-F; signet does not hold accounts back before a push (the servers
	// judge them), so it changes nothing.
	Force bool
	Dial  DialOptions
}

// DialOptions are how push and pull reach nats-server resolvers: the system account user, the
// wait for answers, and nsc's client TLS flags.
type DialOptions struct {
	SystemUser    string
	SystemAccount string // nsc's --system-account: another system account than the operator's
	Timeout       time.Duration
	TLS           tool.TLSOptions
}

func (d *DialOptions) addFlags(fs *pflag.FlagSet, timeoutUsage string) {
	fs.StringVar(&d.SystemUser, "system-user", "", "system account user whose creds to connect with (default: a short-lived user signed by a system account key)")
	fs.StringVar(&d.SystemAccount, "system-account", "", "system account (name or public key) of the nats-servers (default: the operator's)")
	d.Timeout = 5 * time.Second
	fs.Var(compat.SecondsOrDuration(&d.Timeout), "timeout", timeoutUsage+" (a duration such as 5s, or whole seconds as in nsc)")
	d.TLS.AddFlags(fs)
}

func newCmdPush(f *cmdutil.Factory) *cobra.Command {
	o := &PushOptions{}
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Push account JWTs to the account server or to nats-server resolvers",
		Long: `Push account JWTs. The URL decides the transport: http(s):// talks to an account
server (signet serve, nats-account-server); nats://, tls://, ws://, wss:// talk nats-server's
resolver protocol as a short-lived system-account user. Without -u the operator's account
server URL is used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunPush(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "push this account (name or public key)")
	fs.BoolVarP(&o.All, "all", "A", false, "push every account")
	fs.StringVarP(&o.URL, "account-jwt-server-url", "u", "", "account server or NATS URL (default: the operator's account server URL)")
	fs.BoolVarP(&o.Prune, "prune", "P", false, "delete accounts on the servers that the store no longer has (needs the operator key)")
	fs.BoolVarP(&o.Diff, "diff", "D", false, "show what push would change, and change nothing")
	fs.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key for --prune and --account-removal delete requests")
	fs.StringVarP(&o.Remove, "account-removal", "R", "", "delete this account (name or public key) from nats-server resolvers (nats:// URLs; exclusive of --prune and --diff)")
	fs.BoolVarP(&o.Force, "force", "F", false, "nsc's: push despite validation issues; signet never holds accounts back (the servers judge them)")
	o.Dial.addFlags(fs, "how long to wait for servers that have not answered")
	return cmd
}

// isNATSURL reports whether u speaks the NATS protocol rather than HTTP.
func isNATSURL(u string) bool {
	for _, p := range []string{"nats://", "tls://", "ws://", "wss://"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

func targetURL(oc *jwt.OperatorClaims, flag string) (string, error) {
	u := flag
	if u == "" {
		u = oc.AccountServerURL
	}
	if u == "" {
		return "", fmt.Errorf("operator %q has no account server URL: pass -u <url> or set one with `signet edit operator -u <url>`", oc.Name)
	}
	if !isNATSURL(u) && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", fmt.Errorf("url %q: want http(s)://, nats://, tls://, ws:// or wss://", u)
	}
	return u, nil
}

// accountTokens loads the JWTs to push: one account or all of them (public key -> JWT, and
// public key -> name).
func accountTokens(f *cmdutil.Factory, s *store.Store, account string, all bool) (map[string]string, map[string]string, error) {
	var names []string
	if all {
		n, err := s.Accounts()
		if err != nil {
			return nil, nil, err
		}
		names = n
	} else {
		n, err := f.Account(s, account)
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

// pushReport is the JSON form of a push.
type pushReport struct {
	URL      string            `json:"url"`
	Accounts int               `json:"accounts"`
	HTTP     []httpPushResult  `json:"http,omitempty"`
	NATS     *remote.Summary   `json:"nats,omitempty"`
	Pruned   []string          `json:"pruned,omitempty"`
	Diff     []diffLine        `json:"diff,omitempty"`
	Names    map[string]string `json:"-"`
}

type httpPushResult struct {
	Account string `json:"account"`
	Name    string `json:"name"`
	Status  int    `json:"status,omitempty"`
	Pending bool   `json:"pending,omitempty"`
	Error   string `json:"error,omitempty"`
	// refused: nothing listened at the URL (the hint is printed once, not per account).
	refused bool
	// reason is the error said once, without the account key and URL the error repeats.
	reason string
}

type diffLine struct {
	Account string `json:"account"`
	Name    string `json:"name,omitempty"`
	Action  string `json:"action"` // add, update, same, older-remote-newer, prune
}

// RunPush pushes account JWTs.
func RunPush(ctx context.Context, f *cmdutil.Factory, o *PushOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Account == "" && !o.All {
		// prune makes sense only for the whole store; nsc's --diff compares the whole store too
		o.All = o.Prune || o.Diff
	}
	if o.Account != "" && o.All {
		return errors.New("give either -a ACCOUNT or -A, not both")
	}
	if o.Remove != "" && (o.Prune || o.Diff) {
		return errors.New("--account-removal is exclusive of --prune and --diff")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	oc, _, err := s.Operator()
	if err != nil {
		return err
	}
	u, err := targetURL(oc, o.URL)
	if err != nil {
		return err
	}
	if o.Remove != "" && !isNATSURL(u) {
		return fmt.Errorf("--account-removal works with nats-server resolvers only (a nats:// URL), not %s", u)
	}
	tokens, names := map[string]string{}, map[string]string{}
	if o.Remove == "" || o.Account != "" || o.All {
		if tokens, names, err = accountTokens(f, s, o.Account, o.All); err != nil {
			return err
		}
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	rep := &pushReport{URL: u, Accounts: len(tokens), Names: names}
	var failed bool
	if isNATSURL(u) {
		failed, err = pushNATS(ctx, f, s, ks, oc, u, tokens, o, rep)
	} else {
		failed, err = pushHTTP(ctx, f, s, ks, oc, u, tokens, o, rep)
	}
	if err != nil {
		return err
	}
	if o.JSON {
		if err := cmdutil.PrintJSON(f.IO.Out, rep); err != nil {
			return err
		}
	}
	if failed {
		if !o.JSON {
			fmt.Fprintln(f.IO.ErrOut, "push: some updates failed (see the summary)")
		}
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// progress returns a progress callback: a bar on a terminal, a few plain lines otherwise.
func progress(f *cmdutil.Factory, total int, what string, quiet bool) (func(done, total int), func()) {
	if quiet || total < 2 {
		return nil, func() {}
	}
	if f.IO.TTY {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(f.IO.ErrOut), progressbar.OptionSetDescription(what), progressbar.OptionShowCount())
		return func(done, _ int) { _ = bar.Set(done) }, func() { _ = bar.Finish(); fmt.Fprintln(f.IO.ErrOut) }
	}
	step := total / 10
	if step == 0 {
		step = 1
	}
	last := 0
	return func(done, total int) {
		if done-last >= step || done == total {
			last = done
			fmt.Fprintf(f.IO.ErrOut, "%s: %d/%d\n", what, done, total)
		}
	}, func() {}
}

func pushHTTP(ctx context.Context, f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, u string, tokens map[string]string, o *PushOptions, rep *pushReport) (bool, error) {
	pubs := sortedKeys(tokens)
	if o.Diff || o.Prune {
		remoteAll, err := remote.PackHTTP(ctx, f.HTTP, u)
		if err != nil {
			return false, fmt.Errorf("list accounts on %s: %w", u, cmdutil.WithRefusedHint(err, u))
		}
		if o.Diff {
			rep.Diff = diff(tokens, remoteAll, rep.Names, o.Prune)
			printDiff(f, rep.Diff, o.JSON)
			return false, nil
		}
		var stale []string
		for pub := range remoteAll {
			if _, ok := tokens[pub]; !ok && pub != oc.SystemAccount {
				stale = append(stale, pub)
			}
		}
		sort.Strings(stale)
		if len(stale) > 0 {
			kp, err := ops.Signer(ks, ops.OperatorIssuer(s.Name(), oc), o.Signer, "")
			if err != nil {
				return false, fmt.Errorf("--prune needs the operator key: %w", err)
			}
			if err := remote.DeleteHTTP(ctx, f.HTTP, u, kp, stale); err != nil {
				return false, fmt.Errorf("prune: %w", err)
			}
			rep.Pruned = stale
		}
	}
	results := make([]httpPushResult, len(pubs))
	prog, done := progress(f, len(pubs), "push", o.JSON)
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
			r := httpPushResult{Account: pub, Name: rep.Names[pub]}
			res, err := remote.PushHTTP(ctx, f.HTTP, u, tokens[pub])
			r.Status, r.Pending = res.Status, res.Pending
			if err != nil {
				r.Error, r.refused, r.reason = err.Error(), cmdutil.Refused(err), pushReason(err)
			}
			results[i] = r
			mu.Lock()
			finished++
			if prog != nil {
				prog(finished, len(pubs))
			}
			mu.Unlock()
		}(i, pub)
	}
	wg.Wait()
	done()
	rep.HTTP = results
	failed, refused := false, false
	var rows []pushRow
	for _, r := range results {
		refused = refused || r.refused
		row := pushRow{Name: r.Name, Account: r.Account, Result: "pushed"}
		switch {
		case r.Error != "":
			failed = true
			row.Failed, row.Result = true, "failed: "+r.reason
		case r.Pending:
			row.Result = fmt.Sprintf("pushed, pending approval (%d)", r.Status)
		}
		rows = append(rows, row)
	}
	for _, p := range rep.Pruned {
		rows = append(rows, pushRow{Name: rep.Names[p], Account: p, Result: "pruned"})
	}
	if !o.JSON {
		printPushSummary(f.IO.Out, u, rows)
		if refused {
			fmt.Fprintf(f.IO.ErrOut, "push: %s\n", cmdutil.RefusedHint(u))
		}
	}
	return failed, nil
}

// pushRow is one line of push's summary: an account and what became of it.
type pushRow struct {
	Name, Account, Result string
	Failed                bool
}

// printPushSummary prints the one summary of a push, over HTTP or NATS alike: a row per
// account, the failures first, each group sorted by name then key.
func printPushSummary(w io.Writer, u string, rows []pushRow) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Failed != b.Failed {
			return a.Failed
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Account < b.Account
	})
	nFailed := 0
	for _, r := range rows {
		if r.Failed {
			nFailed++
		}
	}
	title := fmt.Sprintf("Push to %s: %s", u, plural.N(len(rows), "account"))
	if nFailed > 0 {
		title += fmt.Sprintf(", %d failed", nFailed)
	}
	t := cmdutil.NewTable(title)
	t.AppendHeader([]any{"Account", "Public Key", "Result"})
	for _, r := range rows {
		t.AppendRow([]any{r.Name, r.Account, r.Result})
	}
	cmdutil.RenderTable(w, t)
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

// natsRows turns a NATS push or delete summary into summary rows: per account, what (pushed,
// pruned, removed) unless a server refused it or did not answer in time; the servers that said
// the same are named together, the account once.
func natsRows(sum remote.Summary, pubs []string, names map[string]string, what string) []pushRow {
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
	rows := make([]pushRow, 0, len(pubs))
	for _, p := range pubs {
		row := pushRow{Name: names[p], Account: p, Result: done}
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

func diff(local, remoteAll map[string]string, names map[string]string, prune bool) []diffLine {
	var out []diffLine
	for _, pub := range sortedKeys(local) {
		d := diffLine{Account: pub, Name: names[pub]}
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
				out = append(out, diffLine{Account: pub, Action: "prune"})
			}
		}
	}
	return out
}

func printDiff(f *cmdutil.Factory, lines []diffLine, asJSON bool) {
	if asJSON {
		return
	}
	t := cmdutil.NewTable("Push Diff")
	t.AppendHeader([]any{"Account", "Name", "Action"})
	for _, d := range lines {
		t.AppendRow([]any{d.Account, d.Name, d.Action})
	}
	cmdutil.RenderTable(f.IO.Out, t)
}

// SystemConn builds the NATS options of a system-account user: a named user's creds, or a
// short-lived user signed by a non-scoped system account key from the keystore.
func SystemConn(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, systemUser string) ([]nats.Option, error) {
	if oc.SystemAccount == "" {
		return nil, fmt.Errorf("operator %q has no system account: set one with `signet edit operator --system-account SYS`", oc.Name)
	}
	sysName, err := s.FindAccount(oc.SystemAccount)
	if err != nil {
		// The store may have lost its accounts (pull restores them): the keystore may still
		// hold the system account's key.
		if kp, kerr := ks.Get(oc.SystemAccount); kerr == nil && systemUser == "" {
			tok, seed, err := remote.SystemUser(kp, oc.SystemAccount, 2*time.Minute)
			if err != nil {
				return nil, err
			}
			return []nats.Option{nats.UserJWTAndSeed(tok, string(seed))}, nil
		}
		return nil, fmt.Errorf("system account %s is not in the store: %w", oc.SystemAccount, err)
	}
	if systemUser != "" {
		uname, err := s.FindUser(sysName, systemUser)
		if err != nil {
			return nil, fmt.Errorf("--system-user: %w", err)
		}
		uc, tok, err := s.User(sysName, uname)
		if err != nil {
			return nil, err
		}
		kp, err := ks.Get(uc.Subject)
		if err != nil {
			return nil, fmt.Errorf("--system-user %q: %w", uname, err)
		}
		seed, _ := kp.Seed()
		return []nats.Option{nats.UserJWTAndSeed(tok, string(seed))}, nil
	}
	ac, _, err := s.Account(sysName)
	if err != nil {
		return nil, err
	}
	var signer nkeys.KeyPair
	candidates := []string{ac.Subject}
	for pub, scope := range ac.SigningKeys {
		if scope == nil {
			candidates = append(candidates, pub)
		}
	}
	for _, pub := range candidates {
		if kp, err := ks.Get(pub); err == nil {
			signer = kp
			break
		}
	}
	if signer == nil {
		return nil, fmt.Errorf("the keystore holds no non-scoped key of system account %q: pass --system-user NAME (a user of %q with creds)", sysName, sysName)
	}
	tok, seed, err := remote.SystemUser(signer, ac.Subject, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	return []nats.Option{nats.UserJWTAndSeed(tok, string(seed))}, nil
}

// dialResolver connects to the nats-servers at u as a system-account user (see SystemConn).
func dialResolver(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, u string, d DialOptions) (*remote.Client, error) {
	if d.SystemAccount != "" {
		pub := d.SystemAccount
		if !nkeys.IsValidPublicAccountKey(pub) {
			name, err := s.FindAccount(pub)
			if err != nil {
				return nil, fmt.Errorf("--system-account: %w", err)
			}
			ac, _, err := s.Account(name)
			if err != nil {
				return nil, err
			}
			pub = ac.Subject
		}
		other := *oc
		other.SystemAccount = pub
		oc = &other
	}
	opts, err := SystemConn(s, ks, oc, d.SystemUser)
	if err != nil {
		return nil, err
	}
	tlsOpts, err := d.TLS.NATSOptions()
	if err != nil {
		return nil, err
	}
	c, err := remote.Dial(u, append(opts, tlsOpts...)...)
	if err != nil {
		return nil, err
	}
	c.Timeout = d.Timeout
	return c, nil
}

func pushNATS(ctx context.Context, f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims, u string, tokens map[string]string, o *PushOptions, rep *pushReport) (bool, error) {
	c, err := dialResolver(s, ks, oc, u, o.Dial)
	if err != nil {
		return false, cmdutil.WithRefusedHint(err, u)
	}
	defer c.Close()
	if o.Diff || o.Prune {
		remoteAll, err := c.Pack(ctx)
		if err != nil {
			return false, err
		}
		if o.Diff {
			rep.Diff = diff(tokens, remoteAll, rep.Names, o.Prune)
			printDiff(f, rep.Diff, o.JSON)
			return false, nil
		}
	}
	pubs := sortedKeys(tokens)
	list := make([]string, len(pubs))
	for i, p := range pubs {
		list[i] = tokens[p]
	}
	prog, done := progress(f, len(list), "push", o.JSON)
	sum, err := c.PushAll(ctx, list, remote.PushOptions{Timeout: o.Dial.Timeout, Progress: prog})
	done()
	if err != nil {
		return false, err
	}
	rep.NATS = &sum
	failed := !sum.OK()
	rows := natsRows(sum, pubs, rep.Names, "pushed")
	if o.Prune {
		lr, err := c.List(ctx)
		if err != nil {
			return false, err
		}
		var stale []string
		for _, pub := range lr.Union() {
			if _, ok := tokens[pub]; !ok && pub != oc.SystemAccount {
				stale = append(stale, pub)
			}
		}
		if len(stale) > 0 {
			kp, err := ops.Signer(ks, ops.OperatorIssuer(s.Name(), oc), o.Signer, "")
			if err != nil {
				return false, fmt.Errorf("--prune needs the operator key: %w", err)
			}
			dsum, err := c.Delete(ctx, kp, stale, remote.PushOptions{Timeout: o.Dial.Timeout})
			if err != nil {
				return false, fmt.Errorf("prune: %w", err)
			}
			if !dsum.OK() {
				failed = true
			}
			rep.Pruned = stale
			rows = append(rows, natsRows(dsum, stale, rep.Names, "pruned")...)
		}
	}
	if o.Remove != "" {
		pub := o.Remove
		if !nkeys.IsValidPublicAccountKey(pub) {
			name, err := s.FindAccount(pub)
			if err != nil {
				return false, fmt.Errorf("--account-removal: %w", err)
			}
			ac, _, err := s.Account(name)
			if err != nil {
				return false, err
			}
			pub = ac.Subject
		}
		kp, err := ops.Signer(ks, ops.OperatorIssuer(s.Name(), oc), o.Signer, "")
		if err != nil {
			return false, fmt.Errorf("--account-removal needs the operator key: %w", err)
		}
		dsum, err := c.Delete(ctx, kp, []string{pub}, remote.PushOptions{Timeout: o.Dial.Timeout})
		if err != nil {
			return false, fmt.Errorf("--account-removal: %w", err)
		}
		if !dsum.OK() {
			failed = true
		}
		rep.Pruned = append(rep.Pruned, pub)
		names := map[string]string{pub: rep.Names[pub]}
		if names[pub] == "" {
			if n, err := s.FindAccount(pub); err == nil {
				names[pub] = n
			}
		}
		rows = append(rows, natsRows(dsum, []string{pub}, names, "removed")...)
	}
	if !o.JSON {
		printPushSummary(f.IO.Out, u, rows)
	}
	return failed, nil
}
