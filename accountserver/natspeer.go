package accountserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/signet-dev/signet/jwtstore"
)

// Subjects of nats-server's resolver protocol (server/events.go).
const (
	subjUpdateNew = "$SYS.REQ.ACCOUNT.%s.CLAIMS.UPDATE"
	subjUpdateOld = "$SYS.ACCOUNT.%s.CLAIMS.UPDATE"
	subjLookup    = "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP"
	subjClaims    = "$SYS.REQ.CLAIMS.UPDATE"
	subjList      = "$SYS.REQ.CLAIMS.LIST"
	subjPack      = "$SYS.REQ.CLAIMS.PACK"
	subjDelete    = "$SYS.REQ.CLAIMS.DELETE"
)

// natsPeer is the system-account connection: it sends notifications (queued while NATS is
// away) and answers the resolver protocol.
type natsPeer struct {
	s    *Server
	nc   *nats.Conn
	info server.ServerInfo
	seq  atomic.Uint64

	syncWanted atomic.Bool

	mu        sync.Mutex
	pending   map[string]struct{} // accounts whose latest JWT must still be announced
	deletes   []string            // delete requests to forward
	wake      chan struct{}
	done      chan struct{}
	stopped   chan struct{}
	inbox     string // prefix of notification replies
	packIB    string // replies to our pack requests
	syncEvery time.Duration
}

func startPeer(s *Server, cfg NATSConfig) (*natsPeer, error) {
	name := cfg.Name
	if name == "" {
		name = "signet"
	}
	p := &natsPeer{
		s:         s,
		info:      server.ServerInfo{Name: name, Host: "signet", ID: "SIGNET" + nuid.Next(), Version: "signet"},
		pending:   make(map[string]struct{}),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		stopped:   make(chan struct{}),
		syncEvery: cfg.SyncInterval,
	}
	if p.syncEvery <= 0 {
		p.syncEvery = time.Minute
	}
	wait := cfg.ReconnectWait
	if wait <= 0 {
		wait = time.Second
	}
	opts := []nats.Option{
		nats.Name("signet serve"),
		nats.NoEcho(), // our own notifications and forwarded deletes must not come back to us
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.ReconnectBufSize(-1), // publish fails while away; our queue keeps the updates
		nats.ConnectHandler(func(*nats.Conn) { s.log.Info("connected to nats"); p.kick(true) }),
		nats.ReconnectHandler(func(*nats.Conn) { s.log.Info("reconnected to nats"); p.kick(true) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				s.log.Warn("disconnected from nats", "err", err)
			}
		}),
	}
	if cfg.ConnectTimeout > 0 {
		opts = append(opts, nats.Timeout(cfg.ConnectTimeout))
	}
	if cfg.UserCredentials != "" {
		opts = append(opts, nats.UserCredentials(cfg.UserCredentials))
	}
	if cfg.TLS.Root != "" {
		opts = append(opts, nats.RootCAs(cfg.TLS.Root))
	}
	if cfg.TLS.Cert != "" || cfg.TLS.Key != "" {
		opts = append(opts, nats.ClientCert(cfg.TLS.Cert, cfg.TLS.Key))
	}
	s.log.Info("connecting to nats for notifications", "servers", strings.Join(cfg.Servers, ","))
	nc, err := nats.Connect(strings.Join(cfg.Servers, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	p.nc = nc
	if !nc.IsConnected() {
		s.log.Warn("nats is not reachable yet; retrying in the background", "every", wait)
	}
	p.inbox = nc.NewRespInbox()
	p.packIB = nc.NewRespInbox()
	subs := []struct {
		subj, queue string
		h           nats.MsgHandler
	}{
		{p.inbox + ".*", "", p.onNotifyReply},
		{p.packIB, "", p.onPackReply},
		{subjLookup, "", p.onLookup},
		{subjClaims, "", p.onClaimsUpdate},
		{fmt.Sprintf(subjUpdateNew, "*"), "", p.onAccountUpdate},
		{fmt.Sprintf(subjUpdateOld, "*"), "", p.onAccountUpdate},
		{subjList, "", p.onList},
		{subjPack, "responder", p.onPack},
		{subjDelete, "", p.onDelete},
	}
	for _, sub := range subs {
		if _, err := nc.QueueSubscribe(sub.subj, sub.queue, sub.h); err != nil {
			nc.Close()
			return nil, fmt.Errorf("subscribe %s: %w", sub.subj, err)
		}
	}
	go p.loop()
	p.kick(true)
	return p, nil
}

func (p *natsPeer) connected() bool { return p.nc != nil && p.nc.IsConnected() }

// kick wakes the sender; sync also asks for a store comparison.
func (p *natsPeer) kick(sync bool) {
	if sync {
		p.syncWanted.Store(true)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *natsPeer) enqueue(pub string) {
	p.mu.Lock()
	p.pending[pub] = struct{}{}
	p.mu.Unlock()
	p.kick(false)
}

func (p *natsPeer) forwardDelete(token string) {
	p.mu.Lock()
	p.deletes = append(p.deletes, token)
	p.mu.Unlock()
	p.kick(false)
}

func (p *natsPeer) loop() {
	defer close(p.stopped)
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	sync := time.NewTicker(p.syncEvery)
	defer sync.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-p.wake:
		case <-retry.C:
		case <-sync.C:
			p.requestPack()
		}
		if p.syncWanted.Swap(false) {
			p.requestPack()
		}
		p.flushPending()
	}
}

