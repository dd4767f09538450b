package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/signet-dev/signet/accountserver"
)

// HASize is how many nats-server nodes and signet serve replicas `signet dev --ha` runs: the
// smallest cluster that keeps a JetStream quorum, and the bucket's replicas, with one lost.
const HASize = 3

// HAConfig is what the high-availability stack needs. It runs docs/ha.md's topology 2: the
// bucket that holds the accounts lives in JetStream on the very cluster signet serve serves.
type HAConfig struct {
	// OperatorJWT is the trusted operator; it must name its system account.
	OperatorJWT string
	// SystemAccountJWT and KVAccountJWT are preloaded into every node's full resolver: the
	// nodes know them before any replica runs. The KV account must have JetStream enabled.
	SystemAccountJWT, KVAccountJWT string
	// SystemUserCreds is the creds file of a system account user (the replicas' announcements);
	// KVUserCreds the creds file of a user of the KV account (the bucket).
	SystemUserCreds, KVUserCreds string
	// Dir holds each node's resolver folder and JetStream store; reused across runs.
	Dir string
	// Host to listen on; default 127.0.0.1.
	Host string
	// NATSPorts and HTTPPorts are the client ports of the nodes and the replicas' HTTP ports,
	// HASize of each, all resolved (see HAPorts). The cluster (route) ports are chosen free.
	NATSPorts, HTTPPorts []int
	// Bucket is the KV bucket; default the jwtstore default.
	Bucket string
	// ResetJetStream removes the nodes' JetStream data before they start, so the bucket starts
	// empty; whoever starts the stack refills it (signet dev pushes its whole store). A cluster
	// restarted as a whole on its old data waits 10 to 20 s for JetStream to elect the leaders
	// of its meta group, the bucket's stream and its consumer again; a fresh one takes a second.
	ResetJetStream bool
	// AckWait is how long a change taken by a replica that stopped waits before another
	// announces it; default 5s (a development default: failover shows quickly).
	AckWait time.Duration
	Logger  *slog.Logger
}

// HAStack is a running cluster of HASize nats-server nodes and HASize signet serve replicas;
// any node or replica can be stopped and started again while the others keep serving.
type HAStack struct {
	cfg      HAConfig
	nodeConf []string // configuration file of each node
	mu       sync.Mutex
	nodes    []*server.Server        // nil: stopped
	replicas []*accountserver.Server // nil: stopped
	acfg     accountserver.Config    // the replicas' configuration, but HTTP.Port and NATS.Name
}

// HAPorts resolves the NATS and HTTP ports of the HA stack. A base port given (above 0) is used
// as base, base+1, base+2, each of which must be free; 0 takes 4222.. and 9090.. where free, else
// free ports chosen by the kernel.
func HAPorts(host string, natsBase, httpBase int) (natsPorts, httpPorts []int, err error) {
	taken := map[int]bool{}
	pick := func(what string, base, def int) ([]int, error) {
		out := make([]int, 0, HASize)
		for i := range HASize {
			want := def + i
			if base > 0 {
				want = base + i
				if want > 65535 || taken[want] {
					return nil, &PortError{What: what, Host: host, Port: want, Err: errors.New("out of range or used twice")}
				}
				l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(want)))
				if err != nil {
					return nil, &PortError{What: what, Host: host, Port: want, Err: err}
				}
				l.Close()
				out = append(out, want)
				taken[want] = true
				continue
			}
			p, err := FreePort(host, want)
			for err == nil && taken[p] {
				p, err = FreePort(host, 0)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, p)
			taken[p] = true
		}
		return out, nil
	}
	if natsPorts, err = pick("NATS", natsBase, 4222); err != nil {
		return nil, nil, err
	}
	if httpPorts, err = pick("HTTP", httpBase, 9090); err != nil {
		return nil, nil, err
	}
	return natsPorts, httpPorts, nil
}

// haReady bounds how long StartHA waits for the nodes to agree on a JetStream meta leader and
// for each replica's NATS connection.
const haReady = 30 * time.Second

