// Package accountserver is signet's account server as a library: it stores account JWTs
// (through jwtstore), vends them over HTTP with nats-account-server's /jwt/v1 API (so nats-server's
// URL resolver and nsc work unchanged), notifies NATS servers through the system account when an
// account changes, and is a peer of nats-server's NATS-based resolver ($SYS.REQ.CLAIMS.*).
//
// Every JWT that enters the store, from HTTP, from NATS or from a pack exchange, passes
// VerifyAccountJWT first. Start it with New and Start; stop it with Shutdown.
package accountserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/redact"
)

// maxResignWait bounds how long signing mode waits for its clock to pass the stored JWT's iat
// before it re-signs (longer is a 409: the clocks disagree), and maxResignWaits how often one
// update waits (other updates of the account may keep moving it on).
const (
	maxResignWait  = 5 * time.Second
	maxResignWaits = 3
)

// maxConflictRetries bounds how often an update is decided again after another replica of a
// shared store wrote the same account first.
const maxConflictRetries = 5

// maxBody bounds a POSTed JWT (and a delete request).
const maxBody = 1 << 20

// trustState is what verification needs; it is swapped whole on Reload.
type trustState struct {
	op     *jwt.OperatorClaims
	opJWT  string
	sysPub string
	sysJWT string
	signer nkeys.KeyPair // signing mode, nil when off
	policy SigningConfig
}

// Server is a running (or ready to run) account server.
type Server struct {
	log *slog.Logger

	cfgMu sync.Mutex
	cfg   Config

	trust atomic.Pointer[trustState]

	store    jwtstore.Store
	ownStore bool
	// createdDir is the store folder when this server made it (it did not exist): a start that
	// fails removes it again, so a refused start leaves nothing behind.
	createdDir string
	// durable is the store with its records (outbox, used delete requests); the same object as
	// store for the directory and memory backends.
	durable jwtstore.Committer
	// notifying: NATS servers are configured, so changes go through the outbox.
	notifying bool
	// announcer is set for a store shared by replicas (JetStream KV): the store hands each
	// change to one replica to announce, so a write neither queues nor records it here.
	announcer jwtstore.Announcer
	// kvConn is the connection to the KV store's JetStream servers, closed after the store.
	kvConn *nats.Conn

	seed     maphash.Seed
	keyLocks [256]sync.Mutex

	deletes *deleteGuard
	metrics *metrics
	hdr     headerValues

	ln      net.Listener
	httpSrv *http.Server
	httpErr chan error
	scheme  string

	peer atomic.Pointer[natsPeer]

	// readAll stops the background read of a directory store's unread files (StartHTTP), and
	// readDone is closed when it has stopped; both nil when there is none.
	readAll  context.CancelFunc
	readDone chan struct{}
}

// New checks cfg, loads the operator (and system account) and opens the store. It does not
// listen or connect yet: Start does. What it logs reaches logger with seeds redacted (log lines
// quote what requests carry, like an account's name).
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = redact.Logger(logger)
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	s := &Server{
		log:     logger,
		cfg:     cfg,
		seed:    maphash.MakeSeed(),
		deletes: newDeleteGuard(),
		hdr:     newHeaderValues(),
	}
	ts, err := loadTrust(cfg)
	if err != nil {
		return nil, err
	}
	s.trust.Store(ts)
	if err := s.openStore(); err != nil {
		return nil, err
	}
	s.durable = jwtstore.WithRecords(s.store)
	s.notifying = len(cfg.NATS.Servers) > 0
	s.announcer, _ = s.store.(jwtstore.Announcer)
	if err := s.loadDeleteGuard(time.Now()); err != nil {
		s.abandonStore()
		return nil, err
	}
	s.metrics = newMetrics(s)
	return s, nil
}

