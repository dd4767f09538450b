package natstest

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StartJetStream starts one JetStream-enabled server without operator mode (anyone may
// connect), as a store for signet's KV backend, and shuts it down when the test ends.
func StartJetStream(t testing.TB) *server.Server {
	t.Helper()
	return StartJetStreamCluster(t, 1)[0]
}

// StartJetStreamAt is StartJetStream listening on a given client port (a server that comes
// up where a client already waits for it).
func StartJetStreamAt(t testing.TB, port int) *server.Server {
	t.Helper()
	return startJetStream(t, 1, port)[0]
}

// StartJetStreamCluster starts n JetStream-enabled servers (J0..J<n-1>, no operator mode) routed
// into one cluster, and returns once JetStream has a meta leader, so streams with up to n
// replicas can be created. Each server is shut down when the test ends (shutting one down
// earlier is how a test loses a node).
func StartJetStreamCluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	return startJetStream(t, n, -1)
}

func startJetStream(t testing.TB, n, port int) []*server.Server {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: jetstream cluster of %d servers", n)
	}
	// A clustered JetStream server needs its routes configured when it starts, so the route
	// ports are chosen first.
	var routes []*url.URL
	ports := make([]int, n)
	if n > 1 {
		for i := range ports {
			ports[i] = freePort(t)
			routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
		}
	}
	servers := make([]*server.Server, 0, n)
	for i := 0; i < n; i++ {
		o := &server.Options{
			ServerName: fmt.Sprintf("J%d", i),
			Host:       "127.0.0.1",
			Port:       port,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			NoLog:      true,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "KV", Host: "127.0.0.1", Port: ports[i]}
			o.Routes = routes
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatalf("natstest: jetstream server: %v", err)
		}
		s.Start()
		t.Cleanup(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
		servers = append(servers, s)
	}
	for i, s := range servers {
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatalf("natstest: jetstream server J%d not ready", i)
		}
	}
	WaitJetStream(t, servers...)
	return servers
}

// freePort is a TCP port nothing listens on at the moment.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitJetStream waits (up to 30 seconds) until the servers agree on a JetStream meta leader
// with every one of them a current peer.
func WaitJetStream(t testing.TB, servers ...*server.Server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ready := 0
		for _, s := range servers {
			if s.JetStreamEnabled() && (len(servers) == 1 || s.JetStreamIsCurrent()) {
				ready++
			}
		}
		if ready == len(servers) && (len(servers) == 1 || hasMetaLeader(servers)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: jetstream: %d of %d servers ready, no meta leader", ready, len(servers))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasMetaLeader(servers []*server.Server) bool {
	for _, s := range servers {
		if s.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// ClientURLs is the comma-separated client URLs of servers, for nats.Connect.
func ClientURLs(servers ...*server.Server) string {
	s := ""
	for i, srv := range servers {
		if i > 0 {
			s += ","
		}
		s += srv.ClientURL()
	}
	return s
}
