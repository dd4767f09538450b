package jwtstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// DefaultKVBucket is the JetStream KV bucket a KV store uses when none is named.
const DefaultKVBucket = "signet_accounts"

// ErrKVFailover marks what OnError is told while JetStream moves a leader or loses a server:
// expected during a failover, and recovered from without help.
var ErrKVFailover = errors.New("jetstream failover in progress")

// DefaultKVHistory is how many revisions of each key a bucket created by OpenKV keeps.
const DefaultKVHistory = 10

// minKVHistory: fewer revisions than this would make a rollback of one account guesswork.
const minKVHistory = 5

// kvAnnounceConsumer is the durable consumer every replica of a bucket shares: JetStream hands
// each change to one of them.
const kvAnnounceConsumer = "signet-announce"

// DefaultKVAckWait is how long a replica may hold a change without saying it is still at it;
// held changes are kept alive every third of it, so another replica takes them only if this one
// is gone.
const DefaultKVAckWait = 30 * time.Second

// Key prefixes in the bucket: accounts, and records by area (without the area's dot).
const (
	kvAccountPrefix = "acc."
	kvRecordPrefix  = "rec."
)

// KVOptions configure OpenKV.
type KVOptions struct {
	// Bucket is the KV bucket; default DefaultKVBucket.
	Bucket string
	// Replicas is the bucket's replication when OpenKV creates it; default 1. An existing
	// bucket is used as it is.
	Replicas int
	// History is how many revisions of each key a bucket created by OpenKV keeps; default
	// DefaultKVHistory, at least 5, at most 64.
	History int
	// OutboxArea is the record area whose changes are handed out by Announce (default
	// ".outbox"): the bucket's stream is the outbox, so its records are not kept as such.
	OutboxArea string
	// Accept, when set, is asked about every JWT that enters the local copy from the bucket;
	// one it refuses is not served (the bucket can be written by anyone who holds its
	// credentials, not only by replicas that verified what they wrote).
	Accept func(pub, jwt string) error
	// OnError is told about problems met in the background (a refused JWT, a failed ack).
	OnError func(error)
	// AckWait is how long a change handed to a replica that went silent waits before another
	// replica gets it; default DefaultKVAckWait. Every replica should use the same.
	AckWait time.Duration
	// Timeout bounds each JetStream operation; default 10 s (long enough for a stream leader
	// to be elected again after a node is lost).
	Timeout time.Duration
}

// KV is a Store (and Committer, Refresher, Announcer) kept in a JetStream KV bucket, shared by
// any number of account servers. Reads are served from a local copy that a watch of the bucket
// keeps current; writes go to the bucket with compare-and-set on the account's revision, and
// are acknowledged only once JetStream has stored them (on a majority of the stream's
// replicas).
type KV struct {
	opts   KVOptions
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	str    jetstream.Stream // the bucket's stream: last message of a key, progress of the watch
	stream string
	prefix string // subject prefix of the bucket's keys: $KV.<bucket>.

	cache *Memory
	recs  *memRecords
	// mu orders changes of the copy (cache and revs together) with Entry, which reads both.
	mu   sync.RWMutex
	revs map[string]uint64 // bucket key -> last revision applied (put or delete)

	ctx       context.Context
	cancel    context.CancelFunc
	watchDone chan struct{}
	// watchSeq is a stream sequence the copy is complete up to: for every key it holds the
	// value as of watchSeq or a later one. The watch goroutine writes it (advance); Refresh
	// waits for it (waitWatch).
	watchSeq atomic.Uint64
	// seqMu guards seqMoved, which is closed (and replaced) each time watchSeq advances.
	seqMu    sync.Mutex
	seqMoved chan struct{}

	annMu    sync.Mutex
	held     map[string][]jetstream.Msg // outbox record name -> changes delivered, not yet done
	consumer jetstream.ConsumeContext
}