// StartHA starts the HASize nodes (routed into one cluster, JetStream on, full resolver with the
// system and KV accounts preloaded), waits for JetStream, then the HASize replicas, each
// connected to every node and sharing the bucket. On error nothing is left running.
func StartHA(cfg HAConfig) (*HAStack, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 5 * time.Second
	}
	oc, err := jwt.DecodeOperatorClaims(cfg.OperatorJWT)
	if err != nil {
		return nil, fmt.Errorf("operator JWT: %w", err)
	}
	if oc.SystemAccount == "" {
		return nil, errors.New("the operator has no system account")
	}
	kc, err := jwt.DecodeAccountClaims(cfg.KVAccountJWT)
	if err != nil {
		return nil, fmt.Errorf("KV account JWT: %w", err)
	}
	if !kc.Limits.IsJSEnabled() {
		return nil, fmt.Errorf("the KV account %q does not have JetStream enabled", kc.Name)
	}
	sc, err := jwt.DecodeAccountClaims(cfg.SystemAccountJWT)
	if err != nil || sc.Subject != oc.SystemAccount {
		return nil, fmt.Errorf("the system account JWT is not the operator's system account %s", oc.SystemAccount)
	}
	if len(cfg.NATSPorts) != HASize || len(cfg.HTTPPorts) != HASize {
		return nil, fmt.Errorf("devstack: %d NATS and %d HTTP ports needed (see HAPorts)", HASize, HASize)
	}
	for i := range HASize {
		if err := CheckPorts(cfg.Host, cfg.NATSPorts[i], cfg.HTTPPorts[i]); err != nil {
			return nil, err
		}
	}
	if cfg.ResetJetStream {
		for i := range HASize {
			js := filepath.Join(cfg.Dir, nodeName(i), "jetstream")
			if err := os.RemoveAll(js); err != nil {
				return nil, fmt.Errorf("reset %s: %w", js, err)
			}
		}
	}
	h := &HAStack{cfg: cfg, nodes: make([]*server.Server, HASize), replicas: make([]*accountserver.Server, HASize)}
	if err := h.writeNodeConfigs(oc.SystemAccount, kc.Subject); err != nil {
		return nil, err
	}
	sysPath := filepath.Join(cfg.Dir, "system-account.jwt")
	if err := os.WriteFile(sysPath, []byte(cfg.SystemAccountJWT), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", sysPath, err)
	}
	h.acfg = accountserver.Config{OperatorJWT: cfg.OperatorJWT, SystemAccountJWTPath: sysPath}
	h.acfg.HTTP.Host = cfg.Host
	h.acfg.NATS.Servers = h.ClientURLs()
	h.acfg.NATS.UserCredentials = cfg.SystemUserCreds
	h.acfg.NATS.ConnectTimeout = 2 * time.Second
	h.acfg.NATS.ReconnectWait = 250 * time.Millisecond
	h.acfg.Store.KV = &accountserver.KVConfig{
		Bucket:          cfg.Bucket,
		Replicas:        HASize,
		UserCredentials: cfg.KVUserCreds,
		AckWait:         cfg.AckWait,
	}
	// The nodes of a JetStream cluster wait for each other: start them all, then wait.
	for i := range HASize {
		if err := h.startNode(i, false); err != nil {
			h.stopAll()
			return nil, err
		}
	}
	for i := range HASize {
		if !h.nodes[i].ReadyForConnections(10 * time.Second) {
			h.stopAll()
			return nil, fmt.Errorf("node %d did not start listening on %s", i+1, h.ClientURLs()[i])
		}
	}
	if err := waitMetaLeader(h.nodes, haReady); err != nil {
		h.stopAll()
		return nil, err
	}
	if err := waitAccountJetStream(h.nodes, kc.Subject, haReady); err != nil {
		h.stopAll()
		return nil, err
	}
	for i := range HASize {
		if err := h.StartReplica(i); err != nil {
			h.stopAll()
			return nil, err
		}
	}
	return h, nil
}

// nodeName is node i's server_name: stable across runs, as JetStream peers are known by it.
func nodeName(i int) string { return fmt.Sprintf("n%d", i+1) }