// flushPending publishes every queued notification; what cannot be confirmed (by a flush round
// trip) goes back into the queue.
func (p *natsPeer) flushPending() {
	if !p.connected() {
		return
	}
	p.mu.Lock()
	if len(p.pending) == 0 && len(p.deletes) == 0 {
		p.mu.Unlock()
		return
	}
	batch, dels := p.pending, p.deletes
	p.pending, p.deletes = make(map[string]struct{}), nil
	p.mu.Unlock()

	var failed []string
	sent := 0
	for pub := range batch {
		e, err := p.s.lookup(pub)
		if err != nil {
			continue // deleted meanwhile: nothing to announce
		}
		data := []byte(e.JWT)
		reply := fmt.Sprintf("%s.%d", p.inbox, p.seq.Add(1))
		if err := p.nc.PublishRequest(fmt.Sprintf(subjUpdateNew, pub), reply, data); err != nil {
			failed = append(failed, pub)
			continue
		}
		if err := p.nc.Publish(fmt.Sprintf(subjUpdateOld, pub), data); err != nil {
			failed = append(failed, pub)
			continue
		}
		sent++
	}
	var failedDels []string
	for _, d := range dels {
		if err := p.nc.Publish(subjDelete, []byte(d)); err != nil {
			failedDels = append(failedDels, d)
		}
	}
	if err := p.nc.FlushTimeout(5 * time.Second); err != nil {
		p.s.log.Warn("notifications not confirmed; will resend", "err", err)
		p.s.metrics.notifyFailed.Add(float64(len(batch)))
		p.requeue(batch, dels)
		return
	}
	p.s.metrics.notifySent.Add(float64(sent))
	if len(failed) > 0 || len(failedDels) > 0 {
		p.s.metrics.notifyFailed.Add(float64(len(failed)))
		re := make(map[string]struct{}, len(failed))
		for _, f := range failed {
			re[f] = struct{}{}
		}
		p.requeue(re, failedDels)
	}
}

func (p *natsPeer) requeue(batch map[string]struct{}, dels []string) {
	p.mu.Lock()
	for k := range batch {
		p.pending[k] = struct{}{}
	}
	p.deletes = append(dels, p.deletes...)
	p.mu.Unlock()
}

// pendingCount is the number of notifications not yet sent.
func (p *natsPeer) pendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) + len(p.deletes)
}

func (p *natsPeer) onNotifyReply(m *nats.Msg) {
	var resp server.ServerAPIClaimUpdateResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		p.s.metrics.notifyReply.WithLabelValues("malformed").Inc()
		return
	}
	srv := ""
	if resp.Server != nil {
		srv = resp.Server.Name
	}
	if resp.Error != nil {
		p.s.metrics.notifyReply.WithLabelValues("error").Inc()
		p.s.metrics.notifyFailed.Inc()
		p.s.log.Warn("server refused account update", "server", srv, "account", resp.Error.Account, "err", resp.Error.Description)
		return
	}
	p.s.metrics.notifyReply.WithLabelValues("ok").Inc()
	if resp.Data != nil {
		p.s.log.Debug("server applied account update", "server", srv, "account", resp.Data.Account, "message", resp.Data.Message)
	}
}

func (p *natsPeer) respond(m *nats.Msg, v any) {
	if m.Reply == "" {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		p.s.log.Error("encode nats reply", "err", err)
		return
	}
	if err := m.Respond(data); err != nil {
		p.s.log.Debug("nats reply", "err", err)
	}
}

func (p *natsPeer) serverInfo() *server.ServerInfo {
	info := p.info
	info.Seq = p.seq.Add(1)
	info.Time = time.Now().UTC()
	return &info
}

// respondUpdate answers in nats-server's ServerAPIClaimUpdateResponse shape.
func (p *natsPeer) respondUpdate(m *nats.Msg, acc, message string, err error) {
	resp := server.ServerAPIClaimUpdateResponse{Server: p.serverInfo()}
	if err == nil {
		resp.Data = &server.ClaimUpdateStatus{Account: acc, Code: http.StatusOK, Message: message}
	} else {
		resp.Error = &server.ClaimUpdateError{Account: acc, Code: statusOf(err), Description: fmt.Sprintf("%s - %s", message, oneLine(err))}
	}
	p.respond(m, resp)
}

func (p *natsPeer) onLookup(m *nats.Msg) {
	p.s.metrics.natsRequests.WithLabelValues("lookup").Inc()
	if m.Reply == "" {
		return
	}
	tk := strings.Split(m.Subject, ".")
	if len(tk) != 6 {
		return
	}
	e, err := p.s.lookup(tk[3])
	if err != nil {
		m.Respond(nil) // an empty reply tells the asking server we do not have it
		return
	}
	m.Respond([]byte(e.JWT))
}