// OpenKV opens (creating it if needed) the bucket over nc, loads it into memory and keeps
// watching it. nc stays the caller's: close it after Close.
func OpenKV(nc *nats.Conn, opts KVOptions) (*KV, error) {
	if opts.Bucket == "" {
		opts.Bucket = DefaultKVBucket
	}
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	switch {
	case opts.History == 0:
		opts.History = DefaultKVHistory
	case opts.History < minKVHistory || opts.History > jetstream.KeyValueMaxHistory:
		return nil, fmt.Errorf("kv history %d: keep between %d and %d revisions", opts.History, minKVHistory, jetstream.KeyValueMaxHistory)
	}
	if opts.OutboxArea == "" {
		opts.OutboxArea = ".outbox"
	}
	if !validArea(opts.OutboxArea) {
		return nil, fmt.Errorf("kv outbox area %q: %w", opts.OutboxArea, ErrBadRecord)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.AckWait <= 0 {
		opts.AckWait = DefaultKVAckWait
	}
	if opts.OnError == nil {
		opts.OnError = func(error) {}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	k := &KV{
		opts:   opts,
		js:     js,
		stream: "KV_" + opts.Bucket,
		prefix: "$KV." + opts.Bucket + ".",
		cache:  NewMemory(),
		recs:   newMemRecords(),
		revs:   map[string]uint64{},
		held:   map[string][]jetstream.Msg{},

		seqMoved: make(chan struct{}),
	}
	ctx, cancel := k.opCtx()
	defer cancel()
	if k.kv, err = openBucket(ctx, js, opts); err != nil {
		return nil, err
	}
	if k.str, err = js.Stream(ctx, k.stream); err != nil {
		return nil, fmt.Errorf("kv bucket %s: stream: %w", opts.Bucket, err)
	}
	// The consumer exists from the first open on: a change written before any replica
	// announces is still handed out once one does.
	_, err = js.CreateOrUpdateConsumer(ctx, k.stream, jetstream.ConsumerConfig{
		Durable:        kvAnnounceConsumer,
		Description:    "signet serve: account changes to announce to NATS, one replica each",
		FilterSubjects: []string{k.prefix + kvAccountPrefix + ">", k.prefix + kvRecordPrefix + opts.OutboxArea[1:] + ".>"},
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        opts.AckWait,
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		MaxAckPending:  100000,
	})
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: announcement consumer: %w", opts.Bucket, err)
	}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	if err := k.load(); err != nil {
		k.cancel()
		return nil, err
	}
	return k, nil
}

func openBucket(ctx context.Context, js jetstream.JetStream, opts KVOptions) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, opts.Bucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("kv bucket %s: %w", opts.Bucket, err)
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      opts.Bucket,
		Description: "signet account JWTs",
		History:     uint8(opts.History),
		Replicas:    opts.Replicas,
		Storage:     jetstream.FileStorage,
	})
	if errors.Is(err, jetstream.ErrBucketExists) { // another replica created it meanwhile
		kv, err = js.KeyValue(ctx, opts.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("create kv bucket %s: %w", opts.Bucket, err)
	}
	return kv, nil
}

// kvAttempt bounds one attempt of a write. A write sent to a stream leader that dies gets no
// answer; it is made again (to the new leader) instead of waited for until Timeout.
const kvAttempt = time.Second

// write runs fn until it succeeds, fails for a reason other than a missing answer, or Timeout
// passes. Only compare-and-set writes and plain puts go through it: made twice, a CAS write
// whose first answer was lost fails as a conflict, which the writer resolves by reading again.
func (k *KV) write(fn func(context.Context) (uint64, error)) (uint64, error) {
	deadline := time.Now().Add(k.opts.Timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), min(kvAttempt, time.Until(deadline)))
		rev, err := fn(ctx)
		cancel()
		if err == nil || !noAnswer(err) || time.Until(deadline) < 50*time.Millisecond {
			return rev, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// noAnswer reports whether err says that JetStream did not answer (rather than refused).
func noAnswer(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// opCtx bounds one JetStream operation.
func (k *KV) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), k.opts.Timeout)
}

