package natstest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Resolver selects nats-server's account resolver.
type Resolver int

const (
	// Memory is `resolver: MEMORY`: accounts come only from Options.Preload.
	Memory Resolver = iota
	// URL is `resolver: URL(<Options.URL>)`: accounts are fetched over HTTP.
	URL
	// Full is `resolver { type: full, dir: ... }`: the server keeps every account in a directory
	// and answers the $SYS.REQ.CLAIMS.* protocol.
	Full
	// Cache is `resolver { type: cache, dir: ... }`: the server looks accounts up over NATS and
	// caches them.
	Cache
)

// String returns the resolver name as a config file would say it.
func (r Resolver) String() string {
	switch r {
	case Memory:
		return "memory"
	case URL:
		return "url"
	case Full:
		return "full"
	case Cache:
		return "cache"
	}
	return fmt.Sprintf("Resolver(%d)", int(r))
}

// Options configure one server. The zero value is a memory-resolver server.
type Options struct {
	// Name is the server_name; default "S".
	Name string
	// Resolver is the account resolver.
	Resolver Resolver
	// URL is the account server URL for the URL resolver, e.g.
	// "http://127.0.0.1:9090/jwt/v1/accounts/".
	URL string
	// Dir is the resolver directory for Full and Cache; default a new t.TempDir().
	Dir string
	// AllowDelete enables $SYS.REQ.CLAIMS.DELETE on a Full resolver (soft delete: files are
	// renamed to .deleted).
	AllowDelete bool
	// Preload maps account public keys to JWTs (resolver_preload). The system account is
	// always preloaded, except for the URL resolver (nats-server refuses preloads there, so the
	// account server must serve the system account too).
	Preload map[string]string
	// Extra is raw configuration text appended to the generated file.
	Extra string
}

// Server is a running embedded nats-server.
type Server struct {
	*server.Server
	// Dir is the resolver directory (Full and Cache), else "".
	Dir string
	// ConfigFile is the generated configuration file.
	ConfigFile string
}

// Start starts one operator-mode server trusting tr, configured by o, and shuts it down when
// the test ends. It fails the test if the server does not start within 10 seconds.
func Start(t testing.TB, tr Trust, o Options) *Server {
	t.Helper()
	return start(t, tr, o, "")
}

// StartMemory starts a server with the memory resolver, preloaded with accounts
// (public key -> JWT).
func StartMemory(t testing.TB, tr Trust, accounts map[string]string) *Server {
	t.Helper()
	return Start(t, tr, Options{Resolver: Memory, Preload: accounts})
}

// StartURL starts a server with `resolver: URL(url)`; url is like
// "http://127.0.0.1:9090/jwt/v1/accounts/". nats-server probes the URL at start, so the account
// server must already be listening.
func StartURL(t testing.TB, tr Trust, url string) *Server {
	t.Helper()
	return Start(t, tr, Options{Resolver: URL, URL: url})
}

// StartFull starts a server with a full resolver in a fresh directory, deletes allowed.
func StartFull(t testing.TB, tr Trust) *Server {
	t.Helper()
	return Start(t, tr, Options{Resolver: Full, AllowDelete: true})
}

// StartCache starts a server with a cache resolver in a fresh directory.
func StartCache(t testing.TB, tr Trust) *Server {
	t.Helper()
	return Start(t, tr, Options{Resolver: Cache})
}

// StartCluster starts n full-resolver servers (named S0..S<n-1>, deletes allowed) routed into one
// cluster, and returns once every server has a route to every other one. o, if given, is the
// template for every server (Name, Dir and Resolver are overridden).
func StartCluster(t testing.TB, n int, tr Trust, o ...Options) []*Server {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: cluster of %d servers", n)
	}
	tmpl := Options{AllowDelete: true}
	if len(o) > 0 {
		tmpl = o[0]
	}
	tmpl.Resolver = Full
	tmpl.Dir = ""
	all := make([]Options, n)
	for i := range all {
		all[i] = tmpl
	}
	return StartClusterOf(t, tr, all)
}

