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

// Start starts the account server, then the nats-server (which probes the account server at
// start). On error nothing is left running.
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
	as, err := accountserver.New(acfg, cfg.Logger.With("component", "accountserver"))
	if err != nil {
		return nil, err
	}
	if err := as.Start(); err != nil {
		return nil, err
	}
	resolver, err := server.NewURLAccResolver(as.ResolverURL())
	if err != nil {
		_ = as.Shutdown(context.Background())
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
		_ = as.Shutdown(context.Background())
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		_ = as.Shutdown(context.Background())
		return nil, fmt.Errorf("nats-server did not start listening on %s", natsURL)
	}
	return &Stack{Accounts: as, NATS: ns, host: cfg.Host, natsPort: cfg.NATSPort}, nil
}

// ClientURL is the NATS URL clients connect to.
func (s *Stack) ClientURL() string {
	return fmt.Sprintf("nats://%s", net.JoinHostPort(s.host, strconv.Itoa(s.natsPort)))
}

// AccountServerURL is the account server's base URL, as an operator carries it.
func (s *Stack) AccountServerURL() string {
	return fmt.Sprintf("http://%s/jwt/v1", s.Accounts.HTTPAddr())
}

// Shutdown stops the nats-server, then the account server.
func (s *Stack) Shutdown(ctx context.Context) error {
	s.NATS.Shutdown()
	s.NATS.WaitForShutdown()
	return s.Accounts.Shutdown(ctx)
}
