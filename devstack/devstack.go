// Package devstack runs `signet dev`: an in-process account server (signet serve) with a
// directory store and an embedded nats-server that trusts the operator, resolves accounts through
// the account server, and learns about changes through the system account. It only runs what it
// is given: the CLI prepares the operator, accounts and users in the signet store.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/signet-dev/signet/accountserver"
)

// Config is what the stack needs.
type Config struct {
	// OperatorJWT is the trusted operator; it must name its system account.
	OperatorJWT string
	// SystemAccountJWT is served for the system account until it is pushed.
	SystemAccountJWT string
	// SystemUserCreds is the creds file of a system account user; the account server connects
	// with it to notify the server of account changes.
	SystemUserCreds string
	// Dir holds the account server's JWT directory and the server's data; reused across runs.
	Dir string
	// Host to listen on; default 127.0.0.1.
	Host string
	// NATSPort and HTTPPort are the listen ports; 0 means the default port (4222, 9090) when
	// it is free, else any free port.
	NATSPort, HTTPPort int
	Logger             *slog.Logger
}

// Stack is a running account server and nats-server.
type Stack struct {
	Accounts *accountserver.Server
	NATS     *server.Server
	host     string
	natsPort int
	// acfg is the account server's configuration, kept for SetOperator.
	acfg accountserver.Config
}

// PortError says that a port cannot be listened on (most often: it is taken).
type PortError struct {
	// What is "NATS" or "HTTP".
	What string
	Host string
	Port int
	Err  error
}

func (e *PortError) Error() string {
	reason := e.Err.Error()
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		reason = "address in use"
	}
	return fmt.Sprintf("the %s port %s cannot be listened on: %s", e.What, net.JoinHostPort(e.Host, strconv.Itoa(e.Port)), reason)
}

func (e *PortError) Unwrap() error { return e.Err }

// CheckPorts makes sure both ports can be listened on now, so that a start fails at once and
// before anything is changed, instead of after the account server is up.
func CheckPorts(host string, natsPort, httpPort int) error {
	for _, p := range []struct {
		what string
		port int
	}{{"NATS", natsPort}, {"HTTP", httpPort}} {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p.port)))
		if err != nil {
			return &PortError{What: p.what, Host: host, Port: p.port, Err: err}
		}
		l.Close()
	}
	return nil
}

