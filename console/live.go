package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/signet-dev/signet/drift"
)

// live asks the servers, as a system-account user, who is connected. It keeps one connection
// for the console's life and remembers how many servers answered, so that a page waits for that
// many answers rather than for a silence.
type live struct {
	o       Options
	mu      sync.Mutex
	nc      *nats.Conn
	servers int       // how many servers answered the last full wait
	counted time.Time // when servers was last counted by waiting for silence
}

func newLive(o Options) *live { return &live{o: o} }

func (l *live) enabled() bool { return l.o.SystemConn != nil }

func (l *live) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nc != nil {
		l.nc.Close()
		l.nc = nil
	}
}

// urls are the servers to ask: the options' or the operator's.
func (l *live) urls() []string {
	if len(l.o.Servers) > 0 {
		return l.o.Servers
	}
	oc, _, err := l.o.Store.Operator()
	if err != nil {
		return nil
	}
	urls, _ := drift.OperatorSources(oc)
	return urls
}

func (l *live) conn() (*nats.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nc != nil && !l.nc.IsClosed() {
		return l.nc, nil
	}
	urls := l.urls()
	if len(urls) == 0 {
		return nil, errors.New("the operator has no service URLs to ask (set them with `signet edit operator --service-url`)")
	}
	opts, err := l.o.SystemConn()
	if err != nil {
		return nil, err
	}
	opts = append(opts, nats.Name("signet console"), nats.Timeout(l.o.LiveTimeout), nats.MaxReconnects(0)) // a fresh system user (they are short-lived) on the next page instead
	nc, err := nats.Connect(strings.Join(urls, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s as a system-account user: %w", strings.Join(urls, ", "), err)
	}
	l.nc = nc
	return nc, nil
}

// apiAnswer is a server's answer to a $SYS.REQ.*.PING request.
type apiAnswer struct {
	Server struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	} `json:"server"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Description string `json:"description"`
	} `json:"error"`
}

// ask publishes a request to every server and gathers their answers: until as many servers as
// last time answered (recounted by waiting for silence every 30 s), or the timeout.
func (l *live) ask(ctx context.Context, subject string, req any) ([]apiAnswer, error) {
	nc, err := l.conn()
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(req)
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subject, inbox, data); err != nil {
		return nil, err
	}
	l.mu.Lock()
	want := l.servers
	recount := want == 0 || time.Since(l.counted) > 30*time.Second
	l.mu.Unlock()
	deadline := time.Now().Add(l.o.LiveTimeout)
	var out []apiAnswer
	for {
		wait := time.Until(deadline)
		if len(out) > 0 {
			if !recount && len(out) >= want {
				break
			}
			wait = min(wait, 250*time.Millisecond) // silence after the last answer
		}
		if wait <= 0 {
			break
		}
		tctx, cancel := context.WithTimeout(ctx, wait)
		m, err := sub.NextMsgWithContext(tctx)
		cancel()
		if err != nil {
			break
		}
		if len(m.Data) == 0 {
			continue // no responders status
		}
		var a apiAnswer
		if json.Unmarshal(m.Data, &a) == nil {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no server answered %s within %s", subject, l.o.LiveTimeout)
	}
	if recount {
		l.mu.Lock()
		l.servers, l.counted = len(out), time.Now()
		l.mu.Unlock()
	}
	return out, nil
}

// accountConns counts the client connections of every account, summed over the servers.
func (l *live) accountConns(ctx context.Context) (map[string]int, int, error) {
	answers, err := l.ask(ctx, "$SYS.REQ.ACCOUNT.PING.STATZ", map[string]any{"accounts": []string{}})
	if err != nil {
		return nil, 0, err
	}
	out := map[string]int{}
	for _, a := range answers {
		var stz struct {
			Accounts []struct {
				Account string `json:"acc"`
				Conns   int    `json:"conns"`
				Leafs   int    `json:"leafnodes"`
			} `json:"account_statz"`
		}
		if json.Unmarshal(a.Data, &stz) != nil {
			continue
		}
		for _, s := range stz.Accounts {
			out[s.Account] += s.Conns
		}
	}
	return out, len(answers), nil
}

// Conn is one live client connection.
type Conn struct {
	Server  string
	CID     uint64    `json:"cid"`
	IP      string    `json:"ip"`
	Port    int       `json:"port"`
	Name    string    `json:"name"`
	Lang    string    `json:"lang"`
	Version string    `json:"version"`
	Start   time.Time `json:"start"`
	RTT     string    `json:"rtt"`
	User    string    `json:"authorized_user"`
	Subs    uint32    `json:"subscriptions"`
	InMsgs  int64     `json:"in_msgs"`
	OutMsgs int64     `json:"out_msgs"`
	// UserName is the store's name for User, when known.
	UserName string `json:"-"`
}

// connections lists the client connections of an account on every server.
func (l *live) connections(ctx context.Context, account string) ([]Conn, error) {
	answers, err := l.ask(ctx, "$SYS.REQ.SERVER.PING.CONNZ", map[string]any{"acc": account, "auth": true, "limit": 1000})
	if err != nil {
		return nil, err
	}
	var out []Conn
	for _, a := range answers {
		var cz struct {
			Conns []Conn `json:"connections"`
		}
		if json.Unmarshal(a.Data, &cz) != nil {
			continue
		}
		for _, c := range cz.Conns {
			c.Server = a.Server.Name
			out = append(out, c)
		}
	}
	return out, nil
}

// JSUse is an account's JetStream use across the servers: its streams and the bytes they hold
// (each stream counted once, by its leader).
type JSUse struct {
	Streams int
	Bytes   uint64
}

// jetStreamUse asks every server for its JetStream details ($SYS.REQ.SERVER.PING.JSZ, streams
// reported by their leaders only) and sums them per account.
func (l *live) jetStreamUse(ctx context.Context) (map[string]JSUse, error) {
	answers, err := l.ask(ctx, "$SYS.REQ.SERVER.PING.JSZ", map[string]any{"accounts": true, "streams": true, "stream_leader_only": true})
	if err != nil {
		return nil, err
	}
	out := map[string]JSUse{}
	for _, a := range answers {
		var jsz struct {
			Accounts []struct {
				ID      string `json:"id"` // the public key ("name" is the JWT's name)
				Streams []struct {
					State struct {
						Bytes uint64 `json:"bytes"`
					} `json:"state"`
				} `json:"stream_detail"`
			} `json:"account_details"`
		}
		if json.Unmarshal(a.Data, &jsz) != nil {
			continue
		}
		for _, acc := range jsz.Accounts {
			u := out[acc.ID]
			for _, st := range acc.Streams {
				u.Streams++
				u.Bytes += st.State.Bytes
			}
			out[acc.ID] = u
		}
	}
	return out, nil
}