// writeNodeConfigs writes each node's configuration file: what `signet generate config
// --kv-account` writes, with its cluster block filled in.
func (h *HAStack) writeNodeConfigs(sysPub, kvPub string) error {
	routePorts := make([]int, HASize)
	routes := make([]string, HASize)
	for i := range routePorts {
		p, err := FreePort(h.cfg.Host, 0)
		if err != nil {
			return err
		}
		for slices.Contains(routePorts[:i], p) || slices.Contains(h.cfg.NATSPorts, p) || slices.Contains(h.cfg.HTTPPorts, p) {
			if p, err = FreePort(h.cfg.Host, 0); err != nil {
				return err
			}
		}
		routePorts[i] = p
		routes[i] = strconv.Quote("nats-route://" + net.JoinHostPort(h.cfg.Host, strconv.Itoa(p)))
	}
	preload := map[string]string{sysPub: h.cfg.SystemAccountJWT, kvPub: h.cfg.KVAccountJWT}
	keys := make([]string, 0, len(preload))
	for k := range preload {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h.nodeConf = make([]string, HASize)
	for i := range HASize {
		dir := filepath.Join(h.cfg.Dir, nodeName(i))
		if err := os.MkdirAll(filepath.Join(dir, "jwt"), 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "server_name: %q\nlisten: %q\n", nodeName(i), net.JoinHostPort(h.cfg.Host, strconv.Itoa(h.cfg.NATSPorts[i])))
		fmt.Fprintf(&b, "operator: %q\nsystem_account: %q\n", h.cfg.OperatorJWT, sysPub)
		fmt.Fprintf(&b, "resolver {\n  type: full\n  dir: %q\n  allow_delete: true\n  interval: \"2m\"\n  timeout: \"1.9s\"\n}\n", filepath.Join(dir, "jwt"))
		b.WriteString("resolver_preload {\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %q\n", k, preload[k])
		}
		b.WriteString("}\n")
		// Modest limits: three nodes share one laptop.
		fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n  max_memory_store: 64MB\n  max_file_store: 1GB\n}\n", filepath.Join(dir, "jetstream"))
		fmt.Fprintf(&b, "cluster {\n  name: \"signet-dev\"\n  listen: %q\n  routes: [%s]\n}\n",
			net.JoinHostPort(h.cfg.Host, strconv.Itoa(routePorts[i])), strings.Join(routes, ", "))
		p := filepath.Join(dir, "nats-server.conf")
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		h.nodeConf[i] = p
	}
	return nil
}

// startNode starts node i from its configuration file; wait: until it accepts clients.
func (h *HAStack) startNode(i int, wait bool) error {
	opts, err := server.ProcessConfigFile(h.nodeConf[i])
	if err != nil {
		return fmt.Errorf("node %d: %w", i+1, err)
	}
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("node %d: %w", i+1, err)
	}
	ns.Start()
	if wait && !ns.ReadyForConnections(10*time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("node %d did not start listening on %s", i+1, h.ClientURLs()[i])
	}
	h.nodes[i] = ns
	return nil
}