func loadTrust(cfg Config) (*trustState, error) {
	opJWT := strings.TrimSpace(cfg.OperatorJWT)
	if opJWT == "" {
		if cfg.OperatorJWTPath == "" {
			return nil, errors.New("no operator: set operatorjwtpath (or --operator)")
		}
		data, err := os.ReadFile(cfg.OperatorJWTPath)
		if err != nil {
			return nil, fmt.Errorf("read operator jwt: %w", err)
		}
		opJWT = strings.TrimSpace(string(data))
	}
	op, err := jwt.DecodeOperatorClaims(opJWT)
	if err != nil {
		return nil, fmt.Errorf("decode operator jwt: %w", err)
	}
	ts := &trustState{op: op, opJWT: opJWT, sysPub: op.SystemAccount, policy: cfg.Signing}
	if cfg.SystemAccountJWTPath != "" {
		data, err := os.ReadFile(cfg.SystemAccountJWTPath)
		if err != nil {
			return nil, fmt.Errorf("read system account jwt: %w", err)
		}
		tok := strings.TrimSpace(string(data))
		ac, err := VerifyAccountJWT(op, tok, "")
		if err != nil {
			return nil, fmt.Errorf("system account jwt %s: %w", cfg.SystemAccountJWTPath, err)
		}
		if ts.sysPub != "" && ts.sysPub != ac.Subject {
			return nil, fmt.Errorf("system account jwt is for %s but the operator names %s", ac.Subject, ts.sysPub)
		}
		ts.sysPub, ts.sysJWT = ac.Subject, tok
	}
	if cfg.Signing.Key != "" {
		kp, err := loadSigningKey(cfg.Signing.Key, op)
		if err != nil {
			return nil, err
		}
		ts.signer = kp
	}
	return ts, nil
}

func (s *Server) openStore() error {
	if s.cfg.Backend != nil {
		s.store = s.cfg.Backend
		return nil
	}
	if s.cfg.Store.KV != nil {
		return s.openKV(*s.cfg.Store.KV)
	}
	if s.cfg.Store.Dir == "" {
		s.log.Warn("no store directory configured: accounts are kept in memory only")
		s.store = jwtstore.NewMemory()
		s.ownStore = true
		return nil
	}
	if _, err := os.Stat(s.cfg.Store.Dir); errors.Is(err, fs.ErrNotExist) && !s.cfg.Store.ReadOnly {
		s.createdDir = s.cfg.Store.Dir
	}
	d, err := jwtstore.OpenDir(s.cfg.Store.Dir, jwtstore.DirOptions{
		Shard:    s.cfg.Store.Shard,
		ReadOnly: s.cfg.Store.ReadOnly,
		OnChange: s.onStoreChange,
		OnError:  func(err error) { s.log.Warn("jwt store", "dir", s.cfg.Store.Dir, "err", err) },
		// A file written behind signet's back is kept only if it is an account JWT an
		// operator key signed; it is served only while that key is trusted (lookup).
		Accept: verifyStored,
	})
	if err != nil {
		return err
	}
	s.log.Info("opened store", "dir", s.cfg.Store.Dir, "shard", s.cfg.Store.Shard,
		"readonly", s.cfg.Store.ReadOnly, "accounts", d.Len())
	s.store, s.ownStore = d, true
	return nil
}

// Start listens for HTTP and starts the NATS connection (which retries in the background if NATS
// is not reachable yet).
func (s *Server) Start() error {
	if err := s.StartHTTP(); err != nil {
		s.abandonStore()
		return err
	}
	if err := s.StartNATS(); err != nil {
		s.httpSrv.Close()
		s.abandonStore()
		return err
	}
	return nil
}

// abandonStore closes the store of a server that failed to start, and removes its folder when
// this server made it and nothing was stored in it: a refused start changes nothing on disk.
func (s *Server) abandonStore() {
	s.stopReadAll()
	empty := s.store != nil && s.store.Len() == 0
	if err := s.closeStore(); err != nil {
		s.log.Warn("close store", "err", err)
	}
	if s.createdDir != "" && empty {
		if err := os.RemoveAll(s.createdDir); err != nil {
			s.log.Warn("remove the store folder made for a start that failed", "dir", s.createdDir, "err", err)
		}
	}
}

