package accountserver

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// fileStore is a baseline write path for the POST benchmark: one file per account, written to
// a temporary file and renamed, with (sync) or without an fsync of the file and of the folder
// per write. Reads are served from memory. It keeps no records.
type fileStore struct {
	mem  *jwtstore.Memory
	dir  string
	sync bool
}

func (f *fileStore) Put(pub, token string) error {
	tmp, err := os.CreateTemp(f.dir, "."+pub+".tmp*")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(tmp, token); err != nil {
		tmp.Close()
		return err
	}
	if f.sync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.dir, pub+".jwt")); err != nil {
		return err
	}
	if f.sync {
		d, err := os.Open(f.dir)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := d.Sync(); err != nil {
			return err
		}
	}
	return f.mem.Put(pub, token)
}

func (f *fileStore) Get(pub string) (string, error)           { return f.mem.Get(pub) }
func (f *fileStore) Entry(pub string) (jwtstore.Entry, error) { return f.mem.Entry(pub) }
func (f *fileStore) Delete(pub string) error                  { return f.mem.Delete(pub) }
func (f *fileStore) Range(fn func(pub, jwt string) bool) error {
	return f.mem.Range(fn)
}
func (f *fileStore) Len() int                         { return f.mem.Len() }
func (f *fileStore) Hash() ([sha256.Size]byte, error) { return f.mem.Hash() }
func (f *fileStore) ReadOnly() bool                   { return false }
func (f *fileStore) Close() error                     { return nil }

func newFileStore(dir string, sync bool) *fileStore {
	return &fileStore{mem: jwtstore.NewMemory(), dir: dir, sync: sync}
}

func postClient(conns int) (*http.Client, func()) {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	return &http.Client{Transport: tr}, tr.CloseIdleConnections
}

