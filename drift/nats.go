package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/remote"
)

// The system-account subjects asked besides remote's: every server's loaded accounts, and one
// server's view of one account (with the JWT it runs).
const (
	subjectAccountzPing   = "$SYS.REQ.SERVER.PING.ACCOUNTZ"
	subjectAccountzDirect = "$SYS.REQ.SERVER.%s.ACCOUNTZ"
	subjectSubszDirect    = "$SYS.REQ.SERVER.%s.SUBSZ"
	// subjectLookupSub is the subscription a full resolver answers lookups on; a cache
	// resolver has none (nats-server's CacheDirAccResolver.Start subscribes LIST, UPDATE and
	// DELETE only).
	subjectLookupSub = "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP"
)

// drainIdle is how long answers keep being read after every expected one arrived: a signet
// serve on the same system account answers lookups too, and its answer may come first.
const drainIdle = 150 * time.Millisecond

// apiResponse is nats-server's ServerAPIResponse around an Accountz.
type apiResponse struct {
	Server remote.ServerInfo `json:"server"`
	Data   struct {
		SystemAccount string   `json:"system_account"`
		Accounts      []string `json:"accounts"`
		Detail        *struct {
			JWT string `json:"jwt"`
		} `json:"account_detail"`
		// Subs is a Subsz's subscriptions_list.
		Subs []struct {
			Subject string `json:"subject"`
			Cid     uint64 `json:"cid"`
		} `json:"subscriptions_list"`
	} `json:"data"`
	Error *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

// askServers reads what every server reachable through url holds, one holding per server.
func askServers(ctx context.Context, url string, opts []nats.Option, timeout time.Duration) []holding {
	failed := func(err error) []holding {
		return []holding{{source: Source{Kind: KindNATSServer, Name: url, URL: url, Error: err.Error()}}}
	}
	c, err := remote.Dial(url, opts...)
	if err != nil {
		return failed(err)
	}
	defer c.Close()
	c.Timeout = timeout
	servers, err := c.Servers(ctx)
	if err != nil {
		return failed(err)
	}
	hs := make([]holding, len(servers))
	byID := map[string]*holding{}
	for i, s := range servers {
		name := s.Name
		if name == "" {
			name = s.ID
		}
		hs[i] = holding{
			source:    Source{Kind: KindNATSServer, Name: name, ID: s.ID, URL: url, Resolver: ResolverLoaded},
			accounts:  map[string]string{},
			ambiguous: map[string]string{},
		}
		byID[s.ID] = &hs[i]
	}

	// What each full or cache resolver holds. Answers of other responders (a signet serve on
	// the same system account answers LIST as well) are left out: they are not in byID.
	lists, err := c.List(ctx)
	if err != nil && !errors.Is(err, remote.ErrNoResponders) {
		return failAll(hs, err)
	}
	listed := map[string][]string{}
	for _, l := range lists.Servers {
		if byID[l.Server.ID] != nil {
			listed[l.Server.ID] = l.Accounts
		}
	}

	nc := c.Conn()
	loaded, system, err := loadedAccounts(ctx, nc, byID, timeout)
	if err != nil {
		return failAll(hs, err)
	}
	kinds, err := resolverKinds(ctx, nc, listed, system, timeout)
	if err != nil {
		return failAll(hs, err)
	}
	holders := map[string][]*holding{}
	var direct []directAsk
	nfull := 0
	for i := range hs {
		h := &hs[i]
		id := h.source.ID
		accs, isDir := listed[id]
		switch {
		case !isDir:
			// URL or memory resolver: what it has loaded is all that can be seen.
			for _, pub := range loaded[id] {
				direct = append(direct, directAsk{h: h, pub: pub})
			}
		case kinds[id] == ResolverCache:
			// A cache resolver answers no lookup: the JWT it holds is read through accountz, for
			// the accounts it has loaded (it loads an account from its directory, so a loaded
			// account runs the JWT it holds).
			h.source.Resolver = ResolverCache
			isLoaded := map[string]bool{}
			for _, pub := range loaded[id] {
				isLoaded[pub] = true
			}
			for _, pub := range accs {
				h.accounts[pub] = ""
				if isLoaded[pub] {
					direct = append(direct, directAsk{h: h, pub: pub})
				}
			}
		default:
			h.source.Resolver = ResolverDirectory
			h.complete = true
			nfull++
			if kinds[id] == "" {
				h.source.Note = fmt.Sprintf("whether it runs a full or a cache resolver could not be told (no answer to %s): taken as a full resolver, so an account it lacks is missing", fmt.Sprintf(subjectSubszDirect, id))
			}
			for _, pub := range accs {
				h.accounts[pub] = ""
				holders[pub] = append(holders[pub], h)
			}
		}
	}

	pubs := make([]string, 0, len(holders))
	for pub := range holders {
		pubs = append(pubs, pub)
	}
	sort.Strings(pubs)
	answers, err := lookup(ctx, nc, pubs, nfull, timeout)
	if err != nil {
		return failAll(hs, err)
	}
	// A lookup answer does not say which server sent it. When the full resolvers agree, every
	// one that lists the account holds that JWT; when they do not, one that has the account
	// loaded tells its own through accountz, and what is left is attributed by elimination.
	var disputed []int
	for i, pub := range pubs {
		if d := distinct(answers[i]); len(d) == 1 {
			for _, h := range holders[pub] {
				h.accounts[pub] = d[0]
			}
			continue
		}
		disputed = append(disputed, i)
		for _, h := range holders[pub] {
			if slices.Contains(loaded[h.source.ID], pub) {
				direct = append(direct, directAsk{h: h, pub: pub})
			}
		}
	}
	if err := accountz(ctx, nc, direct, timeout); err != nil {
		return failAll(hs, err)
	}
	for _, i := range disputed {
		pub := pubs[i]
		left := answers[i]
		var open []*holding
		for _, h := range holders[pub] {
			if tok := h.accounts[pub]; tok != "" {
				left = removeOne(left, tok)
			} else {
				open = append(open, h)
			}
		}
		d := distinct(left)
		for _, h := range open {
			if len(d) == 1 {
				h.accounts[pub] = d[0]
				continue
			}
			h.ambiguous[pub] = ambiguity(answers[i])
		}
	}
	for i := range hs {
		h := &hs[i]
		if h.complete {
			continue
		}
		// Accounts without a JWT to show are left out: loaded ones whose accountz was refused,
		// and a cache resolver's accounts that are not loaded.
		unread := 0
		for pub, tok := range h.accounts {
			if tok == "" {
				delete(h.accounts, pub)
				unread++
			}
		}
		if h.source.Resolver == ResolverCache && unread > 0 {
			h.source.Note = fmt.Sprintf("%s in its cache not compared: a cache resolver answers no lookup, so only the JWTs of the accounts it has loaded can be read (it runs the others as cached when a user comes)", plural.N(unread, "account"))
		}
	}
	return hs
}

// failAll marks every server's holding as unread, for err.
func failAll(hs []holding, err error) []holding {
	for i := range hs {
		hs[i].source.Error = err.Error()
	}
	return hs
}

// resolverKinds tells, for each server that answered LIST, whether it runs a full resolver
// (ResolverDirectory) or a cache resolver (ResolverCache); a server whose answers do not tell
// is left out. Neither the LIST nor the lookup answer says which resolver sent it, and neither
// varz nor accountz names the resolver; what differs is that a full resolver subscribes to
// lookups and a cache resolver does not. So each server is asked for its own subscriptions to
// the lookup subject ($SYS.REQ.SERVER.<id>.SUBSZ, a read-only monitoring request), and only
// those of its system client count: clients have their own (a signet serve answers lookups
// too). The system client is told by the one subscription no client has, the server's own
// SUBSZ subject.
func resolverKinds(ctx context.Context, nc *nats.Conn, listed map[string][]string, system map[string]string, idle time.Duration) (map[string]string, error) {
	ids := make([]string, 0, len(listed))
	for id := range listed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	reqs := make([]request, 0, 2*len(ids))
	for _, id := range ids {
		subject := fmt.Sprintf(subjectSubszDirect, id)
		for _, test := range []string{subject, fmt.Sprintf(remote.SubjectLookup, "ANY")} {
			// The limit (1024 by default) applies after the test filter: a large one keeps a
			// system account with many wildcard subscribers from cutting the server's own off.
			body, _ := json.Marshal(map[string]any{"subscriptions": true, "account": system[id], "test": test, "limit": 1 << 20})
			reqs = append(reqs, request{subject: subject, data: body, want: 1})
		}
	}
	msgs, err := gather(ctx, nc, reqs, idle)
	if err != nil {
		return nil, fmt.Errorf("ask servers for their resolver subscriptions: %w", err)
	}
	// cids returns the client ids holding a subscription to exactly subject, from the answer.
	cids := func(ms []*nats.Msg, subject string) map[uint64]bool {
		out := map[uint64]bool{}
		for _, m := range ms {
			var r apiResponse
			if json.Unmarshal(m.Data, &r) != nil || r.Error != nil {
				continue
			}
			for _, sub := range r.Data.Subs {
				if sub.Subject == subject {
					out[sub.Cid] = true
				}
			}
		}
		return out
	}
	kinds := map[string]string{}
	for i, id := range ids {
		own := cids(msgs[2*i], fmt.Sprintf(subjectSubszDirect, id))
		if len(own) == 0 {
			continue
		}
		kinds[id] = ResolverCache
		for cid := range cids(msgs[2*i+1], subjectLookupSub) {
			if own[cid] {
				kinds[id] = ResolverDirectory
			}
		}
	}
	return kinds, nil
}

// directAsk is one accountz question to one server about one account.
type directAsk struct {
	h   *holding
	pub string
}

// loadedAccounts asks every server for the accounts it has loaded ($SYS.REQ.SERVER.PING.ACCOUNTZ)
// and returns server id -> account public keys (names that are not account keys, like $G,
// left out), and server id -> its system account.
func loadedAccounts(ctx context.Context, nc *nats.Conn, servers map[string]*holding, idle time.Duration) (loaded map[string][]string, system map[string]string, err error) {
	msgs, err := gather(ctx, nc, []request{{subject: subjectAccountzPing, data: []byte("{}"), want: len(servers)}}, idle)
	if err != nil {
		return nil, nil, fmt.Errorf("ask servers for their loaded accounts: %w", err)
	}
	loaded, system = map[string][]string{}, map[string]string{}
	for _, m := range msgs[0] {
		var r apiResponse
		if json.Unmarshal(m.Data, &r) != nil || servers[r.Server.ID] == nil || r.Error != nil {
			continue
		}
		system[r.Server.ID] = r.Data.SystemAccount
		for _, a := range r.Data.Accounts {
			if nkeys.IsValidPublicAccountKey(a) {
				loaded[r.Server.ID] = append(loaded[r.Server.ID], a)
			}
		}
	}
	return loaded, system, nil
}

// lookup asks for the JWT of each account ($SYS.REQ.ACCOUNT.<pub>.CLAIMS.LOOKUP) and returns,
// per account, the JWTs of the non-empty answers (full resolvers answer empty when they lack
// the account; cache resolvers do not answer). want is how many answers to wait for.
func lookup(ctx context.Context, nc *nats.Conn, pubs []string, want int, idle time.Duration) ([][]string, error) {
	reqs := make([]request, len(pubs))
	for i, pub := range pubs {
		reqs[i] = request{subject: fmt.Sprintf(remote.SubjectLookup, pub), want: want}
	}
	msgs, err := gather(ctx, nc, reqs, idle)
	if err != nil {
		return nil, fmt.Errorf("look accounts up: %w", err)
	}
	out := make([][]string, len(pubs))
	for i, ms := range msgs {
		for _, m := range ms {
			if len(m.Data) > 0 {
				out[i] = append(out[i], string(m.Data))
			}
		}
	}
	return out, nil
}

// accountz asks each server in asks for the JWT it runs for the account, and records it in the
// server's holding.
func accountz(ctx context.Context, nc *nats.Conn, asks []directAsk, idle time.Duration) error {
	if len(asks) == 0 {
		return nil
	}
	reqs := make([]request, len(asks))
	for i, a := range asks {
		body, _ := json.Marshal(map[string]string{"account": a.pub})
		reqs[i] = request{subject: fmt.Sprintf(subjectAccountzDirect, a.h.source.ID), data: body, want: 1}
	}
	msgs, err := gather(ctx, nc, reqs, idle)
	if err != nil {
		return fmt.Errorf("ask servers for account details: %w", err)
	}
	for i, ms := range msgs {
		for _, m := range ms {
			var r apiResponse
			if json.Unmarshal(m.Data, &r) != nil || r.Error != nil || r.Data.Detail == nil || r.Data.Detail.JWT == "" {
				continue
			}
			asks[i].h.accounts[asks[i].pub] = r.Data.Detail.JWT
		}
	}
	return nil
}

// request is one request of a batch: its subject and payload, and how many answers it expects.
type request struct {
	subject string
	data    []byte
	want    int
}

// gather sends every request with its own reply subject under one wildcard inbox, so that a
// thousand lookups cost one round trip, and collects the answers of each. It returns when every
// request has its wanted answers (after a short drain for extra responders), or when no answer
// came for idle.
func gather(ctx context.Context, nc *nats.Conn, reqs []request, idle time.Duration) ([][]*nats.Msg, error) {
	out := make([][]*nats.Msg, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	prefix := nc.NewInbox()
	sub, err := nc.SubscribeSync(prefix + ".*")
	if err != nil {
		return nil, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, err
	}
	for i, r := range reqs {
		if err := nc.PublishRequest(r.subject, fmt.Sprintf("%s.%d", prefix, i), r.data); err != nil {
			return nil, err
		}
	}
	if err := nc.Flush(); err != nil {
		return nil, err
	}
	short := 0
	for _, r := range reqs {
		if r.want > 0 {
			short++
		}
	}
	wait := idle
	for {
		if short == 0 {
			wait = min(idle, drainIdle)
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		m, err := sub.NextMsgWithContext(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return out, nil // idle: whoever has not answered will not
		}
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			continue // no responders for this one
		}
		i, ok := replyIndex(m.Subject, prefix, len(reqs))
		if !ok {
			continue
		}
		out[i] = append(out[i], m)
		if len(out[i]) == reqs[i].want {
			short--
		}
	}
}

func replyIndex(subject, prefix string, n int) (int, bool) {
	tail, ok := strings.CutPrefix(subject, prefix+".")
	if !ok {
		return 0, false
	}
	var i int
	if _, err := fmt.Sscanf(tail, "%d", &i); err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// distinct returns the different values of toks, sorted.
func distinct(toks []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range toks {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func removeOne(toks []string, tok string) []string {
	for i, t := range toks {
		if t == tok {
			return append(append([]string(nil), toks[:i]...), toks[i+1:]...)
		}
	}
	return toks
}

// ambiguity explains an account whose JWT on a server could not be told.
func ambiguity(answers []string) string {
	if len(answers) == 0 {
		return "the server lists the account but no server answered the lookup with a JWT (a cache resolver does not answer lookups) and it is not loaded there"
	}
	var iats []string
	for _, tok := range distinct(answers) {
		if ac, err := jwt.DecodeAccountClaims(tok); err == nil {
			iats = append(iats, fmt.Sprintf("iat %d by %s", ac.IssuedAt, short(ac.Issuer)))
		} else {
			iats = append(iats, "an invalid JWT")
		}
	}
	return fmt.Sprintf("the servers hold %d different JWTs for the account (%s); which one this server holds could not be told: it is not loaded there", len(iats), strings.Join(iats, "; "))
}

func short(key string) string {
	if len(key) > 12 {
		return key[:12] + "…"
	}
	return key
}
