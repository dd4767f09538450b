// Package drift compares what the resolvers actually hold with what the store says they should:
// for every account and every source (each nats-server of a cluster, one by one, and an account
// server over HTTP) it tells whether the source holds the store's JWT, an older or newer one,
// a different one of the same age, none at all, one the operator never signed, or an account
// the store does not know.
//
//	rep, err := drift.Check(ctx, drift.Options{
//		Operator:      oc,              // the trust: every JWT read is verified against it
//		Expected:      storeJWTs,       // account public key -> JWT
//		Servers:       []string{"nats://a:4222"},
//		NATSOptions:   []nats.Option{nats.UserCredentials("sys.creds")},
//		AccountServer: oc.AccountServerURL,
//	})
//	if !rep.Clean() { ... rep.Drift() ... }
//
// The package never prints and never changes a source: it only asks. How each source is asked,
// and what it cannot tell, is in docs/drift.md.
package drift

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/ops"
)

// Status is the state of one account at one source, compared with the store.
type Status string

// The statuses. Only InSync is not drift.
const (
	// InSync: the source holds the store's JWT, byte for byte.
	InSync Status = "in-sync"
	// Missing: the store has the account, the source does not.
	Missing Status = "missing"
	// Older: the source's JWT was issued before the store's.
	Older Status = "older"
	// Newer: the source's JWT was issued after the store's: someone pushed behind signet's back.
	Newer Status = "newer"
	// Different: same issue time as the store's JWT, other content.
	Different Status = "different"
	// Unknown: the source holds a trusted account the store does not know.
	Unknown Status = "unknown"
	// Untrusted: the source holds a JWT for the account that the operator (or one of its
	// signing keys) did not sign, or that is not a valid account JWT; it is never compared.
	Untrusted Status = "untrusted"
	// Ambiguous: the servers answered the lookup with several JWTs for the account and the one
	// this server holds could not be told apart (it is not loaded there, see docs/drift.md).
	Ambiguous Status = "ambiguous"
)

// Source kinds.
const (
	KindNATSServer    = "nats-server"
	KindAccountServer = "account-server"
)

// How a nats-server's holdings are known (Source.Resolver).
const (
	// ResolverDirectory: the server runs a full resolver (it answers $SYS.REQ.CLAIMS.LIST and
	// lookups): what it holds is its resolver directory, so an account it lacks is Missing.
	ResolverDirectory = "directory"
	// ResolverCache: the server runs a cache resolver (it answers LIST, not lookups): it holds
	// the accounts it has fetched, so an account it lacks is not reported (it fetches the
	// current JWT on first use); of those it holds, the loaded ones are compared.
	ResolverCache = "cache"
	// ResolverLoaded: the server does not answer LIST (URL or memory resolver): only the
	// accounts it has loaded are known, so an account it lacks is not reported.
	ResolverLoaded = "loaded"
)

// DefaultTimeout is Options.Timeout when it is zero.
const DefaultTimeout = 3 * time.Second

// Options say what to expect and where to look.
type Options struct {
	// Operator is the operator whose JWTs these are; a JWT read from a source that its identity
	// key or one of its signing keys did not issue is Untrusted. Required.
	Operator *jwt.OperatorClaims
	// Expected maps account public keys to the JWTs the sources should hold (the store's; for
	// `signet plan`, the accounts the spec knows). A source's account outside it is Unknown.
	Expected map[string]string
	// Names maps account public keys to names for the report; by default the name in the
	// expected JWT, else in the source's.
	Names map[string]string
	// Servers are NATS URLs (nats://, tls://, ws://, wss://; each may be a comma-separated list
	// of one cluster). Every server reachable through each is asked, and counted once.
	Servers []string
	// NATSOptions authenticate a user of the system account (nats.UserCredentials, or
	// nats.UserJWTAndSeed of remote.SystemUser) and set TLS.
	NATSOptions []nats.Option
	// AccountServer is an account server URL as operators carry it ("http://host/jwt/v1").
	AccountServer string
	// HTTP is the client for the account server; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout is how long to wait, without any new answer, for servers that have not answered
	// yet. Zero means DefaultTimeout.
	Timeout time.Duration
}