// load reads the bucket's current state, then keeps applying its changes in the background.
func (k *KV) load() error {
	w, err := k.kv.WatchAll(k.ctx)
	if err != nil {
		return fmt.Errorf("watch kv bucket %s: %w", k.opts.Bucket, err)
	}
	// A large bucket takes a while to arrive; what matters is that it keeps arriving.
	stall := time.NewTimer(k.opts.Timeout)
	defer stall.Stop()
loading:
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("watch kv bucket %s: closed while loading", k.opts.Bucket)
			}
			if e == nil {
				break loading
			}
			k.applyEntry(e)
			k.advance(e.Revision())
			stall.Reset(k.opts.Timeout)
		case <-stall.C:
			w.Stop()
			return fmt.Errorf("load kv bucket %s: nothing arrived for %s", k.opts.Bucket, k.opts.Timeout)
		}
	}
	k.watchDone = make(chan struct{})
	go k.follow(w)
	return nil
}

// follow applies the bucket's changes as the watch brings them. A watch can end (its consumer
// lost with a stream leader, say): a new one starts, which brings every key's latest value again
// before the changes that follow, so nothing missed in between stays missed.
func (k *KV) follow(w jetstream.KeyWatcher) {
	defer close(k.watchDone)
	for current := true; ; current = false { // load brought the first watch's latest values
		if k.drain(w, current); k.ctx.Err() != nil {
			w.Stop()
			return
		}
		w.Stop()
		for {
			select {
			case <-k.ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			var err error
			if w, err = k.kv.WatchAll(k.ctx); err == nil {
				break
			}
			k.opts.OnError(fmt.Errorf("watch kv bucket %s again: %w", k.opts.Bucket, err))
		}
	}
}

// watchCheck is how often the watch's progress is compared with the stream's.
const watchCheck = time.Second

// drain applies what w brings until it ends, falls behind without moving, or the store closes.
// A watch's consumer can be lost with a stream leader without the watch noticing: once the
// stream holds messages the watch has not brought, and the watch has brought nothing since
// the previous check, it is given up for a new one.
//
// current says that w has brought every key's latest value already (its first nil). A new
// watch brings only those latest values, so until it has brought them all, a key whose
// latest value comes later may still lack an earlier one that the sequence brought so far
// covers (a tombstone replaced after the account's delete marker): watchSeq advances only
// once it has.
func (k *KV) drain(w jetstream.KeyWatcher, current bool) {
	tick := time.NewTicker(watchCheck)
	defer tick.Stop()
	brought := k.watchSeq.Load() // the highest sequence w (or the watch before it) brought
	behindAt := uint64(0)        // brought when the watch was last seen behind; 0: it was not
	for {
		select {
		case <-k.ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				current = true
			} else {
				k.applyEntry(e)
				brought = max(brought, e.Revision())
			}
			if current {
				k.advance(brought)
			}
		case <-tick.C:
			if !k.behind(brought) {
				behindAt = 0
				continue
			}
			if behindAt != 0 && behindAt == brought {
				k.opts.OnError(fmt.Errorf("watch of kv bucket %s stalled at sequence %d; watching it again", k.opts.Bucket, brought))
				return
			}
			behindAt = brought
		}
	}
}

// behind reports whether the stream holds messages past seq, what the watch brought.
func (k *KV) behind(seq uint64) bool {
	ctx, cancel := context.WithTimeout(k.ctx, 2*watchCheck)
	defer cancel()
	info, err := k.str.Info(ctx)
	if err != nil {
		return false // the stream cannot say; the watch is given the benefit of the doubt
	}
	return info.State.LastSeq > seq
}

// advance records that the copy holds, for every key, its value as of stream sequence seq or a
// later one (the watch brings changes in order), and wakes whoever waits for it. It is called
// after the message is applied, so a waiter that sees seq finds the copy holding it.
func (k *KV) advance(seq uint64) {
	if seq <= k.watchSeq.Load() {
		return
	}
	k.seqMu.Lock()
	defer k.seqMu.Unlock()
	k.watchSeq.Store(seq)
	close(k.seqMoved)
	k.seqMoved = make(chan struct{})
}

