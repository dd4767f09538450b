package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// The system-account subjects of nats-server's resolver protocol.
const (
	SubjectServerPing   = "$SYS.REQ.SERVER.PING"
	SubjectClaimsUpdate = "$SYS.REQ.CLAIMS.UPDATE"
	SubjectClaimsList   = "$SYS.REQ.CLAIMS.LIST"
	SubjectClaimsPack   = "$SYS.REQ.CLAIMS.PACK"
	SubjectClaimsDelete = "$SYS.REQ.CLAIMS.DELETE"
)

// DefaultTimeout is Client.Timeout when it is zero.
const DefaultTimeout = 5 * time.Second

// ErrNoResponders is returned (wrapped) when nothing in the system account listens on a
// resolver subject: no server with a full or cache resolver is reachable.
var ErrNoResponders = errors.New("no server answers; is there a server with a full or cache resolver, and is the user in the system account?")

// Client talks the resolver protocol to the nats-servers reachable through one connection of
// a system-account user. It is safe for one operation at a time.
type Client struct {
	nc  *nats.Conn
	own bool
	// Timeout is how long an operation waits, without any new answer, for servers that have
	// not answered yet before it reports them. Zero means DefaultTimeout. A context deadline
	// bounds the whole operation as well.
	Timeout time.Duration
}

// Dial connects to url (nats://, tls://, ws://, wss://; a comma-separated list is allowed) with
// opts, typically nats.UserJWTAndSeed of a SystemUser or nats.UserCredentials.
func Dial(url string, opts ...nats.Option) (*Client, error) {
	all := append([]nats.Option{nats.Name("signet")}, opts...)
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	return &Client{nc: nc, own: true}, nil
}

// NewClient uses an existing connection; Close will not close it.
func NewClient(nc *nats.Conn) *Client { return &Client{nc: nc} }

// Conn returns the underlying connection.
func (c *Client) Conn() *nats.Conn { return c.nc }

// Close closes the connection if Dial made it.
func (c *Client) Close() {
	if c.own {
		c.nc.Close()
	}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// ServerInfo names a nats-server as it identifies itself in system-account replies.
type ServerInfo struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Host    string `json:"host,omitempty"`
	Cluster string `json:"cluster,omitempty"`
	Version string `json:"ver,omitempty"`
}

// label is how a server is named in messages: its name, else its id.
func (s ServerInfo) label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// statsz is the part of a $SYS.REQ.SERVER.PING answer that tells how many servers there are.
type statsz struct {
	Server ServerInfo `json:"server"`
	Stats  struct {
		ActiveServers int `json:"active_servers"`
		Routes        []struct {
			Name string `json:"name"`
		} `json:"routes"`
	} `json:"statsz"`
}

// Servers asks every server for its identity ($SYS.REQ.SERVER.PING) and returns those that
// answered, in the order they answered. It returns as soon as as many servers answered as the
// answers say exist (their count of active servers and of routed peers); otherwise it waits
// Timeout after the last answer. It is an error if no server answers.
func (c *Client) Servers(ctx context.Context) ([]ServerInfo, error) {
	sub, err := c.ask(SubjectServerPing, nil)
	if err != nil {
		return nil, fmt.Errorf("ping servers: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	var out []ServerInfo
	seen := map[string]bool{}
	expected := 1
	for len(out) < expected {
		m, err := next(ctx, sub, c.timeout())
		if err != nil {
			if ctx.Err() != nil && len(out) == 0 {
				return nil, fmt.Errorf("ping servers: %w", ctx.Err())
			}
			break
		}
		var sz statsz
		if err := json.Unmarshal(m.Data, &sz); err != nil || sz.Server.ID == "" || seen[sz.Server.ID] {
			continue
		}
		seen[sz.Server.ID] = true
		out = append(out, sz.Server)
		peers := map[string]bool{}
		for _, r := range sz.Stats.Routes {
			peers[r.Name] = true
		}
		expected = max(expected, sz.Stats.ActiveServers, len(peers)+1)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ping servers: %w", ErrNoResponders)
	}
	return out, nil
}

func isNoResponders(m *nats.Msg) bool {
	return len(m.Data) == 0 && m.Header != nil && m.Header.Get("Status") == "503"
}

// ask publishes one request on subject with a fresh reply inbox and returns the (unlimited)
// synchronous subscription on which the answers of every server arrive. The caller
// unsubscribes.
func (c *Client) ask(subject string, data []byte) (*nats.Subscription, error) {
	inbox := c.nc.NewRespInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	if err := c.nc.PublishRequest(subject, inbox, data); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return sub, nil
}