func (p *natsPeer) handleUpdate(m *nats.Msg, expected string) {
	res, err := p.s.update(strings.TrimSpace(string(m.Data)), expected, fromNATS)
	acc := res.pub
	if acc == "" {
		acc = expected
	}
	if acc == "" {
		acc = "n/a"
	}
	switch {
	case err != nil:
		p.respondUpdate(m, acc, "jwt update resulted in error", err)
	case res.changed:
		p.respondUpdate(m, acc, "jwt updated", nil)
	default:
		p.respondUpdate(m, acc, "jwt unchanged", nil)
	}
}

func (p *natsPeer) onClaimsUpdate(m *nats.Msg) {
	p.s.metrics.natsRequests.WithLabelValues("update").Inc()
	p.handleUpdate(m, "")
}

// onAccountUpdate handles updates announced by others on the per-account subjects.
func (p *natsPeer) onAccountUpdate(m *nats.Msg) {
	p.s.metrics.natsRequests.WithLabelValues("account_update").Inc()
	tk := strings.Split(m.Subject, ".")
	var pub string
	switch len(tk) {
	case 6: // $SYS.REQ.ACCOUNT.<pub>.CLAIMS.UPDATE
		pub = tk[3]
	case 5: // $SYS.ACCOUNT.<pub>.CLAIMS.UPDATE
		pub = tk[2]
	default:
		return
	}
	p.handleUpdate(m, pub)
}

func (p *natsPeer) onList(m *nats.Msg) {
	p.s.metrics.natsRequests.WithLabelValues("list").Inc()
	ids := make([]string, 0, p.s.store.Len())
	if err := p.s.store.Range(func(pub, _ string) bool { ids = append(ids, pub); return true }); err != nil {
		p.s.log.Error("list request", "err", err)
		return // let them time out, as nats-server does
	}
	p.respond(m, map[string]any{"server": p.serverInfo(), "data": ids})
}

// onPack answers a full resolver's store comparison: nothing if the hashes match, else every JWT
// (one per message) and an empty message to end.
func (p *natsPeer) onPack(m *nats.Msg) {
	p.s.metrics.natsRequests.WithLabelValues("pack").Inc()
	if m.Reply == "" {
		return
	}
	ours, err := p.s.store.Hash()
	if err != nil {
		p.s.log.Error("pack request: store hash", "err", err)
		return
	}
	if string(m.Data) == string(ours[:]) {
		m.Respond(nil)
		return
	}
	now := time.Now().Unix()
	err = p.s.store.Range(func(pub, token string) bool {
		if e := jwtstore.NewEntry(token); e.Expires > 0 && e.Expires < now {
			return true
		}
		return p.nc.Publish(m.Reply, []byte(pub+"|"+token)) == nil
	})
	if err != nil {
		p.s.log.Error("pack request", "err", err)
		return
	}
	m.Respond(nil)
}

// requestPack asks the full resolvers to send what differs from our store.
func (p *natsPeer) requestPack() {
	if !p.connected() {
		return
	}
	h, err := p.s.store.Hash()
	if err != nil {
		p.s.log.Error("store hash", "err", err)
		return
	}
	if err := p.nc.PublishRequest(subjPack, p.packIB, h[:]); err != nil {
		p.s.log.Debug("pack request", "err", err)
	}
}

// onPackReply merges a pack message, keeping the newer JWT and trusting nothing unverified.
func (p *natsPeer) onPackReply(m *nats.Msg) {
	if len(m.Data) == 0 {
		return
	}
	if p.s.store.ReadOnly() {
		return
	}
	for _, line := range strings.Split(string(m.Data), "\n") {
		if line == "" {
			continue
		}
		pub, token, ok := strings.Cut(line, "|")
		if !ok {
			p.s.log.Warn("malformed pack line")
			continue
		}
		if _, err := p.s.update(token, pub, fromPack); err != nil {
			p.s.log.Warn("pack merge refused", "account", pub, "err", oneLine(err))
		}
	}
}

func (p *natsPeer) onDelete(m *nats.Msg) {
	p.s.metrics.natsRequests.WithLabelValues("delete").Inc()
	n, err := p.s.deleteAccounts(strings.TrimSpace(string(m.Data)), "", false)
	if err != nil {
		p.respondUpdate(m, "", "delete accounts request failed", err)
		return
	}
	p.respondUpdate(m, "", fmt.Sprintf("deleted %d accounts", n), nil)
}

// stop sends what is pending (if connected), drains the connection and stops the sender.
func (p *natsPeer) stop(ctx context.Context) error {
	close(p.done)
	<-p.stopped
	p.flushPending()
	if left := p.pendingCount(); left > 0 {
		p.s.log.Warn("stopping with unsent notifications", "count", left)
	}
	closed := make(chan struct{})
	p.nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := p.nc.Drain(); err != nil {
		p.nc.Close()
		return nil
	}
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		p.nc.Close()
		return errors.New("nats drain: " + ctx.Err().Error())
	}
}