// waitWatch returns once the copy is complete up to stream sequence seq (watchSeq), or an error
// when ctx ends (or the store closes) first.
func (k *KV) waitWatch(ctx context.Context, seq uint64) error {
	for {
		k.seqMu.Lock()
		moved := k.seqMoved
		k.seqMu.Unlock()
		// Read after taking the channel: an advance past this read closes that channel.
		at := k.watchSeq.Load()
		if at >= seq {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("watch of kv bucket %s at sequence %d, not yet at %d: %w", k.opts.Bucket, at, seq, ctx.Err())
		case <-k.ctx.Done():
			return fmt.Errorf("kv bucket %s: store closed while waiting for its watch", k.opts.Bucket)
		}
	}
}

func (k *KV) applyEntry(e jetstream.KeyValueEntry) {
	k.apply(e.Key(), e.Operation() == jetstream.KeyValuePut, e.Revision(), e.Value())
}

// apply brings one change of the bucket into the local copy, unless the copy already holds
// that revision or a later one (the watch and the writer's own answer both bring a write).
func (k *KV) apply(key string, put bool, rev uint64, value []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if rev <= k.revs[key] {
		return
	}
	k.revs[key] = rev
	if pub, ok := strings.CutPrefix(key, kvAccountPrefix); ok {
		if !put {
			k.cache.Delete(pub)
			return
		}
		tok := string(value)
		if k.opts.Accept != nil {
			if err := k.opts.Accept(pub, tok); err != nil {
				k.cache.Delete(pub)
				k.opts.OnError(fmt.Errorf("kv bucket %s holds an account jwt for %s that is not served: %w", k.opts.Bucket, pub, err))
				return
			}
		}
		e := NewEntry(tok)
		e.Revision = rev
		k.cache.set(pub, e)
		return
	}
	area, name, ok := splitRecordKey(key)
	if !ok || area == k.opts.OutboxArea {
		return
	}
	if put {
		k.recs.put(Record{Area: area, Name: name, Data: value})
	} else {
		k.recs.remove(area, name)
	}
}

func recordKey(area, name string) string { return kvRecordPrefix + area[1:] + "." + name }

func splitRecordKey(key string) (area, name string, ok bool) {
	rest, ok := strings.CutPrefix(key, kvRecordPrefix)
	if !ok {
		return "", "", false
	}
	a, n, ok := strings.Cut(rest, ".")
	if !ok {
		return "", "", false
	}
	return "." + a, n, true
}

// Bucket is the bucket's name.
func (k *KV) Bucket() string { return k.opts.Bucket }

// Get implements Store.
func (k *KV) Get(pub string) (string, error) { return k.cache.Get(pub) }

// Entry implements Store. Its Revision is the bucket's latest revision of the account as far as
// the copy knows, also when the account is absent (deleted: ErrNotFound with a Revision), so a
// writer's compare-and-set starts from it.
func (k *KV) Entry(pub string) (Entry, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	e, err := k.cache.Entry(pub)
	e.Revision = k.revs[kvAccountPrefix+pub]
	return e, err
}

// Refresh implements Refresher: it reads the account's latest revision from the bucket's
// stream itself (a deletion included, so a writer can compare-and-set on it), then waits, within
// Timeout, until the watch has brought the copy up to that revision: every key as of it or
// later. So once it answers (an Entry, or ErrNotFound), the copy holds what was written to the
// bucket before that revision (the tombstone record a delete writes before the account's delete
// marker, say), not only the account; if the watch does not get there in time it returns
// another error, never a copy that skipped earlier messages.
func (k *KV) Refresh(pub string) (Entry, error) {
	ctx, cancel := k.opCtx()
	defer cancel()
	key := kvAccountPrefix + pub
	m, err := k.str.GetLastMsgForSubject(ctx, k.prefix+key)
	switch {
	case err == nil:
		if err := k.waitWatch(ctx, m.Sequence); err != nil {
			return Entry{}, fmt.Errorf("refresh %s: %w", pub, err)
		}
		// The watch brought it or a later revision already; apply keeps the later one.
		op := ""
		if m.Header != nil {
			op = m.Header.Get("KV-Operation")
		}
		k.apply(key, op == "", m.Sequence, m.Data)
	case errors.Is(err, jetstream.ErrMsgNotFound):
	default:
		return Entry{}, fmt.Errorf("read %s from kv bucket %s: %w", pub, k.opts.Bucket, err)
	}
	return k.Entry(pub)
}

