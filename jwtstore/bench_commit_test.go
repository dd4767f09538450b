package jwtstore

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDirPutParallel: 16 writers Put 2,000 distinct accounts, through the directory store's
// group commit (with its write-ahead log; without it, with a syncfs or an fsync of each file and
// folder of every round) and through a
// plain write and rename per Put with two fsyncs (signet's earlier path) and without any
// (nats-account-server's). Each iteration is one round of each, in turn, so that a change in the
// machine's load hits all alike; it reports the puts/s of each. Run with -benchtime 5x.
func BenchmarkDirPutParallel(b *testing.B) {
	const writers, puts = 16, 2000
	_, tok := newAccountJWT(b, "A")
	type variant struct {
		name    string
		put     func(pub string) error
		n       int
		elapsed time.Duration
	}
	dirStore := func(mode string) func(pub string) error {
		d, err := OpenDir(b.TempDir(), DirOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { d.Close() })
		switch mode {
		case "syncfs":
			withoutWAL(b, d)
		case "fsync-each":
			withoutWAL(b, d)
			d.commits.sync = syncEach(d.dir)
		}
		return func(pub string) error {
			return d.Commit(Batch{Records: []Record{{Area: ".outbox", Name: pub}}, Puts: []Put{{Pub: pub, JWT: tok}}})
		}
	}
	plain := func(sync bool) func(pub string) error {
		dir := b.TempDir()
		return func(pub string) error {
			f, err := os.CreateTemp(dir, "."+pub+".tmp*")
			if err != nil {
				return err
			}
			f.WriteString(tok)
			if sync {
				f.Sync()
			}
			f.Close()
			if err := os.Rename(f.Name(), filepath.Join(dir, pub+".jwt")); err != nil {
				return err
			}
			if sync {
				return fsyncPath(dir)
			}
			return nil
		}
	}
	variants := []*variant{
		{name: "group-commit-wal", put: dirStore("wal")},
		{name: "group-commit-syncfs", put: dirStore("syncfs")},
		{name: "group-commit-fsync-each", put: dirStore("fsync-each")},
		{name: "fsync-per-put", put: plain(true)},
		{name: "no-fsync", put: plain(false)},
	}
	b.ResetTimer()
	for i := range b.N {
		for j := range variants {
			v := variants[(i+j)%len(variants)]
			b.StopTimer()
			keys := make([]string, puts)
			for k := range keys {
				keys[k], _ = newAccountJWT(b, "k")
			}
			b.StartTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			t0 := time.Now()
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						k := int(next.Add(1) - 1)
						if k >= puts {
							return
						}
						if err := v.put(keys[k]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			v.elapsed += time.Since(t0)
			v.n += puts
		}
	}
	b.StopTimer()
	for _, v := range variants {
		b.ReportMetric(float64(v.n)/v.elapsed.Seconds(), v.name+"-puts/s")
	}
	b.ReportMetric(0, "ns/op")
}
