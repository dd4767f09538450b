package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/plural"
)

// ServerAccounts is one server's answer to a list request.
type ServerAccounts struct {
	Server   ServerInfo `json:"server"`
	Accounts []string   `json:"accounts"`
}

// ListResult is what List gathered.
type ListResult struct {
	Servers []ServerAccounts `json:"servers"`
	// Unanswered names the servers (from Client.Servers) that did not answer.
	Unanswered []string `json:"unanswered,omitempty"`
}

// Union is every account public key any server listed, sorted.
func (r ListResult) Union() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range r.Servers {
		for _, a := range s.Accounts {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

// List asks every server with a full or cache resolver for the public keys of the accounts it
// holds ($SYS.REQ.CLAIMS.LIST). It returns once every server that answers pings has answered,
// or Timeout after the last answer.
func (c *Client) List(ctx context.Context) (ListResult, error) {
	servers, err := c.Servers(ctx)
	if err != nil {
		return ListResult{}, err
	}
	sub, err := c.ask(SubjectClaimsList, nil)
	if err != nil {
		return ListResult{}, fmt.Errorf("list accounts: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	pending := map[string]ServerInfo{}
	for _, s := range servers {
		pending[s.ID] = s
	}
	var res ListResult
	answered := map[string]bool{}
	for len(pending) > 0 {
		m, err := next(ctx, sub, c.timeout())
		if errors.Is(err, ErrNoResponders) {
			return res, fmt.Errorf("list accounts: %w", ErrNoResponders)
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, fmt.Errorf("list accounts: %w", ctx.Err())
			}
			break
		}
		var r struct {
			Server ServerInfo `json:"server"`
			Data   []string   `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &r); err != nil || r.Server.ID == "" || answered[r.Server.ID] {
			continue
		}
		answered[r.Server.ID] = true
		delete(pending, r.Server.ID)
		sort.Strings(r.Data)
		res.Servers = append(res.Servers, ServerAccounts{Server: r.Server, Accounts: r.Data})
	}
	for _, s := range servers {
		if _, ok := pending[s.ID]; ok {
			res.Unanswered = append(res.Unanswered, s.label())
		}
	}
	return res, nil
}

// Pack fetches every account JWT one full-resolver server holds ($SYS.REQ.CLAIMS.PACK; the
// servers answer as a queue group, so one of them does) and returns public key -> JWT. The
// server streams "pubkey|jwt" lines and ends with an empty message. It waits at most Timeout
// between two messages.
func (c *Client) Pack(ctx context.Context) (map[string]string, error) {
	// The payload is the hash of the requester's store; nats-server answers with an empty pack
	// when it matches its own. An empty payload never matches, so we get everything.
	sub, err := c.ask(SubjectClaimsPack, nil)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	out := map[string]string{}
	for {
		m, err := next(ctx, sub, c.timeout())
		if errors.Is(err, ErrNoResponders) {
			return nil, fmt.Errorf("pack: %w", ErrNoResponders)
		}
		if err != nil {
			return nil, fmt.Errorf("pack: after %s: %w", plural.N(len(out), "account"), err)
		}
		if len(m.Data) == 0 {
			return out, nil
		}
		for _, line := range strings.Split(string(m.Data), "\n") {
			if err := addPackLine(out, line); err != nil {
				return nil, fmt.Errorf("pack: %w", err)
			}
		}
	}
}

// next waits for the next message for at most idle, or until ctx is done. A no-responders
// status is ErrNoResponders.
func next(ctx context.Context, sub *nats.Subscription, idle time.Duration) (*nats.Msg, error) {
	wctx, cancel := context.WithTimeout(ctx, idle)
	defer cancel()
	m, err := sub.NextMsgWithContext(wctx)
	if errors.Is(err, nats.ErrNoResponders) || (err == nil && isNoResponders(m)) {
		return nil, ErrNoResponders
	}
	return m, err
}

// SubjectLookup is the subject on which full resolvers (and signet serve) answer with the
// JWT of one account; %s is the account's public key.
const SubjectLookup = "$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP"

// Lookup fetches the JWT of account pub from the servers ($SYS.REQ.ACCOUNT.<pub>.CLAIMS.LOOKUP).
// Full resolvers answer with the JWT or with an empty message when they do not hold it; the
// first JWT for pub wins. If every server that answers pings answered empty, or none answered
// within Timeout, the error satisfies errors.Is(err, ErrNotFound).
func (c *Client) Lookup(ctx context.Context, pub string) (string, error) {
	if !nkeys.IsValidPublicAccountKey(pub) {
		return "", fmt.Errorf("lookup: %q is not an account public key", pub)
	}
	servers, err := c.Servers(ctx)
	if err != nil {
		return "", err
	}
	sub, err := c.ask(fmt.Sprintf(SubjectLookup, pub), nil)
	if err != nil {
		return "", fmt.Errorf("lookup %s: %w", pub, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	for empty := 0; empty < len(servers); {
		m, err := next(ctx, sub, c.timeout())
		if errors.Is(err, ErrNoResponders) {
			return "", fmt.Errorf("lookup %s: %w", pub, ErrNoResponders)
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", fmt.Errorf("lookup %s: %w", pub, ctx.Err())
			}
			break
		}
		if len(m.Data) == 0 {
			empty++
			continue
		}
		tok := string(m.Data)
		if ac, err := jwt.DecodeAccountClaims(tok); err != nil || ac.Subject != pub {
			continue // not a JWT for pub; another server may have one
		}
		return tok, nil
	}
	return "", fmt.Errorf("lookup %s: account %w on any server", pub, ErrNotFound)
}