// postAll POSTs every body to its account over inFlight keep-alive connections and returns the
// latency of each POST.
func postAll(b *testing.B, client *http.Client, base string, keys, bodies []string, inFlight int) []time.Duration {
	lat := make([]time.Duration, len(keys))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(keys) {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(base+keys[i], "application/jwt", strings.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					b.Errorf("POST %s: %d", keys[i], resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	return lat
}

// BenchmarkPOSTDurable: 2,000 distinct accounts POSTed over HTTP, 16 in flight, each variant on
// a fresh folder of the same disk and connected to a nats-server of its own:
//
//   - signet: signet serve on the directory store, durable when answered, concurrent POSTs
//     sharing one fdatasync of its write-ahead log a round (group commit), with the outbox entry
//     of each change in the same commit;
//   - signet-syncfs-rounds: the same store without its write-ahead log (DirOptions.NoWAL): each
//     round makes its files durable with a syncfs of the whole file system (signet before the log);
//   - fsync-per-post: signet serve on the write path it had before the group commit, two fsyncs
//     per POST (file, then folder);
//   - no-fsync: signet serve on a write-and-rename path that syncs nothing: signet's own POST
//     path without durability;
//   - nats-account-server-path: nats-account-server's POST path put together from its parts
//     (nasPath): nats-server's DirJWTStore, its handler's checks, a notification published
//     without waiting; nothing synced;
//   - signet-process: signet serve (built from this repository) in a process of its own, as
//     users run it, with the same configuration file as nats-account-server;
//   - signet-process-memory: the same without the store block: signet serve's memory store,
//     nothing on disk at all. No store design, durable or not, can beat it: it is the ceiling
//     of what signet serve's own process could reach with a cheaper store;
//   - nats-account-server: the real binary, in a process of its own, when
//     SIGNET_BENCH_NATS_ACCOUNT_SERVER names it (docs/perf/serve.md says how to build it).
//
// SIGNET_BENCH_VARIANTS (names, comma separated) runs only those.
// Each iteration is one round of 2,000 POSTs to each variant, in turn (so that a change in the
// machine's load hits all alike; a non-syncing variant leaves its writes for the kernel to write
// back later, which may fall into another's turn). Run with -benchtime 5x; it reports POST/s and
// p50 of each and signet's rate over the others'.
func BenchmarkPOSTDurable(b *testing.B) {
	const accounts, inFlight = 2000, 16
	op := natstest.NewOperator(b, "O")
	type variant struct {
		name    string
		backend func(dir string) jwtstore.Store                     // signet serve on this store
		start   func(ns *natstest.Server) (postURL string, pid int) // or another server (pid: its process, or 0)
		url     string
		pid     int
		lat     []time.Duration
		elapsed time.Duration
		// CPU used during the variant's rounds: by its server's process (process variants), and
		// by this process (the load generator and the nats-servers, and the server when it runs
		// in this process).
		serverCPU, selfCPU time.Duration
		cpuKnown           bool
	}
	variants := []*variant{
		{name: "signet"},
		{name: "signet-syncfs-rounds", backend: func(dir string) jwtstore.Store {
			d, err := jwtstore.OpenDir(dir, jwtstore.DirOptions{NoWAL: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { d.Close() }) // after the server's shutdown (cleanups run last first)
			return d
		}},
		{name: "fsync-per-post", backend: func(dir string) jwtstore.Store { return newFileStore(dir, true) }},
		{name: "no-fsync", backend: func(dir string) jwtstore.Store { return newFileStore(dir, false) }},
		{name: "nats-account-server-path", start: func(ns *natstest.Server) (string, int) { return startNASPath(b, op, ns), 0 }},
	}
	signet := buildSignet(b)
	variants = append(variants,
		&variant{name: "signet-process", start: func(ns *natstest.Server) (string, int) {
			return startAccountServerProcess(b, op, ns, false, signet, "serve", "-c")
		}},
		&variant{name: "signet-process-memory", start: func(ns *natstest.Server) (string, int) {
			return startAccountServerProcess(b, op, ns, true, signet, "serve", "-c")
		}})
	if nas := os.Getenv("SIGNET_BENCH_NATS_ACCOUNT_SERVER"); nas != "" {
		variants = append(variants, &variant{name: "nats-account-server", start: func(ns *natstest.Server) (string, int) {
			return startAccountServerProcess(b, op, ns, false, nas, "-c")
		}})
	}
	if only := os.Getenv("SIGNET_BENCH_VARIANTS"); only != "" {
		variants = slices.DeleteFunc(variants, func(v *variant) bool {
			return !slices.Contains(strings.Split(only, ","), v.name)
		})
	}
	for _, v := range variants {
		// A nats-server each: the servers listen to each other's announcements otherwise.
		ns := natstest.StartMemory(b, op.Trust(), nil)
		if v.start != nil {
			v.url, v.pid = v.start(ns)
			continue
		}
		cfg := testConfig(b, op)
		dir := b.TempDir()
		if v.backend == nil {
			cfg.Backend = nil
			cfg.Store = StoreConfig{Dir: dir}
		} else {
			cfg.Backend = v.backend(dir)
		}
		natsConfig(b, &cfg, op, ns.ClientURL())
		s := startServer(b, cfg)
		waitConnected(b, s)
		v.url = s.ResolverURL()
	}
	client, done := postClient(inFlight)
	defer done()
	b.ResetTimer()
	for i := range b.N {
		for j := range variants {
			v := variants[(i+j)%len(variants)]
			b.StopTimer()
			keys, bodies := make([]string, accounts), make([]string, accounts)
			for k := range keys {
				_, keys[k], bodies[k] = op.Account(b, "A")
			}
			server0, ok1 := processCPU(v.pid)
			self0, ok2 := processCPU(0)
			b.StartTimer()
			t0 := time.Now()
			v.lat = append(v.lat, postAll(b, client, v.url, keys, bodies, inFlight)...)
			v.elapsed += time.Since(t0)
			b.StopTimer()
			server1, ok3 := processCPU(v.pid)
			self1, ok4 := processCPU(0)
			v.cpuKnown = ok1 && ok2 && ok3 && ok4
			v.serverCPU += server1 - server0
			v.selfCPU += self1 - self0
			b.StartTimer()
		}
	}
	b.StopTimer()
	rate := map[string]float64{}
	for _, v := range variants {
		slices.Sort(v.lat)
		rate[v.name] = float64(len(v.lat)) / v.elapsed.Seconds()
		b.ReportMetric(rate[v.name], v.name+"-POST/s")
		b.ReportMetric(float64(v.lat[len(v.lat)/2].Microseconds())/1000, v.name+"-p50-ms")
		if !v.cpuKnown {
			continue
		}
		perPOST := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(len(v.lat)) }
		if v.pid != 0 {
			b.ReportMetric(perPOST(v.serverCPU), v.name+"-server-cpu-us/POST")
			b.ReportMetric(perPOST(v.selfCPU), v.name+"-loadgen+nats-cpu-us/POST")
		} else {
			b.ReportMetric(perPOST(v.selfCPU), v.name+"-all-cpu-us/POST")
		}
	}
	for _, other := range []string{"no-fsync", "nats-account-server-path"} {
		if r := rate[other]; r > 0 && rate["signet"] > 0 {
			b.ReportMetric(rate["signet"]/r, "signet/"+other)
		}
	}
	for _, mine := range []string{"signet-process", "signet-process-memory"} {
		if r := rate["nats-account-server"]; r > 0 && rate[mine] > 0 {
			b.ReportMetric(rate[mine]/r, mine+"/nats-account-server")
		}
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRevocationPropagation: a nats-server with the URL resolver and signet serve (directory
// store) announcing changes to it. Each iteration connects a user of a new account, then POSTs
// the account's JWT revoking that user and measures the POST (until its answer) and the time
// until the server dropped the user's connection, both from the start of the POST. Reports the
// p50 of both and of their difference; run with -benchtime 200x.
func BenchmarkRevocationPropagation(b *testing.B) {
	op := natstest.NewOperator(b, "O")
	port := freePort(b)
	cfg := testConfig(b, op)
	cfg.Backend = nil
	cfg.Store = StoreConfig{Dir: b.TempDir()}
	natsConfig(b, &cfg, op, fmt.Sprintf("nats://127.0.0.1:%d", port))
	s := startServer(b, cfg)
	ns := natstest.Start(b, op.Trust(), natstest.Options{Resolver: natstest.URL, URL: s.ResolverURL(), Extra: listenExtra(port)})
	waitConnected(b, s)
	client, done := postClient(1)
	defer done()
	var posts, drops, gaps []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		akp, pub, tok := op.Account(b, "A")
		mustPost(b, s, pub, tok)
		ujwt, useed := op.User(b, akp, "u")
		dropped := make(chan time.Time, 1)
		nc, err := nats.Connect(ns.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)), nats.NoReconnect(),
			nats.DisconnectErrHandler(func(*nats.Conn, error) { dropped <- time.Now() }),
			nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		if err != nil {
			b.Fatal(err)
		}
		uc, _ := jwt.DecodeUserClaims(ujwt)
		ac := jwt.NewAccountClaims(pub)
		ac.Name = "A"
		ac.Revoke(uc.Subject)
		revoked := encodeWithIAT(b, ac, op.KP, time.Now().Unix()+1)
		b.StartTimer()

		t0 := time.Now()
		resp, err := client.Post(accountsURL(s, pub), "application/jwt", strings.NewReader(revoked))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		post := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("POST: %d", resp.StatusCode)
		}
		var at time.Time
		select {
		case at = <-dropped:
		case <-time.After(10 * time.Second):
			b.Fatal("revoked user still connected")
		}
		b.StopTimer()
		nc.Close()
		posts = append(posts, post)
		drops = append(drops, at.Sub(t0))
		gaps = append(gaps, at.Sub(t0)-post)
		b.StartTimer()
	}
	b.StopTimer()
	p50 := func(d []time.Duration) float64 {
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.ReportMetric(p50(posts), "post-p50-ms")
	b.ReportMetric(p50(drops), "disconnect-p50-ms")
	b.ReportMetric(p50(gaps), "gap-p50-ms")
}
