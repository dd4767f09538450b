package accountserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/nats-io/nuid"

	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/redact"
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

// settleAfterConnect: a nats-server accepts clients before its routes to the rest of the
// cluster (and the interest they carry) are up, so an announcement made in the first moments of
// a connection may reach that server alone. What is announced before the connection is this old
// is announced again once it is, and only an answer to that later announcement empties the
// outbox.
const settleAfterConnect = 2 * time.Second

// resendAfter: an announcement no nats-server answered within this time is made again. Each
// time the same account's goes unanswered again the wait doubles, up to resendAfter <<
// maxResendDoublings (5 min 20 s); an answer, a new change of the account or a new connection
// brings it back to resendAfter.
const (
	resendAfter        = 5 * time.Second
	maxResendDoublings = 6
)

// loopTick is how often the sender looks at its queues without being woken.
const loopTick = 250 * time.Millisecond

// sentNote is an announcement waiting for a nats-server's answer.
type sentNote struct {
	seq     uint64
	at      time.Time
	settled bool // made on a settled connection: an answer confirms it
}

// fwdDelete is a delete request to forward to the NATS resolvers.
type fwdDelete struct {
	token   string
	due     bool // send at the next flush
	settled bool // last sent on a settled connection
}

// natsPeer is the system-account connection: it announces changes and answers the resolver
// protocol. What it must announce comes from the outbox (persisted by the store commit that
// made the change), so a change survives NATS outages and restarts: it is announced when the
// connection is up, again after any reconnect, and leaves the outbox only once a nats-server
// answered the announcement (deletes: once sent on a settled connection, as URL resolvers do
// not answer them).
type natsPeer struct {
	s    *Server
	nc   *nats.Conn
	info server.ServerInfo
	seq  atomic.Uint64

	syncWanted atomic.Bool

	mu          sync.Mutex
	pending     map[string]struct{} // accounts to announce at the next flush
	inflight    map[string]sentNote // announced, waiting for an answer
	unanswered  map[string]int      // announcements resent in a row without an answer
	bySeq       map[uint64]string   // reply sequence -> account
	confirmed   []string            // answered (or deleted): their outbox entries can go
	deletes     map[string]*fwdDelete
	connectedAt time.Time // zero while disconnected
	connGen     uint64    // the connection's reconnect count when connectedAt was set
	settled     bool

	wake      chan struct{}
	done      chan struct{}
	stopped   chan struct{}
	inbox     string // prefix of notification replies
	packIB    string // replies to our pack requests
	syncEvery time.Duration
	// settleAfter is settleAfterConnect unless NATSConfig.SettleAfterConnect says otherwise.
	settleAfter time.Duration
}