// waitMetaLeader waits until the nodes agree on a JetStream meta leader.
func waitMetaLeader(nodes []*server.Server, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		current, leader := 0, false
		for _, s := range nodes {
			if s.JetStreamEnabled() && s.JetStreamIsCurrent() {
				current++
			}
			leader = leader || s.JetStreamIsLeader()
		}
		if current == len(nodes) && leader {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the JetStream cluster did not elect a leader within %s (%d of %d nodes current)", wait, current, len(nodes))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAccountJetStream has every node load the bucket's account (from its preload) and waits
// until JetStream is enabled for it there: a node loads accounts when first asked, and one
// asked for the bucket before that answers "JetStream not enabled for account".
func waitAccountJetStream(nodes []*server.Server, pub string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for i, ns := range nodes {
		for {
			acc, err := ns.LookupAccount(pub)
			if err == nil && acc.JetStreamEnabled() {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %d did not enable JetStream for the KV account %s within %s (%v)", i+1, pub, wait, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func (h *HAStack) check(i int) error {
	if i < 0 || i >= HASize {
		return fmt.Errorf("no number %d: nodes and replicas are numbered 1 to %d", i+1, HASize)
	}
	return nil
}

// StopNode shuts node i (0-based) down; clients and replicas connected to it move to the others.
func (h *HAStack) StopNode(i int) error {
	if err := h.check(i); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ns := h.nodes[i]
	if ns == nil {
		return fmt.Errorf("node %d is already stopped", i+1)
	}
	h.nodes[i] = nil
	ns.Shutdown()
	ns.WaitForShutdown()
	return nil
}

// StartNode starts node i again, on its ports and with its data.
func (h *HAStack) StartNode(i int) error {
	if err := h.check(i); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nodes[i] != nil {
		return fmt.Errorf("node %d is already running", i+1)
	}
	if err := h.startNode(i, true); err != nil {
		return err
	}
	// Back in the cluster only once JetStream there has caught up: a replica started right
	// after would otherwise send its bucket requests to a node that cannot answer them yet.
	var running []*server.Server
	for _, ns := range h.nodes {
		if ns != nil {
			running = append(running, ns)
		}
	}
	return waitMetaLeader(running, haReady)
}

// StopReplica shuts replica i down; a change it was announcing goes to another after AckWait.
func (h *HAStack) StopReplica(i int) error {
	if err := h.check(i); err != nil {
		return err
	}
	h.mu.Lock()
	as := h.replicas[i]
	h.replicas[i] = nil
	h.mu.Unlock()
	if as == nil {
		return fmt.Errorf("replica %d is already stopped", i+1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return as.Shutdown(ctx)
}

// StartReplica starts replica i (again) on its HTTP port, and returns once its NATS connection
// is up.
func (h *HAStack) StartReplica(i int) error {
	if err := h.check(i); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.replicas[i] != nil {
		return fmt.Errorf("replica %d is already running", i+1)
	}
	acfg := h.acfg
	acfg.HTTP.Port = h.cfg.HTTPPorts[i]
	acfg.NATS.Name = fmt.Sprintf("signet-r%d", i+1)
	logger := h.cfg.Logger.With("component", "accountserver", "replica", i+1)
	deadline := time.Now().Add(haReady)
	as, err := accountserver.New(acfg, logger)
	// The bucket's stream or consumer may still be electing a leader (a node just came back,
	// the cluster restarted on old data): each JetStream request then times out, or the node
	// has not loaded the bucket's account yet; try again.
	for (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)) && time.Now().Before(deadline) {
		h.cfg.Logger.Info("the bucket is not ready yet; trying again", "replica", i+1, "err", err)
		time.Sleep(100 * time.Millisecond)
		as, err = accountserver.New(acfg, logger)
	}
	if err != nil {
		return fmt.Errorf("replica %d: %w", i+1, err)
	}
	if err := as.Start(); err != nil {
		_ = as.Shutdown(context.Background())
		return fmt.Errorf("replica %d: %w", i+1, err)
	}
	if err := waitConnected(as, haReady); err != nil {
		_ = as.Shutdown(context.Background())
		return fmt.Errorf("replica %d: %w", i+1, err)
	}
	h.replicas[i] = as
	return nil
}

// NodeRunning says whether node i runs.
func (h *HAStack) NodeRunning(i int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return i >= 0 && i < HASize && h.nodes[i] != nil
}

// ReplicaRunning says whether replica i runs.
func (h *HAStack) ReplicaRunning(i int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return i >= 0 && i < HASize && h.replicas[i] != nil
}

// ClientURLs are the nodes' NATS URLs, running or not.
func (h *HAStack) ClientURLs() []string {
	out := make([]string, HASize)
	for i, p := range h.cfg.NATSPorts {
		out[i] = "nats://" + net.JoinHostPort(h.cfg.Host, strconv.Itoa(p))
	}
	return out
}

// AccountServerURLs are the replicas' base URLs, as an operator carries one, running or not.
func (h *HAStack) AccountServerURLs() []string {
	out := make([]string, HASize)
	for i, p := range h.cfg.HTTPPorts {
		out[i] = "http://" + net.JoinHostPort(h.cfg.Host, strconv.Itoa(p)) + "/jwt/v1"
	}
	return out
}

// NodeConfigFiles are the nodes' nats-server configuration files.
func (h *HAStack) NodeConfigFiles() []string { return append([]string(nil), h.nodeConf...) }

// SetOperator makes every replica vend a new JWT of the same operator; stopped replicas start
// with it.
func (h *HAStack) SetOperator(operatorJWT string) error {
	oc, err := jwt.DecodeOperatorClaims(operatorJWT)
	if err != nil {
		return fmt.Errorf("operator JWT: %w", err)
	}
	if old, _ := jwt.DecodeOperatorClaims(h.acfg.OperatorJWT); old != nil && old.Subject != oc.Subject {
		return fmt.Errorf("the stack runs operator %s, not %s", old.Subject, oc.Subject)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	next := h.acfg
	next.OperatorJWT = operatorJWT
	for i, as := range h.replicas {
		if as == nil {
			continue
		}
		rc := next
		rc.HTTP.Port = h.cfg.HTTPPorts[i]
		rc.NATS.Name = fmt.Sprintf("signet-r%d", i+1)
		if err := as.Reload(rc); err != nil {
			return fmt.Errorf("replica %d: %w", i+1, err)
		}
	}
	h.acfg = next
	return nil
}

// stopAll stops whatever runs, replicas first (their connections drain while nodes run).
func (h *HAStack) stopAll() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, as := range h.replicas {
		if as != nil {
			errs = append(errs, as.Shutdown(ctx))
			h.replicas[i] = nil
		}
	}
	for i, ns := range h.nodes {
		if ns != nil {
			ns.Shutdown()
			ns.WaitForShutdown()
			h.nodes[i] = nil
		}
	}
	return errors.Join(errs...)
}

// Shutdown gives the replicas a moment to have their last announcements confirmed, then stops
// the replicas and the nodes.
func (h *HAStack) Shutdown(ctx context.Context) error {
	deadline := time.Now().Add(confirmWait)
	for h.pending() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return h.stopAll()
}

func (h *HAStack) pending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, as := range h.replicas {
		if as != nil {
			n += as.PendingNotifications()
		}
	}
	return n
}
