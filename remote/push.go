package remote

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/plural"
)

// PushOptions tune PushAll and Delete.
type PushOptions struct {
	// Timeout overrides Client.Timeout: how long to wait without any new answer for servers
	// that have not answered every update.
	Timeout time.Duration
	// Progress, if set, is called whenever the number of updates answered by every expected
	// server grows (done of total). Calls come from one goroutine at a time, in order; keep it
	// quick.
	Progress func(done, total int)
	// Servers, if set, are the servers expected to answer; otherwise they are learned with
	// Client.Servers first.
	Servers []ServerInfo
}

// Summary is the outcome of a pipelined push or delete. It marshals to JSON as is.
type Summary struct {
	// Accounts is the number of updates sent (one per account).
	Accounts int `json:"accounts"`
	// Complete is true when every expected server answered every update (some answers may
	// still be failures).
	Complete bool `json:"complete"`
	// Servers has one entry per expected server, then any other server that answered.
	Servers []ServerSummary `json:"servers"`
	// Unanswered names the expected servers that did not answer every update before the
	// timeout.
	Unanswered []string `json:"unanswered,omitempty"`
}

// OK reports whether every expected server answered every update with success.
func (s Summary) OK() bool {
	if !s.Complete {
		return false
	}
	for _, sv := range s.Servers {
		if sv.Failed > 0 {
			return false
		}
	}
	return true
}

// ServerSummary counts one server's answers.
type ServerSummary struct {
	Server ServerInfo `json:"server"`
	// Expected is false for a server that answered but was not among the expected ones.
	Expected bool `json:"expected"`
	OK       int  `json:"ok"`
	Failed   int  `json:"failed"`
	// Missing is the number of updates this server did not answer.
	Missing  int       `json:"missing"`
	Failures []Failure `json:"failures,omitempty"`
	// MissingAccounts names the accounts of the updates this server did not answer, so that a
	// report can say which accounts a server may not hold (not in the JSON: it can be long).
	MissingAccounts []string `json:"-"`
}

// Failure is one refused update.
type Failure struct {
	Account string `json:"account"`
	Message string `json:"message"`
}

