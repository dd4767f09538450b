package accountserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/redact"
)

// openKV connects to the KV block's JetStream servers and opens the shared bucket. What enters
// the local copy from the bucket is verified against the operator like any other ingest path:
// the bucket's credentials are not the operator's.
func (s *Server) openKV(kc KVConfig) error {
	servers := kc.Servers
	if len(servers) == 0 {
		servers = s.cfg.NATS.Servers
	}
	if len(servers) == 0 {
		return fmt.Errorf("store kv: no servers (set store { kv { servers } } or nats { servers })")
	}
	opts := []nats.Option{
		nats.Name("signet serve (kv store)"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(orDefault(s.cfg.NATS.ReconnectWait, defaultReconnectWait)),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				s.log.Warn("disconnected from the kv store's servers", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { s.log.Info("reconnected to the kv store's servers") }),
	}
	opts = append(opts, clientAuth(kc.UserCredentials, kc.TLS)...)
	// The bucket's servers may be starting too (a whole cluster restarted): the connection
	// retries, and the bucket is waited for up to kvOpenWait.
	if !kc.FailFast {
		opts = append(opts, nats.RetryOnFailedConnect(true))
	}
	nc, err := dialNATS(servers, opts)
	if err != nil {
		return fmt.Errorf("store kv: %w", err)
	}
	kopts := jwtstore.KVOptions{
		Bucket:     kc.Bucket,
		Replicas:   kc.Replicas,
		History:    kc.History,
		AckWait:    kc.AckWait,
		OutboxArea: outboxArea,
		Accept:     verifyStored, // served only while its issuer is trusted (lookup)
		OnError: func(err error) {
			if errors.Is(err, jwtstore.ErrKVFailover) {
				s.log.Info("kv store", "err", err)
				return
			}
			s.log.Warn("kv store", "err", err)
		},
	}
	wait := kc.OpenWait
	if wait <= 0 {
		wait = kvOpenWait
	}
	deadline := time.Now().Add(wait)
	var kv *jwtstore.KV
	for {
		kv, err = jwtstore.OpenKV(nc, kopts)
		if err == nil {
			break
		}
		if kc.FailFast || !kvNotReady(err) || time.Now().After(deadline) {
			if last := nc.LastError(); last != nil && !errors.Is(err, last) {
				err = fmt.Errorf("%w (last connection error: %v)", err, last)
			}
			nc.Close()
			return fmt.Errorf("store kv: %w", err)
		}
		s.log.Warn("kv store is not ready yet; trying again", "servers", redact.URLs(servers), "err", err)
		time.Sleep(time.Second)
	}
	s.log.Info("opened store", "kv", kv.Bucket(), "servers", redact.URLs(servers), "accounts", kv.Len())
	s.store, s.ownStore, s.kvConn = kv, true, nc
	return nil
}

// startAnnouncing joins the replicas that take turns at announcing the shared store's changes.
func (s *Server) startAnnouncing(p *natsPeer) error {
	return s.announcer.Announce(func(r jwtstore.Record) {
		if key, ok := strings.CutPrefix(r.Name, outboxDeleteP); ok {
			p.forwardDelete(key, string(r.Data))
			return
		}
		p.enqueue(r.Name)
	})
}

// kvOpenWait is how long signet serve waits at start for its bucket's servers to be ready.
const kvOpenWait = time.Minute

// kvNotReady reports whether opening the bucket failed because its servers are not ready yet
// (starting, electing leaders, loading the bucket's account) rather than for good.
func kvNotReady(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// defaultReconnectWait is the pause between reconnect attempts when none is configured.
const defaultReconnectWait = time.Second

// clientAuth are the options of a NATS connection made with a creds file (if any) and TLS
// settings: the system-account connection and the kv store's.
func clientAuth(creds string, t TLSConfig) []nats.Option {
	var opts []nats.Option
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	if t.Root != "" {
		opts = append(opts, nats.RootCAs(t.Root))
	}
	if t.Cert != "" || t.Key != "" {
		opts = append(opts, nats.ClientCert(t.Cert, t.Key))
	}
	return opts
}

// dialNATS connects to servers, the one way both connections (the system account's and the kv
// store's) are made: its errors name the servers with their passwords redacted, and a URL that
// does not parse is refused here, since the client's error would quote it whole.
func dialNATS(servers []string, opts []nats.Option) (*nats.Conn, error) {
	for _, entry := range servers {
		for _, s := range strings.Split(entry, ",") { // one entry may list several, as the client reads it
			u := strings.TrimSpace(s)
			if !strings.Contains(u, "://") {
				u = "nats://" + u // as the client reads it
			}
			if _, err := url.Parse(u); err != nil {
				return nil, fmt.Errorf("nats server %s is not a valid URL", redact.URL(s))
			}
		}
	}
	nc, err := nats.Connect(strings.Join(servers, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact.URLs(servers), err)
	}
	return nc, nil
}