// StartHTTP is the first half of Start: it listens for HTTP only. An embedder that runs the
// nats-server itself (signet dev) needs this order: the nats-server fetches the system account
// from the URL resolver while it starts, and the NATS connection is better made once that
// server listens (see StartNATS).
func (s *Server) StartHTTP() error {
	s.cfgMu.Lock()
	cfg := s.cfg
	s.cfgMu.Unlock()
	host := cfg.HTTP.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := cfg.HTTP.Port
	if port < 0 {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen for http: %w", err)
	}
	s.scheme = "http"
	if cfg.HTTP.TLS.Cert != "" || cfg.HTTP.TLS.Key != "" {
		cert, err := tls.LoadX509KeyPair(cfg.HTTP.TLS.Cert, cfg.HTTP.TLS.Key)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load http tls certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		s.scheme = "https"
	}
	s.ln = ln
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadTimeout:       orDefault(cfg.HTTP.ReadTimeout, DefaultReadTimeout),
		ReadHeaderTimeout: min(orDefault(cfg.HTTP.ReadTimeout, DefaultReadTimeout), DefaultReadHeaderTimeout),
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       orDefault(cfg.HTTP.IdleTimeout, DefaultIdleTimeout),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.httpErr = make(chan error, 1)
	go func() { s.httpErr <- s.httpSrv.Serve(ln) }()
	served, unread := s.servedLen()
	s.log.Info("account server is running", "http", s.HTTPAddr(), "accounts", served, "unread", unread)
	s.log.Info("configure the nats-server with:")
	s.log.Info(fmt.Sprintf("resolver: URL(%s)", s.ResolverURL()))
	if d, ok := s.store.(*jwtstore.Dir); ok && unread > 0 {
		s.startReadAll(d)
	}
	return nil
}

// stopReadAll stops the background read of startReadAll, if any, and waits for it.
func (s *Server) stopReadAll() {
	if s.readAll != nil {
		s.readAll()
		<-s.readDone
	}
}

// startReadAll reads a directory store's unread files in the background, so that the counts of
// /healthz and /metrics reach every account the store holds (a folder is opened without reading
// its files, to serve at once), and says how many it holds once done.
func (s *Server) startReadAll(d *jwtstore.Dir) {
	ctx, cancel := context.WithCancel(context.Background())
	s.readAll, s.readDone = cancel, make(chan struct{})
	go func() {
		defer close(s.readDone)
		if err := d.ReadAll(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("reading the store's account files", "err", err)
			}
			return
		}
		served, _ := s.servedLen()
		s.log.Info("read every account file of the store", "accounts", served)
		s.warnUnserved()
	}()
}

// StartNATS is the second half of Start: it starts the NATS connection of the notifications and
// the resolver protocol, which retries in the background if NATS is not reachable yet. Without
// NATS servers configured it only says so. Call it once, after StartHTTP.
func (s *Server) StartNATS() error {
	s.cfgMu.Lock()
	cfg := s.cfg
	s.cfgMu.Unlock()
	if len(cfg.NATS.Servers) == 0 {
		s.log.Warn("no nats servers configured: updates are not notified")
		return nil
	}
	if s.peer.Load() != nil {
		return errors.New("the NATS connection is already started")
	}
	p, err := startPeer(s, cfg.NATS)
	if err != nil {
		return err
	}
	s.peer.Store(p)
	if s.announcer != nil {
		if err := s.startAnnouncing(p); err != nil {
			p.stop(context.Background())
			s.peer.Store(nil)
			return err
		}
	}
	return nil
}

// HTTPAddr is the address HTTP listens on (host:port), empty before Start.
func (s *Server) HTTPAddr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// ResolverURL is what a nats-server's `resolver: URL(...)` needs.
func (s *Server) ResolverURL() string {
	addr := s.HTTPAddr()
	if addr == "" {
		return ""
	}
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return fmt.Sprintf("%s://%s/jwt/v1/accounts/", s.scheme, net.JoinHostPort(host, port))
}

// Store is the server's JWT store.
func (s *Server) Store() jwtstore.Store { return s.store }

// NATSConnected reports whether the notification connection is up.
func (s *Server) NATSConnected() bool {
	p := s.peer.Load()
	return p != nil && p.connected()
}