// reply is the JSON a nats-server (and signet serve) answers a resolver request with.
type reply struct {
	Server ServerInfo      `json:"server"`
	Data   json.RawMessage `json:"data"`
	Error  *struct {
		Account     string `json:"account"`
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

// status is the "data" of a successful update or delete answer.
type status struct {
	Account string `json:"account"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// PushAll sends every account JWT in jwts to every server ($SYS.REQ.CLAIMS.UPDATE) and
// collects the answers. It is pipelined: it learns which servers should answer, publishes all
// updates at once with one wildcard reply subscription (a distinct reply subject per update),
// and returns as soon as every expected server has answered every update. Servers that have
// not, after Timeout without a new answer, are listed in Summary.Unanswered. The error is only
// for failures to talk at all (no connection, no server, context done); refusals are in the
// Summary.
func (c *Client) PushAll(ctx context.Context, jwts []string, opts PushOptions) (Summary, error) {
	return c.scatter(ctx, SubjectClaimsUpdate, len(jwts), func(i int) ([]byte, error) {
		return []byte(jwts[i]), nil
	}, func(i int) string { return subjectOf(jwts[i]) }, opts)
}

// Delete removes accounts from every full-resolver server ($SYS.REQ.CLAIMS.DELETE), one
// operator-signed request per account (see DeleteRequest), pipelined like PushAll. The servers
// must allow deletes (`allow_delete: true`) and trust signer (the operator key or one of its
// signing keys).
func (c *Client) Delete(ctx context.Context, signer nkeys.KeyPair, pubs []string, opts PushOptions) (Summary, error) {
	reqs := make([][]byte, len(pubs))
	for i, p := range pubs {
		r, err := DeleteRequest(signer, []string{p})
		if err != nil {
			return Summary{}, err
		}
		reqs[i] = []byte(r)
	}
	return c.scatter(ctx, SubjectClaimsDelete, len(pubs), func(i int) ([]byte, error) {
		return reqs[i], nil
	}, func(i int) string { return pubs[i] }, opts)
}

// tally tracks the answers of a scatter; the subscription goroutine writes it, under mu.
type tally struct {
	mu        sync.Mutex
	total     int
	byID      map[string]int
	servers   []ServerSummary
	got       [][]bool // per expected server, per request
	perReq    []int    // answers from expected servers, per request
	expected  int
	remaining int
	done      int
	noResp    bool
	account   func(i int) string
	progress  func(done, total int)
	events    chan struct{} // one token per batch of progress
	finished  chan struct{}
	closeOnce sync.Once
}

func newTally(servers []ServerInfo, n int, account func(int) string, progress func(int, int)) *tally {
	t := &tally{
		total: n, byID: map[string]int{}, expected: len(servers), remaining: len(servers) * n,
		perReq: make([]int, n), account: account, progress: progress,
		events: make(chan struct{}, 1), finished: make(chan struct{}),
	}
	for i, s := range servers {
		t.byID[s.ID] = i
		t.servers = append(t.servers, ServerSummary{Server: s, Expected: true})
		t.got = append(t.got, make([]bool, n))
	}
	if t.remaining == 0 {
		t.finish()
	}
	return t
}

func (t *tally) finish() { t.closeOnce.Do(func() { close(t.finished) }) }

// handle records one answer to request i.
func (t *tally) handle(i int, m *nats.Msg) {
	if isNoResponders(m) {
		t.mu.Lock()
		t.noResp = true
		t.mu.Unlock()
		t.finish()
		return
	}
	var r reply
	if err := json.Unmarshal(m.Data, &r); err != nil || r.Server.ID == "" {
		return // not an answer we understand, and no server to blame
	}
	t.mu.Lock()
	si, ok := t.byID[r.Server.ID]
	if !ok {
		si = len(t.servers)
		t.byID[r.Server.ID] = si
		t.servers = append(t.servers, ServerSummary{Server: r.Server})
	}
	sv := &t.servers[si]
	if si < t.expected {
		if t.got[si][i] {
			t.mu.Unlock()
			return // a duplicate answer
		}
		t.got[si][i] = true
	}
	var st status
	switch {
	case r.Error != nil:
		sv.Failed++
		sv.Failures = append(sv.Failures, Failure{Account: t.account(i), Message: r.Error.Description})
	case len(r.Data) == 0 || json.Unmarshal(r.Data, &st) != nil:
		sv.Failed++
		sv.Failures = append(sv.Failures, Failure{Account: t.account(i), Message: "unreadable answer: " + firstLine(m.Data)})
	case st.Code != 0 && st.Code != http.StatusOK:
		sv.Failed++
		sv.Failures = append(sv.Failures, Failure{Account: t.account(i), Message: st.Message})
	default:
		sv.OK++
	}
	progressed := false
	if si < t.expected {
		t.remaining--
		t.perReq[i]++
		if t.perReq[i] == t.expected {
			t.done++
			progressed = true
		}
	}
	done, remaining := t.done, t.remaining
	t.mu.Unlock()
	if progressed && t.progress != nil {
		t.progress(done, t.total)
	}
	select {
	case t.events <- struct{}{}:
	default:
	}
	if remaining == 0 {
		t.finish()
	}
}

// summary snapshots the tally.
func (t *tally) summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Summary{Accounts: t.total, Complete: t.remaining == 0}
	for si, sv := range t.servers {
		if si < t.expected {
			n := 0
			for i, g := range t.got[si] {
				if g {
					n++
				} else {
					sv.MissingAccounts = append(sv.MissingAccounts, t.account(i))
				}
			}
			sv.Missing = t.total - n
			if sv.Missing > 0 {
				s.Unanswered = append(s.Unanswered, sv.Server.label())
			}
		}
		sv.Failures = append([]Failure(nil), sv.Failures...)
		s.Servers = append(s.Servers, sv)
	}
	return s
}

// scatter publishes n requests on subject (payload(i) for request i), each with reply
// <inbox>.<i>, and gathers the answers of the expected servers into a Summary.
func (c *Client) scatter(ctx context.Context, subject string, n int, payload func(int) ([]byte, error), account func(int) string, opts PushOptions) (Summary, error) {
	servers := opts.Servers
	if len(servers) == 0 {
		var err error
		if servers, err = c.Servers(ctx); err != nil {
			return Summary{}, err
		}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = c.timeout()
	}
	t := newTally(servers, n, account, opts.Progress)
	if n == 0 {
		return t.summary(), nil
	}
	prefix := c.nc.NewRespInbox() + "."
	sub, err := c.nc.Subscribe(prefix+"*", func(m *nats.Msg) {
		i, err := strconv.Atoi(strings.TrimPrefix(m.Subject, prefix))
		if err != nil || i < 0 || i >= n {
			return
		}
		t.handle(i, m)
	})
	if err != nil {
		return Summary{}, fmt.Errorf("%s: subscribe: %w", subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return Summary{}, fmt.Errorf("%s: %w", subject, err)
	}
	// Make sure the server has our reply subscription before any answer can come back.
	if err := c.flush(ctx); err != nil {
		return Summary{}, fmt.Errorf("%s: %w", subject, err)
	}
	for i := range n {
		if i%256 == 0 && ctx.Err() != nil {
			return t.summary(), fmt.Errorf("%s: %w", subject, ctx.Err())
		}
		data, err := payload(i)
		if err != nil {
			return t.summary(), err
		}
		if err := c.nc.PublishRequest(subject, prefix+strconv.Itoa(i), data); err != nil {
			return t.summary(), fmt.Errorf("%s: publish %d of %d: %w", subject, i+1, n, err)
		}
	}
	// No Flush here: nats.go's flusher sends what is buffered at once, while a Flush would
	// wait for a PONG that comes only after the server has processed every update (which can
	// take longer than any sensible timeout). The idle timeout below covers a dead connection.
	idle := time.NewTimer(timeout)
	defer idle.Stop()
	for {
		select {
		case <-t.finished:
			s := t.summary()
			if t.noResponders() {
				return s, fmt.Errorf("%s: %w", subject, ErrNoResponders)
			}
			return s, nil
		case <-t.events:
			idle.Reset(timeout)
		case <-idle.C:
			return t.summary(), nil
		case <-ctx.Done():
			return t.summary(), fmt.Errorf("%s: %w", subject, ctx.Err())
		}
	}
}

func (t *tally) noResponders() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.noResp
}

// subjectOf reads the subject of a JWT without verifying it, to name an account in a failure
// report; "" if it cannot.
func subjectOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	return c.Sub
}

// Err is nil when every expected server accepted every update, else an error saying which
// servers did not answer and which refused (with the first reason).
func (s Summary) Err() error {
	if s.OK() {
		return nil
	}
	var parts []string
	if len(s.Unanswered) > 0 {
		parts = append(parts, "no complete answer from "+strings.Join(s.Unanswered, ", "))
	}
	for _, sv := range s.Servers {
		if sv.Failed > 0 {
			msg := fmt.Sprintf("%s refused %d", sv.Server.label(), sv.Failed)
			if len(sv.Failures) > 0 {
				msg += " (first: " + sv.Failures[0].Account + ": " + sv.Failures[0].Message + ")"
			}
			parts = append(parts, msg)
		}
	}
	return fmt.Errorf("%s: %s", plural.N(s.Accounts, "update"), strings.Join(parts, "; "))
}

// flush waits for the server to have processed everything sent so far, bounded by ctx and by
// the client's timeout (nats.go wants a deadline).
func (c *Client) flush(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	return c.nc.FlushWithContext(fctx)
}
