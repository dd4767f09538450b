package jwtstore

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDirPutParallel: 16 writers Put distinct accounts; the directory store's group commit
// with syncfs and with an fsync per file and folder, against a write and rename per Put with two
// fsyncs (signet's earlier path) and without any.
func BenchmarkDirPutParallel(b *testing.B) {
	const writers = 16
	_, tok := newAccountJWT(b, "A")
	keys := make([]string, 0, 4096)
	for range cap(keys) {
		pub, _ := newAccountJWT(b, "k")
		keys = append(keys, pub)
	}
	run := func(b *testing.B, put func(pub string) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		t0 := time.Now()
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= b.N {
						return
					}
					if err := put(keys[i%len(keys)]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "puts/s")
	}
	for _, mode := range []string{"syncfs", "fsync-each"} {
		b.Run("group-commit-"+mode, func(b *testing.B) {
			d, err := OpenDir(b.TempDir(), DirOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			if mode == "fsync-each" {
				d.commits.sync = syncEach(d.dir)
			}
			run(b, func(pub string) error { return d.Put(pub, tok) })
		})
	}
	b.Run("group-commit-with-record", func(b *testing.B) {
		d, err := OpenDir(b.TempDir(), DirOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		run(b, func(pub string) error {
			return d.Commit(Batch{Records: []Record{{Area: ".outbox", Name: pub}}, Puts: []Put{{Pub: pub, JWT: tok}}})
		})
	})
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("write-rename-fsync=%v", sync), func(b *testing.B) {
			dir := b.TempDir()
			run(b, func(pub string) error {
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
			})
		})
	}
}
