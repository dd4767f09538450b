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

// BenchmarkPOSTDurable: 2,000 distinct accounts POSTed over HTTP, 16 in flight, to signet serve
// connected to a nats-server, with four stores, each in a fresh folder on the same disk:
//
//   - signet: the directory store, durable when answered, concurrent POSTs sharing one
//     fdatasync of its write-ahead log a round (group commit), with the outbox entry of each
//     change in the same commit;
//   - signet-syncfs-rounds: the same store without its write-ahead log (DirOptions.NoWAL): each
//     round makes its files durable with a syncfs of the whole file system (signet before the log);
//   - fsync-per-post: the write path signet had before the group commit, two fsyncs per POST
//     (file, then folder);
//   - no-fsync: write and rename, no fsync at all (nats-account-server's path): nothing it
//     acknowledged is sure to survive a power cut.
//
// Each iteration is one round of 2,000 POSTs to each of the four, in turn (so that a change in
// the machine's load hits all alike). Run with -benchtime 5x; it reports POST/s of each and
// signet's rate over the no-fsync one.
func BenchmarkPOSTDurable(b *testing.B) {
	const accounts, inFlight = 2000, 16
	op := natstest.NewOperator(b, "O")
	type variant struct {
		name    string
		backend func(dir string) jwtstore.Store
		s       *Server
		lat     []time.Duration
		elapsed time.Duration
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
	}
	for _, v := range variants {
		cfg := testConfig(b, op)
		dir := b.TempDir()
		if v.backend == nil {
			cfg.Backend = nil
			cfg.Store = StoreConfig{Dir: dir}
		} else {
			cfg.Backend = v.backend(dir)
		}
		// A nats-server each: signet serves listen to each other's announcements.
		ns := natstest.StartMemory(b, op.Trust(), nil)
		natsConfig(b, &cfg, op, ns.ClientURL())
		v.s = startServer(b, cfg)
		waitConnected(b, v.s)
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
			b.StartTimer()
			t0 := time.Now()
			v.lat = append(v.lat, postAll(b, client, v.s.ResolverURL(), keys, bodies, inFlight)...)
			v.elapsed += time.Since(t0)
		}
	}
	b.StopTimer()
	rate := map[string]float64{}
	for _, v := range variants {
		slices.Sort(v.lat)
		rate[v.name] = float64(len(v.lat)) / v.elapsed.Seconds()
		b.ReportMetric(rate[v.name], v.name+"-POST/s")
		b.ReportMetric(float64(v.lat[len(v.lat)/2].Microseconds())/1000, v.name+"-p50-ms")
	}
	b.ReportMetric(rate["signet"]/rate["no-fsync"], "signet/no-fsync")
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