func startPeer(s *Server, cfg NATSConfig) (*natsPeer, error) {
	name := cfg.Name
	if name == "" {
		name = "signet"
	}
	p := &natsPeer{
		s:          s,
		info:       server.ServerInfo{Name: name, Host: "signet", ID: "SIGNET" + nuid.Next(), Version: "signet"},
		pending:    make(map[string]struct{}),
		inflight:   make(map[string]sentNote),
		unanswered: make(map[string]int),
		bySeq:      make(map[uint64]string),
		deletes:    make(map[string]*fwdDelete),
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		stopped:    make(chan struct{}),
		syncEvery:  cfg.SyncInterval,
	}
	if p.syncEvery <= 0 {
		p.syncEvery = time.Minute
	}
	switch p.settleAfter = cfg.SettleAfterConnect; {
	case p.settleAfter == 0:
		p.settleAfter = settleAfterConnect
	case p.settleAfter < 0:
		p.settleAfter = 0
	}
	wait := orDefault(cfg.ReconnectWait, defaultReconnectWait)
	opts := []nats.Option{
		nats.Name("signet serve"),
		nats.NoEcho(), // our own notifications and forwarded deletes must not come back to us
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.ReconnectBufSize(-1), // publish fails while away; our queue keeps the updates
		nats.ConnectHandler(func(nc *nats.Conn) { s.log.Info("connected to nats"); p.onConnected(nc) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { s.log.Info("reconnected to nats"); p.onConnected(nc) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			p.onDisconnected()
			if err != nil {
				s.log.Warn("disconnected from nats", "err", err)
			}
		}),
	}
	if cfg.ConnectTimeout > 0 {
		opts = append(opts, nats.Timeout(cfg.ConnectTimeout))
	}
	opts = append(opts, clientAuth(cfg.UserCredentials, cfg.TLS)...)
	accounts, deletes, err := s.outboxEntries()
	if err != nil {
		return nil, err
	}
	for _, pub := range accounts {
		p.pending[pub] = struct{}{}
	}
	for key, token := range deletes {
		p.deletes[key] = &fwdDelete{token: token, due: true}
	}
	if len(accounts)+len(deletes) > 0 {
		s.log.Info("outbox holds changes not yet announced; announcing them once connected",
			"accounts", len(accounts), "deletes", len(deletes))
	}
	s.log.Info("connecting to nats for notifications", "servers", redact.URLs(cfg.Servers))
	nc, err := dialNATS(cfg.Servers, opts)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	p.nc = nc
	if !nc.IsConnected() {
		s.log.Warn("nats is not reachable yet; retrying in the background", "every", wait)
	}
	p.inbox = nc.NewRespInbox()
	p.packIB = nc.NewRespInbox()
	// Replicas of one shared store answer each resolver request once: one queue group.
	shared := ""
	if kv, ok := s.store.(*jwtstore.KV); ok {
		shared = "signet-" + kv.Bucket()
	}
	subs := []struct {
		subj, queue string
		h           nats.MsgHandler
	}{
		{p.inbox + ".*", "", p.onNotifyReply},
		{p.packIB, "", p.onPackReply},
		{subjLookup, shared, p.onLookup},
		{subjClaims, shared, p.onClaimsUpdate},
		{fmt.Sprintf(subjUpdateNew, "*"), shared, p.onAccountUpdate},
		{fmt.Sprintf(subjUpdateOld, "*"), shared, p.onAccountUpdate},
		{subjList, shared, p.onList},
		{subjPack, "responder", p.onPack},
		{subjDelete, shared, p.onDelete},
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
	delete(p.unanswered, pub)
	p.mu.Unlock()
	p.kick(false)
}

// forwardDelete queues a delete request (already in the outbox under key) for the resolvers.
func (p *natsPeer) forwardDelete(key, token string) {
	p.mu.Lock()
	p.deletes[key] = &fwdDelete{token: token, due: true}
	p.mu.Unlock()
	p.kick(false)
}

// onConnected starts a connection's life: everything announced on an earlier connection and
// not answered is announced again, and the new connection is not settled yet.
func (p *natsPeer) onConnected(nc *nats.Conn) {
	p.mu.Lock()
	p.connectedAt = time.Now()
	p.connGen = nc.Stats().Reconnects
	p.settled = false
	clear(p.unanswered)
	for pub, n := range p.inflight {
		p.pending[pub] = struct{}{}
		delete(p.bySeq, n.seq)
	}
	clear(p.inflight)
	for _, d := range p.deletes {
		d.due = true
	}
	p.mu.Unlock()
	p.kick(true)
}

func (p *natsPeer) onDisconnected() {
	p.mu.Lock()
	p.connectedAt = time.Time{}
	p.settled = false
	p.mu.Unlock()
}

// settledLocked reports whether the connection has been up for settleAfter (and is still
// the one onConnected saw: a reconnect whose handler has not run yet is not settled). p.mu held.
func (p *natsPeer) settledLocked() bool {
	return p.settled && p.nc.Stats().Reconnects == p.connGen
}

// settle marks the connection settled once it is old enough, and queues again what was
// announced before: servers whose routes came up since then have not seen it.
func (p *natsPeer) settle(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.settled || p.connectedAt.IsZero() || now.Sub(p.connectedAt) < p.settleAfter ||
		!p.connected() || p.nc.Stats().Reconnects != p.connGen {
		return
	}
	p.settled = true
	for pub, n := range p.inflight {
		if !n.settled {
			p.pending[pub] = struct{}{}
			delete(p.inflight, pub)
			delete(p.bySeq, n.seq)
		}
	}
	for _, d := range p.deletes {
		if !d.settled {
			d.due = true
		}
	}
}

// resendStale queues again the announcements no server answered in time (see resendAfter).
func (p *natsPeer) resendStale(now time.Time) {
	p.mu.Lock()
	n := 0
	var longest time.Duration
	for pub, note := range p.inflight {
		wait := resendWait(p.unanswered[pub])
		if note.settled && now.Sub(note.at) >= wait {
			p.pending[pub] = struct{}{}
			delete(p.inflight, pub)
			delete(p.bySeq, note.seq)
			p.unanswered[pub]++
			longest = max(longest, wait)
			n++
		}
	}
	p.mu.Unlock()
	if n > 0 {
		p.s.log.Warn("no nats-server answered account update notifications; sending them again", "count", n, "after", longest)
	}
}

// resendWait is how long an announcement waits for an answer after going unanswered n times
// in a row.
func resendWait(n int) time.Duration {
	return resendAfter << min(n, maxResendDoublings)
}

func (p *natsPeer) loop() {
	defer close(p.stopped)
	tick := time.NewTicker(loopTick)
	defer tick.Stop()
	sync := time.NewTicker(p.syncEvery)
	defer sync.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-p.wake:
		case <-tick.C:
		case <-sync.C:
			p.syncWanted.Store(true)
		}
		now := time.Now()
		p.settle(now)
		p.resendStale(now)
		// Deletes go out before the pack request: a full resolver that answers the request
		// after applying the delete does not send the deleted account back.
		p.flushPending()
		if p.syncWanted.Swap(false) {
			p.requestPack()
		}
		p.applyConfirmed()
	}
}