// PendingNotifications is the number of changes no nats-server has confirmed yet (0 without
// NATS servers configured).
func (s *Server) PendingNotifications() int {
	p := s.peer.Load()
	if p == nil {
		return 0
	}
	return p.pendingCount()
}

// Reload applies a new configuration: operator, system account, signing policy, and a re-read
// of a read-only store. From its return on, stored JWTs whose issuer the new operator does not
// trust are not served (see lookup); they stay in the store. Listen address, store location and
// NATS settings need a restart; a change of those is logged and otherwise ignored.
func (s *Server) Reload(cfg Config) error {
	ts, err := loadTrust(cfg)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	s.cfgMu.Lock()
	old := s.cfg
	if old.HTTP.Host != cfg.HTTP.Host || old.HTTP.Port != cfg.HTTP.Port || old.Store != cfg.Store ||
		strings.Join(old.NATS.Servers, ",") != strings.Join(cfg.NATS.Servers, ",") ||
		old.NATS.UserCredentials != cfg.NATS.UserCredentials {
		s.log.Warn("reload: http, store and nats settings take effect after a restart")
	}
	keep := old
	keep.OperatorJWT, keep.OperatorJWTPath = cfg.OperatorJWT, cfg.OperatorJWTPath
	keep.SystemAccountJWTPath, keep.Signing, keep.Logging = cfg.SystemAccountJWTPath, cfg.Signing, cfg.Logging
	s.cfg = keep
	s.cfgMu.Unlock()
	s.trust.Store(ts)
	if r, ok := s.store.(interface{ Reload() error }); ok && s.store.ReadOnly() {
		if err := r.Reload(); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
	}
	s.log.Info("configuration reloaded", "operator", ts.op.Subject)
	s.warnUnserved()
	return nil
}