// Source is one place that was asked.
type Source struct {
	// Kind is "nats-server" or "account-server".
	Kind string `json:"kind"`
	// Name is the server_name of a nats-server, the URL of an account server. Entries name
	// their source by it.
	Name string `json:"name"`
	// ID is a nats-server's id.
	ID string `json:"id,omitempty"`
	// URL is the URL the source was reached through.
	URL string `json:"url"`
	// Resolver is, for a nats-server, "directory", "cache" or "loaded" (see ResolverDirectory).
	Resolver string `json:"resolver,omitempty"`
	// Accounts is how many accounts the source holds (or has loaded).
	Accounts int `json:"accounts"`
	// Error says why the source could not be read (fully); such a source makes the report
	// not clean.
	Error string `json:"error,omitempty"`
	// Note says what the answers could not tell (e.g. an account server without /pack).
	Note string `json:"note,omitempty"`
}

// Entry is one account at one source.
type Entry struct {
	// Account is the account's public key.
	Account string `json:"account"`
	// Name is the account's name (see Options.Names).
	Name string `json:"name,omitempty"`
	// Source is the Source.Name of where it was found (or missed).
	Source string `json:"source"`
	// Status compares the source's JWT with the store's.
	Status Status `json:"status"`
	// StoreIssuedAt is the iat of the expected JWT; 0 when the store has none.
	StoreIssuedAt int64 `json:"store_iat,omitempty"`
	// SourceIssuedAt is the iat of the source's JWT; 0 when it has none.
	SourceIssuedAt int64 `json:"source_iat,omitempty"`
	// Issuer is the key that signed the source's JWT, given when the status is Untrusted.
	Issuer string `json:"issuer,omitempty"`
	// Detail explains the status when it needs it.
	Detail string `json:"detail,omitempty"`
}

// Report is what Check found: the sources asked and one entry per account per source, in-sync
// ones included. Sources are ordered by kind (nats-servers first) then name; entries by account
// name, account public key, then source in the order of Sources.
type Report struct {
	Sources []Source `json:"sources"`
	Entries []Entry  `json:"entries"`
}

// Clean reports whether every source was read and every entry is in sync.
func (r *Report) Clean() bool {
	for _, s := range r.Sources {
		if s.Error != "" {
			return false
		}
	}
	return len(r.Drift()) == 0
}

// Drift returns the entries that are not in sync, in report order.
func (r *Report) Drift() []Entry {
	var out []Entry
	for _, e := range r.Entries {
		if e.Status != InSync {
			out = append(out, e)
		}
	}
	return out
}

// holding is what one source holds: account public key -> JWT. A JWT of "" with a detail in
// ambiguous means the source holds the account but its JWT could not be attributed.
type holding struct {
	source    Source
	accounts  map[string]string
	ambiguous map[string]string
	// complete is false when accounts is only part of what the source holds (loaded accounts
	// of a URL-resolver server, a cache resolver's): an expected account absent from it is not
	// Missing.
	complete bool
}