// Put implements Store: it stores jwt whatever the bucket holds (no compare-and-set).
func (k *KV) Put(pub, jwt string) error {
	if !nkeys.IsValidPublicAccountKey(pub) {
		return fmt.Errorf("put %q: not an account public key", pub)
	}
	key := kvAccountPrefix + pub
	rev, err := k.write(func(ctx context.Context) (uint64, error) { return k.kv.Put(ctx, key, []byte(jwt)) })
	if err != nil {
		return fmt.Errorf("put %s in kv bucket %s: %w", pub, k.opts.Bucket, err)
	}
	k.apply(key, true, rev, []byte(jwt))
	return nil
}

// Delete implements Store.
func (k *KV) Delete(pub string) error {
	ctx, cancel := k.opCtx()
	defer cancel()
	if err := k.kv.Delete(ctx, kvAccountPrefix+pub); err != nil {
		return fmt.Errorf("delete %s from kv bucket %s: %w", pub, k.opts.Bucket, err)
	}
	k.dropLocal(pub) // the marker's revision arrives with the watch
	return nil
}

// dropLocal removes pub from the copy after this replica deleted it.
func (k *KV) dropLocal(pub string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cache.Delete(pub)
}

// Range implements Store.
func (k *KV) Range(fn func(pub, jwt string) bool) error { return k.cache.Range(fn) }

// Len implements Store.
func (k *KV) Len() int { return k.cache.Len() }

// Hash implements Store.
func (k *KV) Hash() ([32]byte, error) { return k.cache.Hash() }

// LenIssuedBy implements ByIssuer: the local copy has read every JWT it holds, none is unread.
func (k *KV) LenIssuedBy(keep func(issuer string) bool) (int, int) {
	return k.cache.LenIssuedBy(keep)
}

// HashIssuedBy implements ByIssuer.
func (k *KV) HashIssuedBy(keep func(issuer string) bool) ([32]byte, error) {
	return k.cache.HashIssuedBy(keep)
}

// RangeIssuedBy implements ByIssuer, over the local copy.
func (k *KV) RangeIssuedBy(keep func(issuer string) bool, fn func(pub string, e Entry) bool) error {
	return k.cache.RangeIssuedBy(keep, fn)
}

// ReadOnly implements Store: a KV store is writable (JetStream decides who may write).
func (k *KV) ReadOnly() bool { return false }

// Commit implements Committer. Records are created (a record that exists already fails the
// commit with ErrRecordExists: that is how replicas share the replay guard), then JWTs are put
// with compare-and-set on their Revision (ErrConflict when another writer came first), then
// deleted. Each step is stored by JetStream before the next; the batch is not atomic, but in the
// same order as the directory store's, with the same outcome for a crash in between.
func (k *KV) Commit(b Batch) error {
	for _, r := range b.Records {
		if err := checkRecord(r); err != nil {
			return err
		}
	}
	for _, p := range b.Puts {
		if !nkeys.IsValidPublicAccountKey(p.Pub) {
			return fmt.Errorf("put %q: not an account public key", p.Pub)
		}
	}
	ctx, cancel := k.opCtx()
	defer cancel()
	for _, r := range b.Records {
		key := recordKey(r.Area, r.Name)
		var rev uint64
		var err error
		if r.Replace {
			rev, err = k.kv.Put(ctx, key, r.Data)
		} else {
			rev, err = k.kv.Create(ctx, key, r.Data)
		}
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("record %s/%s: %w", r.Area, r.Name, ErrRecordExists)
		}
		if err != nil {
			return fmt.Errorf("record %s/%s in kv bucket %s: %w", r.Area, r.Name, k.opts.Bucket, err)
		}
		k.apply(key, true, rev, r.Data)
	}
	for _, p := range b.Puts {
		key := kvAccountPrefix + p.Pub
		rev, err := k.write(func(ctx context.Context) (uint64, error) {
			if p.Revision == 0 {
				return k.kv.Create(ctx, key, []byte(p.JWT))
			}
			return k.kv.Update(ctx, key, []byte(p.JWT), p.Revision)
		})
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("account %s: %w", p.Pub, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("put %s in kv bucket %s: %w", p.Pub, k.opts.Bucket, err)
		}
		k.apply(key, true, rev, []byte(p.JWT))
	}
	for _, pub := range b.Deletes {
		if err := k.kv.Delete(ctx, kvAccountPrefix+pub); err != nil {
			return fmt.Errorf("delete %s from kv bucket %s: %w", pub, k.opts.Bucket, err)
		}
		k.dropLocal(pub)
	}
	return nil
}