// Shutdown stops accepting HTTP requests, waits for those in flight, sends pending
// notifications if NATS is up, drains the NATS connection and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	s.stopReadAll()
	if s.httpSrv != nil {
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if p := s.peer.Load(); p != nil {
		if err := p.stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.closeStore(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// closeStore closes the store if the server opened it, then its connection.
func (s *Server) closeStore() error {
	var err error
	if s.ownStore {
		if cerr := s.store.Close(); cerr != nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}
	if s.kvConn != nil {
		s.kvConn.Close()
	}
	return err
}

func (s *Server) lockKey(pub string) *sync.Mutex {
	return &s.keyLocks[maphash.String(s.seed, pub)%uint64(len(s.keyLocks))]
}

// updateError carries the HTTP status an update failure maps to.
type updateError struct {
	code int
	err  error
}

func (e *updateError) Error() string { return e.err.Error() }
func (e *updateError) Unwrap() error { return e.err }

func statusOf(err error) int {
	var ue *updateError
	if errors.As(err, &ue) {
		return ue.code
	}
	return http.StatusInternalServerError
}

// updateResult says what an accepted update did.
type updateResult struct {
	pub     string
	changed bool
}

// updateSource says where an update came from; it decides what is allowed.
type updateSource int

const (
	fromHTTP updateSource = iota // a push: signing mode may sign it
	fromNATS                     // the resolver protocol: operator-signed only
	fromPack                     // a pack merge: operator-signed only, older is not an error
	fromDir                      // a directory import: as fromPack
)

// update verifies token and stores it if it is newer than what the store holds. expectedSub may
// be empty (NATS CLAIMS.UPDATE carries no key besides the JWT's). Older JWTs are refused with
// 409, except in pack merges, where older means "we are ahead".
func (s *Server) update(token, expectedSub string, src updateSource) (updateResult, error) {
	quietOlder := src == fromPack || src == fromDir
	ts := s.trust.Load()
	ac, err := VerifyAccountJWT(ts.op, token, expectedSub)
	// Signing mode: claims the account signed itself, re-signed below once the stored JWT is
	// known (their iat must pass it), and the iat the account gave them.
	var self *jwt.AccountClaims
	var selfIssuedAt int64
	if err != nil && src == fromHTTP && ts.signer != nil && errors.Is(err, ErrUntrusted) {
		self, err = selfSignedClaims(ts, token, expectedSub)
		if err == nil {
			ac, selfIssuedAt = self, self.IssuedAt
		}
	} else if err == nil {
		err = admissible(ac, time.Now())
	}
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrUntrusted) {
			code = http.StatusForbidden
		}
		return updateResult{}, &updateError{code, err}
	}
	pub := ac.Subject
	if s.store.ReadOnly() {
		return updateResult{pub: pub}, &updateError{http.StatusForbidden, errors.New("store is read-only")}
	}
	l := s.lockKey(pub)
	l.Lock()
	defer l.Unlock()
	waits := 0
	for attempt := 1; ; {
		// A stored JWT whose issuer a reload stopped trusting is not served, but it still
		// counts here: an older JWT (one that signing key issued before, say) must not replace
		// it, or dropping a signing key would open a rollback.
		old, err := s.store.Entry(pub)
		after := int64(0) // a re-signed JWT's iat must pass this one
		switch {
		case errors.Is(err, jwtstore.ErrNotFound):
			deleted, err := s.deletedAt(pub)
			if err != nil {
				return updateResult{pub: pub}, &updateError{http.StatusInternalServerError, err}
			}
			issued := ac.IssuedAt
			if self != nil {
				issued = selfIssuedAt // re-signed, ac carries the time of signing
			}
			after = deleted
			if deleted != 0 && issued <= deleted {
				if quietOlder {
					return updateResult{pub: pub}, nil
				}
				return updateResult{pub: pub}, &updateError{http.StatusConflict,
					fmt.Errorf("account was deleted, and this jwt (issued at %d) is not newer than its last one (%d): only a jwt issued later brings it back", issued, deleted)}
			}
		case err != nil:
			return updateResult{pub: pub}, &updateError{http.StatusInternalServerError, fmt.Errorf("read stored jwt: %w", err)}
		case old.JWT == token:
			return updateResult{pub: pub}, nil
		case self != nil:
			// Re-signed, it carries the time of signing: compare the account's own iat, or any
			// self-signed JWT of the past, sent again, would roll the account back.
			base, err := s.selfSignedBase(pub, old)
			if err != nil {
				return updateResult{pub: pub}, &updateError{http.StatusInternalServerError, err}
			}
			if selfIssuedAt <= base {
				return updateResult{pub: pub}, &updateError{http.StatusConflict,
					fmt.Errorf("self-signed jwt issued at %d is not newer than the account's last one (%d)", selfIssuedAt, base)}
			}
			after = old.IssuedAt
		case old.IssuedAt > ac.IssuedAt:
			if quietOlder {
				return updateResult{pub: pub}, nil
			}
			return updateResult{pub: pub}, &updateError{http.StatusConflict,
				fmt.Errorf("jwt issued at %d is older than the stored one (%d)", ac.IssuedAt, old.IssuedAt)}
		case old.IssuedAt == ac.IssuedAt:
			// Two different JWTs of one second: which is newer cannot be told, and taking the
			// one that arrived last could bring back an older state (a revocation lost). Keep
			// the stored one; the issuer re-issues with a later iat (signet always does).
			if quietOlder {
				s.log.Warn("pack holds a different jwt with the same issue time; kept the stored one", "account", pub, "iat", ac.IssuedAt)
				return updateResult{pub: pub}, nil
			}
			return updateResult{pub: pub}, &updateError{http.StatusConflict,
				fmt.Errorf("jwt issued at %d differs from the stored one issued in the same second: re-issue it with a later iat", ac.IssuedAt)}
		}
		var signed selfSigned
		if self != nil {
			// The re-signed JWT gets a second of its own after `after`. Waiting for it is done
			// outside the key lock, which stripes many accounts, and the update decided again.
			if wait := time.Until(time.Unix(after+1, 0)); wait > 0 {
				if wait > maxResignWait || waits == maxResignWaits {
					return updateResult{pub: pub}, &updateError{http.StatusConflict,
						fmt.Errorf("the stored jwt was issued at %s, later than this server's clock allows a re-signed one to follow soon: check the clocks", time.Unix(after, 0).UTC().Format(time.RFC3339))}
				}
				waits++
				l.Unlock()
				time.Sleep(wait)
				l.Lock()
				continue
			}
			var uerr *updateError
			if token, ac, uerr = s.resign(ts, self, after); uerr != nil {
				return updateResult{pub: pub}, uerr
			}
			signed = selfSigned{self: selfIssuedAt, stored: token}
		}
		err = s.commitUpdate(pub, token, old.Revision, signed)
		if errors.Is(err, jwtstore.ErrConflict) && attempt < maxConflictRetries {
			attempt++
			// Another replica wrote this account since our copy saw it: read it from the
			// shared store and decide again.
			if _, err := s.store.(jwtstore.Refresher).Refresh(pub); err != nil && !errors.Is(err, jwtstore.ErrNotFound) {
				s.metrics.storeErrors.Inc()
				return updateResult{pub: pub}, &updateError{http.StatusInternalServerError, fmt.Errorf("store: %w", err)}
			}
			continue
		}
		if err != nil {
			s.metrics.storeErrors.Inc()
			return updateResult{pub: pub}, &updateError{http.StatusInternalServerError, fmt.Errorf("store: %w", err)}
		}
		break
	}
	s.log.Info("updated account jwt", "account", pub, "name", ac.Name)
	if s.announcer == nil {
		s.notify(pub)
	}
	return updateResult{pub: pub, changed: true}, nil
}

// deleteAccounts verifies an operator-signed delete request and deletes its accounts; when
// expected is not empty it must be among them. forward sends the request on to the NATS
// resolvers (HTTP deletes do, NATS ones were seen by the servers already). It returns how many
// accounts it removed (each once, and only those the store held).
func (s *Server) deleteAccounts(token, expected string, forward bool) (int, error) {
	ts := s.trust.Load()
	now := time.Now()
	req, err := VerifyDeleteRequest(ts.op, token, now)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrUntrusted) {
			code = http.StatusForbidden
		}
		return 0, &updateError{code, err}
	}
	accounts, deadline := req.Accounts, req.Deadline
	if expected != "" && !contains(accounts, expected) {
		return 0, &updateError{http.StatusBadRequest, fmt.Errorf("delete request does not name account %s", expected)}
	}
	for _, a := range accounts {
		if a == ts.sysPub {
			return 0, &updateError{http.StatusBadRequest, errors.New("not allowed to delete the system account")}
		}
	}
	if s.store.ReadOnly() {
		return 0, &updateError{http.StatusForbidden, errors.New("store is read-only")}
	}
	key := replayKey(token)
	if err := s.deletes.admit(key, deadline, now); err != nil {
		return 0, &updateError{http.StatusForbidden, err}
	}
	held, err := s.commitDelete(accounts, key, deadline, req.IssuedAt, token, forward)
	if err != nil {
		if errors.Is(err, jwtstore.ErrRecordExists) {
			// Another replica of the shared store honoured this very request already.
			return 0, &updateError{http.StatusForbidden, errors.New("delete request was already used")}
		}
		s.metrics.storeErrors.Inc()
		return 0, &updateError{http.StatusInternalServerError, err}
	}
	for _, a := range accounts {
		s.log.Info("deleted account jwt", "account", a)
	}
	if p := s.peer.Load(); forward && p != nil && s.announcer == nil {
		p.forwardDelete(key, token)
	}
	s.pruneDeleteRecords(now)
	return held, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// onStoreChange is told about files changed under a read-only store. The store asked Accept
// (verifyStored) about the JWT when it read the file: one no operator key signed never gets
// here, it is skipped and reported through OnError; one whose issuer is not trusted now is not
// announced (the announcement reads it through lookup).
func (s *Server) onStoreChange(pub, token string) {
	if token == "" {
		s.log.Info("account jwt removed from store", "account", pub)
		return
	}
	s.log.Info("account jwt changed in store", "account", pub)
	s.notify(pub)
}

func (s *Server) notify(pub string) {
	if p := s.peer.Load(); p != nil {
		p.enqueue(pub)
	}
}

// orDefault is d, or def when d is not set.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
