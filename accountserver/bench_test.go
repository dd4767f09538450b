package accountserver

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// fakeAccountKey makes the i-th syntactically valid account public key without generating a
// key pair (a million ed25519 keys would take longer than the benchmark).
func fakeAccountKey(i int) string {
	var raw [32]byte
	binary.BigEndian.PutUint64(raw[:], uint64(i)+1)
	k, err := nkeys.Encode(nkeys.PrefixByteAccount, raw[:])
	if err != nil {
		panic(err) // cannot happen with a 32-byte key
	}
	return string(k)
}

func benchServer(b *testing.B, cfg Config) *Server {
	s, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkGET measures the server side of GET /jwt/v1/accounts/<pub>: with the JWT in memory,
// read from its file every time (uncached), answered 304 from an ETag, and with a million
// accounts in the store (same latency as a hundred).
func BenchmarkGET(b *testing.B) {
	op := natstest.NewOperator(b, "O")
	_, pub, tok := op.Account(b, "A")
	run := func(b *testing.B, s *Server, pub string, hdr ...string) {
		h := s.Handler()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			req := httptest.NewRequest(http.MethodGet, "/jwt/v1/accounts/"+pub, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			for pb.Next() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 && rec.Code != 304 {
					b.Errorf("status %d", rec.Code)
				}
			}
		})
	}
	for _, tc := range []struct {
		name      string
		maxCached int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			d, err := jwtstore.OpenDir(b.TempDir(), jwtstore.DirOptions{MaxCached: tc.maxCached})
			if err != nil {
				b.Fatal(err)
			}
			if err := d.Put(pub, tok); err != nil {
				b.Fatal(err)
			}
			cfg := testConfig(b, op)
			cfg.Backend = d
			run(b, benchServer(b, cfg), pub)
		})
	}
	b.Run("etag-304", func(b *testing.B) {
		cfg := testConfig(b, op)
		cfg.Backend.Put(pub, tok)
		e, _ := cfg.Backend.Entry(pub)
		run(b, benchServer(b, cfg), pub, "If-None-Match", fmt.Sprintf(`"%x"`, e.Hash))
	})
	for _, n := range []int{100, 1_000_000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			cfg := testConfig(b, op)
			for i := 0; i < n; i++ {
				cfg.Backend.Put(fakeAccountKey(i), tok)
			}
			run(b, benchServer(b, cfg), fakeAccountKey(n/2))
		})
	}
}

// BenchmarkPOST measures an accepted update: signature verification and trust check, a durable
// write (temp file, rename, outbox entry, and a sync shared with the concurrent posts) and
// queueing the notification for a connected NATS server. Posts run in parallel on distinct
// accounts. BenchmarkPOSTDurable compares the write paths over real HTTP.
func BenchmarkPOST(b *testing.B) {
	op := natstest.NewOperator(b, "O")
	ns := natstest.StartMemory(b, op.Trust(), nil)
	for _, sync := range []bool{true} {
		b.Run(fmt.Sprintf("dir-fsync=%v", sync), func(b *testing.B) {
			d, err := jwtstore.OpenDir(b.TempDir(), jwtstore.DirOptions{})
			if err != nil {
				b.Fatal(err)
			}
			cfg := testConfig(b, op)
			cfg.Backend = d
			natsConfig(b, &cfg, op, ns.ClientURL())
			s := startServer(b, cfg)
			waitConnected(b, s)
			b.SetParallelism(8) // 16 posts in flight: fsyncs overlap, locks are per key
			postParallel(b, op, s)
		})
	}
	b.Run("memory-verify-only", func(b *testing.B) {
		cfg := testConfig(b, op)
		postParallel(b, op, benchServer(b, cfg))
	})
}

// postParallel posts b.N new accounts (made before the timer starts) in parallel.
func postParallel(b *testing.B, op *natstest.Operator, s *Server) {
	bodies := make([]string, b.N)
	keys := make([]string, b.N)
	for i := range bodies {
		_, keys[i], bodies[i] = op.Account(b, "A")
	}
	h := s.Handler()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			req := httptest.NewRequest(http.MethodPost, "/jwt/v1/accounts/"+keys[i], strings.NewReader(bodies[i]))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkLOOKUP measures $SYS.REQ.ACCOUNT.<pub>.CLAIMS.LOOKUP answered by signet serve through
// an embedded nats-server (a full request/reply round trip).
func BenchmarkLOOKUP(b *testing.B) {
	op := natstest.NewOperator(b, "O")
	ns := natstest.StartMemory(b, op.Trust(), nil)
	s, _ := connectedServer(b, op, ns)
	_, pub, tok := op.Account(b, "A")
	mustPost(b, s, pub, tok)
	nc, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	subj := fmt.Sprintf("$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP", pub)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m, err := nc.Request(subj, nil, 5*time.Second)
			if err != nil || string(m.Data) != tok {
				b.Errorf("lookup: %v", err)
				return
			}
		}
	})
}

// loadResult is what a load run measured.
type loadResult struct {
	Requests int
	Elapsed  time.Duration
	P50, P99 time.Duration
	Errors   int
}

func (r loadResult) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// loadGET sends total GETs to url over conns keep-alive connections (one worker per connection)
// and measures throughput and latency percentiles. It is the Go stand-in for wrk.
func loadGET(url string, conns, total int) loadResult {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	per := total / conns
	lat := make([][]time.Duration, conns)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, per)
			for i := 0; i < per; i++ {
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
				mine = append(mine, time.Since(t0))
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := loadResult{Requests: len(all), Elapsed: elapsed, Errors: int(errs.Load())}
	if len(all) > 0 {
		r.P50 = all[len(all)/2]
		r.P99 = all[len(all)*99/100]
	}
	return r
}

// BenchmarkLoadGET runs the load generator (64 keep-alive connections) against signet serve and
// against a bare net/http handler serving the same bytes, the ceiling on this machine. Compare
// the req/s of the two sub-benchmarks; run with -benchtime=200000x or so.
func BenchmarkLoadGET(b *testing.B) {
	const conns = 64
	op := natstest.NewOperator(b, "O")
	_, pub, tok := op.Account(b, "A")
	cfg := testConfig(b, op)
	s := startServer(b, cfg)
	mustPost(b, s, pub, tok)

	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwt")
		io.WriteString(w, tok)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go bare.Serve(ln)
	b.Cleanup(func() { bare.Close() })

	for _, tc := range []struct{ name, url string }{
		{"signet", accountsURL(s, pub)},
		{"bare-net-http", "http://" + ln.Addr().String() + "/jwt/v1/accounts/" + pub},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := max(b.N, conns)
			b.ResetTimer()
			r := loadGET(tc.url, conns, n)
			b.StopTimer()
			if r.Errors > 0 {
				b.Fatalf("%d errors", r.Errors)
			}
			b.ReportMetric(r.RPS(), "req/s")
			b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99-ms")
		})
	}
}

// TestLoadGenerator checks the load generator itself on a small run (the heavy runs are
// benchmarks).
func TestLoadGenerator(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	_, pub, tok := op.Account(t, "A")
	s := startServer(t, testConfig(t, op))
	mustPost(t, s, pub, tok)
	n := 640
	if testing.Short() {
		n = 64
	}
	r := loadGET(accountsURL(s, pub), 64, n)
	if r.Errors != 0 || r.Requests != n || r.P99 < r.P50 || r.RPS() <= 0 {
		t.Fatalf("load run: %+v", r)
	}
}