// StartClusterOf starts one server per element of opts, routed into one cluster, and returns
// once every server has a route to every other one. Empty names become S0, S1, ...; servers
// may use different resolvers (a memory-resolver server beside full ones, say).
func StartClusterOf(t testing.TB, tr Trust, opts []Options) []*Server {
	t.Helper()
	servers := make([]*Server, 0, len(opts))
	var seed string
	for i, so := range opts {
		if so.Name == "" {
			so.Name = fmt.Sprintf("S%d", i)
		}
		cluster := "cluster {\n  name: C\n  listen: 127.0.0.1:-1\n"
		if seed != "" {
			cluster += fmt.Sprintf("  routes: [%q]\n", seed)
		}
		cluster += "}\n"
		s := start(t, tr, so, cluster)
		if i == 0 {
			seed = fmt.Sprintf("nats-route://%s", s.ClusterAddr().String())
		}
		servers = append(servers, s)
	}
	WaitRoutes(t, servers...)
	return servers
}

// WaitRoutes waits (up to 10 seconds) until every server has a route to every other one.
func WaitRoutes(t testing.TB, servers ...*Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for _, s := range servers {
		for {
			rz, err := s.Routez(&server.RoutezOptions{})
			if err != nil {
				t.Fatalf("natstest: routez of %s: %v", s.Name(), err)
			}
			remotes := map[string]bool{}
			for _, r := range rz.Routes {
				remotes[r.RemoteID] = true
			}
			if len(remotes) >= len(servers)-1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("natstest: %s has routes to %d of %d servers", s.Name(), len(remotes), len(servers)-1)
			}
			<-poll.C
		}
	}
}

func start(t testing.TB, tr Trust, o Options, cluster string) *Server {
	t.Helper()
	if tr.OperatorJWT == "" || tr.SystemAccount == "" {
		t.Fatal("natstest: Trust needs OperatorJWT and SystemAccount")
	}
	if o.Name == "" {
		o.Name = "S"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %q\nlisten: \"127.0.0.1:-1\"\n", o.Name)
	fmt.Fprintf(&b, "operator: %q\nsystem_account: %q\n", tr.OperatorJWT, tr.SystemAccount)
	switch o.Resolver {
	case Memory:
		b.WriteString("resolver: MEMORY\n")
	case URL:
		if o.URL == "" {
			t.Fatal("natstest: URL resolver needs Options.URL")
		}
		fmt.Fprintf(&b, "resolver: URL(%s)\n", o.URL)
	case Full, Cache:
		if o.Dir == "" {
			o.Dir = t.TempDir()
		}
		fmt.Fprintf(&b, "resolver {\n  type: %s\n  dir: %q\n", o.Resolver, o.Dir)
		if o.Resolver == Full && o.AllowDelete {
			b.WriteString("  allow_delete: true\n")
		}
		b.WriteString("}\n")
	default:
		t.Fatalf("natstest: unknown resolver %v", o.Resolver)
	}
	preload := map[string]string{}
	for k, v := range o.Preload {
		preload[k] = v
	}
	if tr.SystemAccountJWT != "" && o.Resolver != URL {
		preload[tr.SystemAccount] = tr.SystemAccountJWT
	}
	if len(preload) > 0 {
		keys := make([]string, 0, len(preload))
		for k := range preload {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("resolver_preload {\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %q\n", k, preload[k])
		}
		b.WriteString("}\n")
	}
	b.WriteString(cluster)
	b.WriteString(o.Extra)

	cf := filepath.Join(t.TempDir(), "nats-server.conf")
	if err := os.WriteFile(cf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(cf)
	if err != nil {
		t.Fatalf("natstest: config %s: %v", cf, err)
	}
	opts.NoSigs = true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: new server: %v", err)
	}
	ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatalf("natstest: server %s not ready", o.Name)
	}
	return &Server{Server: ns, Dir: o.Dir, ConfigFile: cf}
}
