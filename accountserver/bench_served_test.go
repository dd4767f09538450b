package accountserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// signedAccounts signs an account JWT for each of n fake account keys with op (on every core:
// a hundred thousand signatures take a few seconds).
func signedAccounts(b *testing.B, op *natstest.Operator, n int) map[string]string {
	keys := make([]string, n)
	toks := make([]string, n)
	var wg sync.WaitGroup
	workers := 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				keys[i] = fakeAccountKey(i)
				ac := jwt.NewAccountClaims(keys[i])
				ac.Name = keys[i][:8]
				tok, err := ac.Encode(op.KP)
				if err != nil {
					b.Error(err)
					return
				}
				toks[i] = tok
			}
		}()
	}
	wg.Wait()
	accs := make(map[string]string, n)
	for i, k := range keys {
		accs[k] = toks[i]
	}
	return accs
}

// discardWriter is an http.ResponseWriter that keeps nothing, so that a pack of a hundred
// thousand JWTs measures the server, not a buffer growing to hold it.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteString(s string) (int, error) {
	return len(s), nil
}
func (w *discardWriter) WriteHeader(int) {}

// BenchmarkServedReads measures the reads that go through every JWT served from the store (what
// the trust in effect now lets out): $SYS.REQ.CLAIMS.LIST (the account keys, encoded; the reply
// itself is not sent, it is larger than NATS's payload limit at this size), $SYS.REQ.CLAIMS.PACK
// (one message per JWT, published to an embedded nats-server that nobody else listens on) and
// GET /jwt/v1/pack, over 100,000 accounts (SIGNET_BENCH_ACCOUNTS) in the memory store and in the
// directory store once it has read its files.
func BenchmarkServedReads(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SIGNET_BENCH_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	op := natstest.NewOperator(b, "O")
	ns := natstest.StartMemory(b, op.Trust(), nil)
	accs := signedAccounts(b, op, n)
	stores := []struct {
		name string
		open func(b *testing.B) jwtstore.Store
	}{
		{"memory", func(b *testing.B) jwtstore.Store {
			m := jwtstore.NewMemory()
			for pub, tok := range accs {
				m.Put(pub, tok)
			}
			return m
		}},
		{"dir", func(b *testing.B) jwtstore.Store {
			dir := b.TempDir()
			for pub, tok := range accs {
				if err := os.WriteFile(filepath.Join(dir, pub+".jwt"), []byte(tok), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			d, err := jwtstore.OpenDir(dir, jwtstore.DirOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { d.Close() })
			if _, err := d.Hash(); err != nil { // reads every file once, as a first CLAIMS.PACK does
				b.Fatal(err)
			}
			return d
		}},
	}
	for _, st := range stores {
		b.Run(fmt.Sprintf("store=%s/accounts=%d", st.name, n), func(b *testing.B) {
			cfg := testConfig(b, op)
			cfg.Backend = st.open(b)
			natsConfig(b, &cfg, op, ns.ClientURL())
			s := startServer(b, cfg)
			waitConnected(b, s)
			p := s.peer.Load()
			h := s.Handler()
			b.Run("list", func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					p.onList(&nats.Msg{Subject: "$SYS.REQ.CLAIMS.LIST", Reply: "bench.list"})
				}
			})
			b.Run("claims-pack", func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					p.onPack(&nats.Msg{Subject: subjPack, Reply: "bench.pack", Data: make([]byte, 32)})
					if err := p.nc.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("http-pack", func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/jwt/v1/pack", nil)
				b.ReportAllocs()
				for range b.N {
					h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
				}
			})
		})
	}
}
