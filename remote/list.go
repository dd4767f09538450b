package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
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
	inbox := c.nc.NewRespInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		return ListResult{}, fmt.Errorf("list accounts: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return ListResult{}, fmt.Errorf("list accounts: %w", err)
	}
	if err := c.nc.PublishRequest(SubjectClaimsList, inbox, nil); err != nil {
		return ListResult{}, fmt.Errorf("list accounts: %w", err)
	}
	pending := map[string]ServerInfo{}
	for _, s := range servers {
		pending[s.ID] = s
	}
	var res ListResult
	answered := map[string]bool{}
	for len(pending) > 0 {
		m, err := next(ctx, sub, c.timeout())
		if errors.Is(err, ErrNoResponders) || (err == nil && isNoResponders(m)) {
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
	inbox := c.nc.NewRespInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	// The payload is the hash of the requester's store; nats-server answers with an empty pack
	// when it matches its own. An empty payload never matches, so we get everything.
	if err := c.nc.PublishRequest(SubjectClaimsPack, inbox, nil); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	out := map[string]string{}
	for {
		m, err := next(ctx, sub, c.timeout())
		if errors.Is(err, ErrNoResponders) || (err == nil && isNoResponders(m)) {
			return nil, fmt.Errorf("pack: %w", ErrNoResponders)
		}
		if err != nil {
			return nil, fmt.Errorf("pack: after %d accounts: %w", len(out), err)
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

// next waits for the next message for at most idle, or until ctx is done.
func next(ctx context.Context, sub *nats.Subscription, idle time.Duration) (*nats.Msg, error) {
	wctx, cancel := context.WithTimeout(ctx, idle)
	defer cancel()
	m, err := sub.NextMsgWithContext(wctx)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, ErrNoResponders
	}
	return m, err
}