// Records implements Committer. The outbox area lists the changes handed to this replica by
// Announce and not yet removed.
func (k *KV) Records(area string) ([]Record, error) {
	if !validArea(area) {
		return nil, fmt.Errorf("records %q: %w", area, ErrBadRecord)
	}
	if area != k.opts.OutboxArea {
		return k.recs.list(area), nil
	}
	k.annMu.Lock()
	defer k.annMu.Unlock()
	out := make([]Record, 0, len(k.held))
	for name, msgs := range k.held {
		r := Record{Area: area, Name: name}
		if !nkeys.IsValidPublicAccountKey(name) && len(msgs) > 0 {
			r.Data = msgs[len(msgs)-1].Data()
		}
		out = append(out, r)
	}
	return out, nil
}

// Record implements Committer. In the outbox area it tells whether a change of that name is
// held by this replica (with the data of the last one).
func (k *KV) Record(area, name string) ([]byte, bool, error) {
	if err := checkRecord(Record{Area: area, Name: name}); err != nil {
		return nil, false, err
	}
	if area != k.opts.OutboxArea {
		d, ok := k.recs.get(area, name)
		return d, ok, nil
	}
	k.annMu.Lock()
	defer k.annMu.Unlock()
	msgs, ok := k.held[name]
	if !ok || len(msgs) == 0 {
		return nil, ok, nil
	}
	return append([]byte(nil), msgs[len(msgs)-1].Data()...), true, nil
}

// RemoveRecord implements Committer. In the outbox area it also tells JetStream that every
// change of that name handed to this replica is done.
func (k *KV) RemoveRecord(area, name string) error {
	if err := checkRecord(Record{Area: area, Name: name}); err != nil {
		return err
	}
	var errs []error
	if area == k.opts.OutboxArea {
		k.annMu.Lock()
		msgs := k.held[name]
		delete(k.held, name)
		k.annMu.Unlock()
		for _, m := range msgs {
			if err := m.Ack(); err != nil {
				errs = append(errs, fmt.Errorf("ack announced change %s: %w", name, err))
			}
		}
		if nkeys.IsValidPublicAccountKey(name) {
			return errors.Join(errs...) // an account change: nothing of it is a key of its own
		}
	}
	ctx, cancel := k.opCtx()
	defer cancel()
	if err := k.kv.Delete(ctx, recordKey(area, name)); err != nil {
		errs = append(errs, fmt.Errorf("remove record %s/%s from kv bucket %s: %w", area, name, k.opts.Bucket, err))
	}
	k.recs.remove(area, name)
	return errors.Join(errs...)
}

// Announce implements Announcer: it joins the replicas that take turns at the bucket's changes.
// fn is called for each change handed to this replica, one at a time, and must not block.
func (k *KV) Announce(fn func(Record)) error {
	ctx, cancel := k.opCtx()
	defer cancel()
	cons, err := k.js.Consumer(ctx, k.stream, kvAnnounceConsumer)
	if err != nil {
		return fmt.Errorf("kv bucket %s: announcement consumer: %w", k.opts.Bucket, err)
	}
	k.annMu.Lock()
	defer k.annMu.Unlock()
	if k.consumer != nil {
		return errors.New("kv store: already announcing")
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { k.deliver(m, fn) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrConsumerLeadershipChanged) || errors.Is(err, jetstream.ErrServerShutdown) ||
				errors.Is(err, jetstream.ErrNoHeartbeat) {
				err = fmt.Errorf("%w (%w)", err, ErrKVFailover)
			}
			k.opts.OnError(fmt.Errorf("kv bucket %s: announcements: %w", k.opts.Bucket, err))
		}))
	if err != nil {
		return fmt.Errorf("kv bucket %s: consume announcements: %w", k.opts.Bucket, err)
	}
	k.consumer = cc
	go k.keepHeld()
	return nil
}