// Check asks every source what it holds and compares each account with Options.Expected. A
// source that cannot be reached or read is in the report with its Error (and the report is not
// clean); the error returned is for bad options only.
func Check(ctx context.Context, o Options) (*Report, error) {
	if o.Operator == nil {
		return nil, errors.New("drift: no operator to verify JWTs against")
	}
	if len(o.Servers) == 0 && o.AccountServer == "" {
		return nil, errors.New("drift: no source to ask: give NATS servers or an account server URL")
	}
	expected := map[string]*jwt.AccountClaims{}
	for pub, tok := range o.Expected {
		ac, err := jwt.DecodeAccountClaims(tok)
		if err != nil {
			return nil, fmt.Errorf("drift: expected JWT of account %s: %w", pub, err)
		}
		if ac.Subject != pub {
			return nil, fmt.Errorf("drift: expected JWT of account %s is for account %s", pub, ac.Subject)
		}
		expected[pub] = ac
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	var holdings []holding
	seen := map[string]bool{}
	for _, u := range o.Servers {
		for _, h := range askServers(ctx, u, o.NATSOptions, o.Timeout) {
			key := h.source.ID
			if key == "" {
				key = "url " + h.source.URL
			}
			if !seen[key] {
				seen[key] = true
				holdings = append(holdings, h)
			}
		}
	}
	if o.AccountServer != "" {
		client := o.HTTP
		if client == nil {
			client = http.DefaultClient
		}
		holdings = append(holdings, askAccountServer(ctx, client, o.AccountServer, o.Expected))
	}
	sort.SliceStable(holdings, func(i, j int) bool {
		a, b := holdings[i].source, holdings[j].source
		if a.Kind != b.Kind {
			return a.Kind == KindNATSServer
		}
		return a.Name < b.Name
	})
	return compare(o, expected, holdings), nil
}

// compare builds the report from what each source holds.
func compare(o Options, expected map[string]*jwt.AccountClaims, holdings []holding) *Report {
	rep := &Report{Sources: make([]Source, 0, len(holdings))}
	names := map[string]string{}
	for pub, ac := range expected {
		names[pub] = ac.Name
	}
	for pub, n := range o.Names {
		names[pub] = n
	}
	for _, h := range holdings {
		h.source.Accounts = len(h.accounts)
		rep.Sources = append(rep.Sources, h.source)
		if h.source.Error != "" {
			continue // not (fully) read: one source error, not one Missing per account
		}
		for pub, exp := range expected {
			if _, ok := h.accounts[pub]; !ok && h.complete {
				rep.Entries = append(rep.Entries, Entry{Account: pub, Source: h.source.Name, Status: Missing, StoreIssuedAt: exp.IssuedAt})
			}
		}
		for pub, tok := range h.accounts {
			e := Entry{Account: pub, Source: h.source.Name}
			exp := expected[pub]
			if exp != nil {
				e.StoreIssuedAt = exp.IssuedAt
			}
			if detail, ok := h.ambiguous[pub]; ok {
				e.Status, e.Detail = Ambiguous, detail
				rep.Entries = append(rep.Entries, e)
				continue
			}
			got, err := trusted(o.Operator, pub, tok)
			if got != nil {
				e.SourceIssuedAt = got.IssuedAt
				if names[pub] == "" {
					names[pub] = got.Name
				}
			}
			switch {
			case err != nil:
				e.Status, e.Detail = Untrusted, err.Error()
				if got != nil {
					e.Issuer = got.Issuer
				}
			case exp == nil:
				e.Status = Unknown
			case tok == o.Expected[pub]:
				e.Status = InSync
			case got.IssuedAt < exp.IssuedAt:
				e.Status = Older
			case got.IssuedAt > exp.IssuedAt:
				e.Status = Newer
			default:
				e.Status, e.Detail = Different, "same issue time, other content"
			}
			rep.Entries = append(rep.Entries, e)
		}
	}
	order := map[string]int{}
	for i, s := range rep.Sources {
		if _, ok := order[s.Name]; !ok {
			order[s.Name] = i
		}
	}
	for i := range rep.Entries {
		rep.Entries[i].Name = names[rep.Entries[i].Account]
	}
	sort.SliceStable(rep.Entries, func(i, j int) bool {
		a, b := rep.Entries[i], rep.Entries[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return order[a.Source] < order[b.Source]
	})
	return rep
}

// trusted decodes a source's JWT and checks it is an account JWT for pub that the operator
// issued. The claims are returned whenever the JWT decodes, trusted or not.
func trusted(op *jwt.OperatorClaims, pub, tok string) (*jwt.AccountClaims, error) {
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		return nil, fmt.Errorf("not a valid account JWT: %w", err)
	}
	if ac.Subject != pub {
		return ac, fmt.Errorf("the JWT held for %s is for account %s", pub, ac.Subject)
	}
	if err := ops.AccountIssuedBy(op, ac); err != nil {
		return ac, err
	}
	return ac, nil
}

// OperatorSources are the sources an operator names: its service URLs, and its account server
// URL (an account server URL that is a NATS URL is one more server to ask; an http(s) one is
// the account server).
func OperatorSources(oc *jwt.OperatorClaims) (servers []string, accountServer string) {
	servers = append([]string(nil), oc.OperatorServiceURLs...)
	u := oc.AccountServerURL
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return servers, u
	}
	if u != "" {
		servers = append(servers, u)
	}
	return servers, ""
}