// FreePort returns want when it can be listened on, else a free port chosen by the kernel.
func FreePort(host string, want int) (int, error) {
	if want > 0 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(want)))
		if err == nil {
			l.Close()
			return want, nil
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Ports resolves the ports of cfg: explicit ones are kept, zero ones become 4222/9090 when free.
func Ports(host string, natsPort, httpPort int) (int, int, error) {
	var err error
	if natsPort == 0 {
		if natsPort, err = FreePort(host, 4222); err != nil {
			return 0, 0, err
		}
	}
	if httpPort == 0 {
		if httpPort, err = FreePort(host, 9090); err != nil {
			return 0, 0, err
		}
	}
	if natsPort == httpPort {
		return 0, 0, fmt.Errorf("the NATS and HTTP ports must differ (both %d)", natsPort)
	}
	return natsPort, httpPort, nil
}

// natsConnectWait bounds how long Start waits for the account server's NATS connection to the
// embedded server, which is listening by then: only a refusal (bad system user creds) takes it.
const natsConnectWait = 10 * time.Second

// Start starts the account server's HTTP side, then the nats-server (which fetches the system
// account from the account server as it starts), then, once that server accepts clients, the
// account server's NATS connection; it returns once that connection is up. On error nothing is
// left running.
func Start(cfg Config) (*Stack, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	oc, err := jwt.DecodeOperatorClaims(cfg.OperatorJWT)
	if err != nil {
		return nil, fmt.Errorf("operator JWT: %w", err)
	}
	if oc.SystemAccount == "" {
		return nil, errors.New("the operator has no system account")
	}
	if cfg.NATSPort <= 0 || cfg.HTTPPort <= 0 {
		return nil, errors.New("devstack: ports must be resolved (see Ports)")
	}
	if err := CheckPorts(cfg.Host, cfg.NATSPort, cfg.HTTPPort); err != nil {
		return nil, err
	}
	jwtDir := filepath.Join(cfg.Dir, "jwt")
	if err := os.MkdirAll(jwtDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", jwtDir, err)
	}
	sysPath := filepath.Join(cfg.Dir, "system-account.jwt")
	if err := os.WriteFile(sysPath, []byte(cfg.SystemAccountJWT), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", sysPath, err)
	}
	natsURL := fmt.Sprintf("nats://%s", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.NATSPort)))
	acfg := accountserver.Config{OperatorJWT: cfg.OperatorJWT, SystemAccountJWTPath: sysPath}
	acfg.HTTP.Host = cfg.Host
	acfg.HTTP.Port = cfg.HTTPPort
	acfg.Store.Dir = jwtDir
	acfg.NATS.Servers = []string{natsURL}
	acfg.NATS.UserCredentials = cfg.SystemUserCreds
	acfg.NATS.ConnectTimeout = 2 * time.Second
	acfg.NATS.ReconnectWait = 250 * time.Millisecond
	// One embedded server without routes: what it answers is all there is to hear.
	acfg.NATS.SettleAfterConnect = -1
	as, err := accountserver.New(acfg, cfg.Logger.With("component", "accountserver"))
	if err != nil {
		return nil, err
	}
	stopAccounts := func() { _ = as.Shutdown(context.Background()) }
	if err := as.StartHTTP(); err != nil {
		stopAccounts()
		return nil, err
	}
	resolver, err := server.NewURLAccResolver(as.ResolverURL())
	if err != nil {
		stopAccounts()
		return nil, fmt.Errorf("url resolver: %w", err)
	}
	opts := &server.Options{
		ServerName:       "signet-dev",
		Host:             cfg.Host,
		Port:             cfg.NATSPort,
		TrustedOperators: []*jwt.OperatorClaims{oc},
		SystemAccount:    oc.SystemAccount,
		AccountResolver:  resolver,
		NoSigs:           true,
		NoLog:            true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		stopAccounts()
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	stopAll := func() {
		stopAccounts()
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		stopAll()
		return nil, fmt.Errorf("nats-server did not start listening on %s", natsURL)
	}
	if err := as.StartNATS(); err != nil {
		stopAll()
		return nil, err
	}
	if err := waitConnected(as, natsConnectWait); err != nil {
		stopAll()
		return nil, err
	}
	return &Stack{Accounts: as, NATS: ns, host: cfg.Host, natsPort: cfg.NATSPort, acfg: acfg}, nil
}

// waitConnected polls until the account server's NATS connection is up.
func waitConnected(as *accountserver.Server, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for !as.NATSConnected() {
		if time.Now().After(deadline) {
			return fmt.Errorf("the account server could not connect to the embedded nats-server within %s (is the system user's creds file valid?)", wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// ClientURL is the NATS URL clients connect to.
func (s *Stack) ClientURL() string {
	return fmt.Sprintf("nats://%s", net.JoinHostPort(s.host, strconv.Itoa(s.natsPort)))
}

// AccountServerURL is the account server's base URL, as an operator carries it.
func (s *Stack) AccountServerURL() string {
	return fmt.Sprintf("http://%s/jwt/v1", s.Accounts.HTTPAddr())
}

// SetOperator makes the account server vend a new JWT of the same operator (one that carries
// the stack's URLs, say). The nats-server trusts the operator's key, which does not change.
func (s *Stack) SetOperator(operatorJWT string) error {
	oc, err := jwt.DecodeOperatorClaims(operatorJWT)
	if err != nil {
		return fmt.Errorf("operator JWT: %w", err)
	}
	if old, _ := jwt.DecodeOperatorClaims(s.acfg.OperatorJWT); old != nil && old.Subject != oc.Subject {
		return fmt.Errorf("the stack runs operator %s, not %s", old.Subject, oc.Subject)
	}
	next := s.acfg
	next.OperatorJWT = operatorJWT
	if err := s.Accounts.Reload(next); err != nil {
		return err
	}
	s.acfg = next
	return nil
}

// confirmWait bounds how long Shutdown waits for the nats-server to confirm the last account
// notifications (a change made just before Ctrl-C).
const confirmWait = 2 * time.Second

// Shutdown gives the nats-server a moment to confirm the last notifications, stops the account
// server (whose NATS connection drains while the nats-server still runs), then the nats-server.
func (s *Stack) Shutdown(ctx context.Context) error {
	deadline := time.Now().Add(confirmWait)
	for s.Accounts.PendingNotifications() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	err := s.Accounts.Shutdown(ctx)
	s.NATS.Shutdown()
	s.NATS.WaitForShutdown()
	return err
}