// flushPending forwards the due delete requests, then announces every queued account with its
// current JWT (so an account deleted and added again ends up announced, not deleted). What
// cannot be confirmed by a flush round trip goes back into the queue.
func (p *natsPeer) flushPending() {
	if !p.connected() {
		return
	}
	now := time.Now()
	p.mu.Lock()
	settled := p.settledLocked()
	pubs := make([]string, 0, len(p.pending))
	for pub := range p.pending {
		pubs = append(pubs, pub)
	}
	clear(p.pending)
	type del struct{ key, token string }
	var dels []del
	for key, d := range p.deletes {
		if d.due {
			d.due, d.settled = false, settled
			dels = append(dels, del{key, d.token})
		}
	}
	p.mu.Unlock()
	if len(pubs) == 0 && len(dels) == 0 {
		return
	}

	var failedDels []string
	for _, d := range dels {
		if err := p.nc.Publish(subjDelete, []byte(d.token)); err != nil {
			failedDels = append(failedDels, d.key)
		}
	}
	var failed, gone, announced []string
	for _, pub := range pubs {
		e, err := p.s.lookup(pub)
		if errors.Is(err, jwtstore.ErrNotFound) {
			gone = append(gone, pub) // deleted meanwhile: nothing to announce
			continue
		}
		if err != nil {
			p.s.log.Warn("read account jwt to announce", "account", pub, "err", err)
			failed = append(failed, pub)
			continue
		}
		seq := p.seq.Add(1)
		// Recorded before publishing: the answer may come before Publish returns.
		p.mu.Lock()
		if old, ok := p.inflight[pub]; ok {
			delete(p.bySeq, old.seq)
		}
		p.inflight[pub] = sentNote{seq: seq, at: now, settled: settled}
		p.bySeq[seq] = pub
		p.mu.Unlock()
		// One message on the subject every resolver listens on: nats-servers since 2.2 (the
		// first to read JWT v2) handle it as they handle $SYS.REQ.ACCOUNT.<pub>.CLAIMS.UPDATE,
		// answering the reply subject, and nats-account-server listens on it alone. Sending
		// both made every nats-server verify and apply each change twice.
		reply := p.inbox + "." + strconv.FormatUint(seq, 10)
		if err := p.nc.PublishRequest(fmt.Sprintf(subjUpdateOld, pub), reply, []byte(e.JWT)); err != nil {
			failed = append(failed, pub)
			continue
		}
		// Counted once handed to the connection, before the flush: a server's answer can
		// arrive before the flush returns, and is never counted before its announcement.
		p.s.metrics.notifySent.Inc()
		announced = append(announced, pub)
	}
	if err := p.nc.FlushTimeout(5 * time.Second); err != nil {
		p.s.log.Warn("notifications not confirmed; will resend", "err", err)
		failed = append(failed, announced...)
		announced = nil
		failedDels = failedDels[:0]
		for _, d := range dels {
			failedDels = append(failedDels, d.key)
		}
	}
	p.s.metrics.notifyFailed.Add(float64(len(failed)))

	var delivered []string
	p.mu.Lock()
	for _, pub := range failed {
		if n, ok := p.inflight[pub]; ok {
			delete(p.bySeq, n.seq)
			delete(p.inflight, pub)
		}
		p.pending[pub] = struct{}{}
	}
	for _, key := range failedDels {
		if d, ok := p.deletes[key]; ok {
			d.due = true
		}
	}
	for _, d := range dels {
		if fd, ok := p.deletes[d.key]; ok && !fd.due && fd.settled {
			delete(p.deletes, d.key)
			delivered = append(delivered, d.key)
		}
	}
	p.confirmed = append(p.confirmed, gone...)
	p.mu.Unlock()
	for _, key := range delivered {
		p.s.removeRecord(outboxArea, outboxDeleteP+key)
	}
}

