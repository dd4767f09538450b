package accountserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/signet-dev/signet/internal/natstest"
)

// kvReplicas starts n signet serve replicas of one bucket (stored with bucketReplicas copies),
// replica i connected to JetStream server i (mod the cluster's size) first.
func kvReplicas(b testing.TB, op *natstest.Operator, n, bucketReplicas int, js []*server.Server) []*replica {
	reps := make([]*replica, n)
	for i := range reps {
		order := append(append([]*server.Server(nil), js[i%len(js):]...), js[:i%len(js)]...)
		cfg := kvConfig(b, op, bucketReplicas, order...)
		cfg.Logging = LoggingConfig{}
		reps[i] = startReplica(b, cfg)
	}
	return reps
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// BenchmarkKV measures signet serve on a shared JetStream KV bucket, three replicas, JetStream
// in-process on this machine, with the bucket stored once (replicas=1, one JetStream server) and
// three times (replicas=3, a 3-node cluster):
//   - POST/s: 2,000 distinct accounts POSTed over HTTP, 16 in flight, spread over the replicas;
//     each is answered once JetStream stored it (on a majority of the stream's replicas).
//   - visible-p50/p99: from the start of a POST to one replica until every replica serves the
//     JWT (200 POSTs one after another).
func BenchmarkKV(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			js := natstest.StartJetStreamCluster(b, n)
			op := natstest.NewOperator(b, "OP")
			reps := kvReplicas(b, op, 3, n, js)
			client, closeIdle := postClient(16)
			defer closeIdle()
			b.ResetTimer()
			for range b.N {
				accounts := op.Accounts(b, 2000)
				keys := make([]string, 0, len(accounts))
				for k := range accounts {
					keys = append(keys, k)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := int(next.Add(1) - 1)
							if i >= len(keys) {
								return
							}
							r := reps[i%len(reps)]
							resp, err := client.Post(accountsURL(r.Server, keys[i]), "application/jwt", strings.NewReader(accounts[keys[i]]))
							if err != nil {
								b.Error(err)
								return
							}
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK {
								b.Errorf("POST: %d", resp.StatusCode)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(len(keys))/time.Since(start).Seconds(), "POST/s")

				vis := make([]time.Duration, 0, 200)
				for pub, tok := range op.Accounts(b, 200) {
					t0 := time.Now()
					mustPost(b, reps[len(vis)%3].Server, pub, tok)
					for _, r := range reps {
						for {
							if got, _ := r.store.Get(pub); got == tok {
								break
							}
							if time.Since(t0) > 10*time.Second {
								b.Fatalf("not visible on every replica after 10s")
							}
							time.Sleep(20 * time.Microsecond)
						}
					}
					vis = append(vis, time.Since(t0))
				}
				b.ReportMetric(float64(percentile(vis, 0.5).Microseconds())/1000, "visible-p50-ms")
				b.ReportMetric(float64(percentile(vis, 0.99).Microseconds())/1000, "visible-p99-ms")
			}
		})
	}
}

// BenchmarkKVGET is GET /jwt/v1/accounts/<pub> served by one replica of a KV store: from its
// local copy, as fast as from the directory store's cache (BenchmarkGET/cached).
func BenchmarkKVGET(b *testing.B) {
	js := natstest.StartJetStream(b)
	op := natstest.NewOperator(b, "OP")
	rep := kvReplicas(b, op, 1, 1, []*server.Server{js})[0]
	_, pub, tok := op.Account(b, "A")
	mustPost(b, rep.Server, pub, tok)
	h := rep.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/jwt/v1/accounts/"+pub, nil)
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkKVFailover: three replicas on a 3-node cluster (bucket replicas=3) take POSTs from 4
// writers that move on to the next replica when one fails; the node leading the bucket's stream
// is killed. pause-ms is the longest time without an acknowledged POST around the kill: how long
// writes stop while JetStream elects a new leader.
func BenchmarkKVFailover(b *testing.B) {
	for range b.N {
		b.StopTimer()
		js := natstest.StartJetStreamCluster(b, 3)
		op := natstest.NewOperator(b, "OP")
		reps := kvReplicas(b, op, 3, 3, js)
		var mu sync.Mutex
		var acks []time.Time
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := w; !stop.Load(); n++ {
					_, pub, tok := op.Account(b, "F")
					for try := 0; !stop.Load(); try++ {
						code, err := postWithTimeout(accountsURL(reps[(n+try)%3].Server, pub), tok)
						if err == nil && code == http.StatusOK {
							mu.Lock()
							acks = append(acks, time.Now())
							mu.Unlock()
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
				}
			}()
		}
		time.Sleep(time.Second)
		leader := streamLeader(b, js)
		killed := time.Now()
		leader.Shutdown()
		waitFor(b, 30*time.Second, "writes to resume", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return acks[len(acks)-1].After(killed.Add(time.Second))
		})
		stop.Store(true)
		wg.Wait()
		var pause time.Duration
		for i := 1; i < len(acks); i++ {
			if acks[i].After(killed) && acks[i].Sub(acks[i-1]) > pause {
				pause = acks[i].Sub(acks[i-1])
			}
		}
		b.ReportMetric(float64(pause.Microseconds())/1000, "pause-ms")
	}
}