// deliver hands one change of the stream to fn, as an outbox record.
func (k *KV) deliver(m jetstream.Msg, fn func(Record)) {
	key, ok := strings.CutPrefix(m.Subject(), k.prefix)
	op := ""
	if h := m.Headers(); h != nil {
		op = h.Get("KV-Operation")
	}
	var name string
	var data []byte
	switch {
	case !ok || op != "":
		// A deletion (its announcement, if any, is a delete request record) or not ours.
	case strings.HasPrefix(key, kvAccountPrefix):
		name = key[len(kvAccountPrefix):]
	default:
		if area, n, ok := splitRecordKey(key); ok && area == k.opts.OutboxArea {
			name, data = n, m.Data()
		}
	}
	if name == "" || !validRecordName(name) {
		if err := m.Ack(); err != nil {
			k.opts.OnError(fmt.Errorf("ack %s: %w", m.Subject(), err))
		}
		return
	}
	// The change may reach this replica before its watch does (another replica wrote it):
	// the copy takes it from the message, so what is announced is this change or a later one.
	if meta, err := m.Metadata(); err == nil {
		k.apply(key, true, meta.Sequence.Stream, m.Data())
	}
	k.annMu.Lock()
	k.held[name] = append(k.held[name], m)
	k.annMu.Unlock()
	fn(Record{Area: k.opts.OutboxArea, Name: name, Data: data})
}

// keepHeld tells JetStream, while this replica is alive, that the changes it holds are still
// being worked on (NATS may be away for a while), so no other replica takes them.
func (k *KV) keepHeld() {
	t := time.NewTicker(k.opts.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-k.ctx.Done():
			return
		case <-t.C:
		}
		k.annMu.Lock()
		var msgs []jetstream.Msg
		for _, ms := range k.held {
			msgs = append(msgs, ms...)
		}
		k.annMu.Unlock()
		for _, m := range msgs {
			if err := m.InProgress(); err != nil {
				k.opts.OnError(fmt.Errorf("keep announced change %s: %w", m.Subject(), err))
			}
		}
	}
}

// KVRevision is one revision of an account in the bucket's history.
type KVRevision struct {
	Revision uint64
	Created  time.Time
	// Deleted: the account was deleted at this revision (JWT is empty).
	Deleted bool
	JWT     string
}

// History lists the revisions of pub the bucket keeps, oldest first.
func (k *KV) History(pub string) ([]KVRevision, error) {
	ctx, cancel := k.opCtx()
	defer cancel()
	entries, err := k.kv.History(ctx, kvAccountPrefix+pub)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("history of %s in kv bucket %s: %w", pub, k.opts.Bucket, err)
	}
	out := make([]KVRevision, 0, len(entries))
	for _, e := range entries {
		r := KVRevision{Revision: e.Revision(), Created: e.Created(), Deleted: e.Operation() != jetstream.KeyValuePut}
		if !r.Deleted {
			r.JWT = string(e.Value())
		}
		out = append(out, r)
	}
	return out, nil
}

// Close implements Store: it stops watching and announcing. Changes handed to this replica and
// not done are given back at once, for another replica to announce.
func (k *KV) Close() error {
	k.annMu.Lock()
	cc := k.consumer
	k.consumer = nil
	held := k.held
	k.held = map[string][]jetstream.Msg{}
	k.annMu.Unlock()
	if cc != nil {
		cc.Stop()
	}
	var errs []error
	for _, msgs := range held {
		for _, m := range msgs {
			if err := m.Nak(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				errs = append(errs, err)
			}
		}
	}
	k.cancel()
	if k.watchDone != nil {
		<-k.watchDone
	}
	if len(errs) > 0 {
		return fmt.Errorf("give back %d announcements: %w", len(errs), errors.Join(errs...))
	}
	return nil
}