// applyConfirmed removes the outbox entries of answered announcements, unless the account
// changed again meanwhile. The account's key lock orders this with update, which writes the
// entry and queues the account under the same lock.
func (p *natsPeer) applyConfirmed() {
	p.mu.Lock()
	list := p.confirmed
	p.confirmed = nil
	p.mu.Unlock()
	for _, pub := range list {
		l := p.s.lockKey(pub)
		l.Lock()
		p.mu.Lock()
		_, queued := p.pending[pub]
		_, sent := p.inflight[pub]
		p.mu.Unlock()
		if !queued && !sent {
			p.s.removeRecord(outboxArea, pub)
		}
		l.Unlock()
	}
}

// pendingCount is the number of changes not yet confirmed.
func (p *natsPeer) pendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) + len(p.inflight) + len(p.deletes)
}

func (p *natsPeer) onNotifyReply(m *nats.Msg) {
	var resp server.ServerAPIClaimUpdateResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		p.s.metrics.notifyReply.WithLabelValues("malformed").Inc()
		return
	}
	if resp.Server == nil || !nkeys.IsValidPublicServerKey(resp.Server.ID) {
		// Another signet serve, or a nats-account-server: not a nats-server that applied the
		// update (a nats-server's id is its public server key).
		return
	}
	srv := resp.Server.Name
	p.confirm(m.Subject)
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

// confirm records a nats-server's answer to the announcement whose reply subject is subject.
// Only an answer to an announcement made on a settled connection confirms it.
func (p *natsPeer) confirm(subject string) {
	i := strings.LastIndexByte(subject, '.')
	seq, err := strconv.ParseUint(subject[i+1:], 10, 64)
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pub, ok := p.bySeq[seq]
	if !ok {
		return
	}
	if n := p.inflight[pub]; n.seq == seq && n.settled {
		delete(p.inflight, pub)
		delete(p.bySeq, seq)
		delete(p.unanswered, pub)
		p.confirmed = append(p.confirmed, pub)
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

// respondUpdate answers in nats-server's ServerAPIClaimUpdateResponse shape. Every error reply
// of the resolver protocol goes through it: it never shows a seed, neither one taken from the
// subject (acc) nor one quoted by err.
func (p *natsPeer) respondUpdate(m *nats.Msg, acc, message string, err error) {
	resp := server.ServerAPIClaimUpdateResponse{Server: p.serverInfo()}
	if err == nil {
		resp.Data = &server.ClaimUpdateStatus{Account: acc, Code: http.StatusOK, Message: message}
	} else {
		resp.Error = &server.ClaimUpdateError{Account: redact.Seeds(acc), Code: statusOf(err),
			Description: redact.Seeds(message + " - " + oneLine(err))}
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
	if err := p.s.rangeServed(func(pub string, _ jwtstore.Entry) bool { ids = append(ids, pub); return true }); err != nil {
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
	ours, err := p.s.servedHash()
	if err != nil {
		p.s.log.Error("pack request: store hash", "err", err)
		return
	}
	if string(m.Data) == string(ours[:]) {
		m.Respond(nil)
		return
	}
	now := time.Now().Unix()
	var line []byte // reused: Publish copies it
	err = p.s.rangeServed(func(pub string, e jwtstore.Entry) bool {
		if e.Expires > 0 && e.Expires < now {
			return true
		}
		line = appendPackLine(line[:0], pub, e.JWT)
		return p.nc.Publish(m.Reply, line) == nil
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
	h, err := p.s.servedHash()
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
	// nats-server's full resolver answers with these words, "1 accounts" included: a peer of it
	// answers alike, for tools that compare the text. The number is what this store removed
	// (the full resolver counts the names in the request).
	p.respondUpdate(m, "", fmt.Sprintf("deleted %d accounts", n), nil)
}

// stop sends what is pending (if connected), drains the connection (answers that arrived are
// processed) and stops the sender. What no server confirmed stays in the outbox for the next
// start.
func (p *natsPeer) stop(ctx context.Context) error {
	close(p.done)
	<-p.stopped
	p.flushPending()
	defer func() {
		p.applyConfirmed()
		if left := p.pendingCount(); left > 0 {
			p.s.log.Warn("stopping with notifications no nats-server confirmed; they stay in the outbox and are announced at the next start", "count", left)
		}
	}()
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
