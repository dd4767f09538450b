package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteFileAtomic writes data to path so that readers see either the old file or the whole new one:
// it writes a temporary file in the same directory, fsyncs it and renames it over path. Missing
// parent directories are created with dirPerm.
func WriteFileAtomic(path string, data []byte, perm, dirPerm os.FileMode) error {
	return writeFileAtomic(path, data, perm, dirPerm, true)
}

// writeFileAtomic is WriteFileAtomic with the fsync optional: files that are only hints (the
// public-key index) need to be whole, not durable, and skipping the fsync shortens every save.
func writeFileAtomic(path string, data []byte, perm, dirPerm os.FileMode, durable bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("create directory %q: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file in %q: %w", dir, err)
	}
	name := tmp.Name()
	cleanup := func() { _ = os.Remove(name) }
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		cleanup()
		return fmt.Errorf("chmod %q: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		cleanup()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			_ = tmp.Close()
			cleanup()
			return fmt.Errorf("sync %q: %w", path, err)
		}
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return fmt.Errorf("close %q: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		cleanup()
		return fmt.Errorf("rename into %q: %w", path, err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// IsTempName reports whether name is one of signet's temporary files: writeFileAtomic's
// (".<name>.tmp-<digits>") or the JWT store's (".<name>.tmp<digits>"), the digits being what
// os.CreateTemp puts in place of its "*". Nothing else matches (".config.tmpl", ".x.tmp",
// ".index.tmp.lock" are someone else's files).
func IsTempName(name string) bool {
	i := strings.LastIndex(name, ".tmp")
	if !strings.HasPrefix(name, ".") || i < 2 {
		return false
	}
	digits := strings.TrimPrefix(name[i+len(".tmp"):], "-")
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SweepTempIfDue runs SweepTemp over root (files older than a minute) when the marker file is
// missing or older than an hour, then touches the marker (mode 0600). A failed sweep leaves the
// marker alone, so the next call tries again; it is never an error to the caller.
func SweepTempIfDue(root, marker string, now time.Time) {
	if info, err := os.Stat(marker); err == nil && now.Sub(info.ModTime()) < sweepEvery {
		return
	}
	if _, err := SweepTemp(root, staleTempAge, now); err != nil {
		return
	}
	_ = os.WriteFile(marker, nil, 0o600)
	_ = os.Chtimes(marker, now, now)
}

// SweepTemp removes the temporary files that writeFileAtomic leaves behind when a process dies
// between creating and renaming one, anywhere under root, when they are older than minAge (a
// younger one may belong to a write in progress). It returns how many it removed. Symbolic
// links are not followed.
func SweepTemp(root string, minAge time.Duration, now time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() || !IsTempName(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil || now.Sub(info.ModTime()) < minAge {
			return nil
		}
		if err := os.Remove(p); err == nil {
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("sweep temporary files under %q: %w", root, err)
	}
	return removed, nil
}
