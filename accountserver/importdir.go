package accountserver

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/store"
)

// Moving in and out: a directory store (nats-account-server's, nats-server's full resolver's or
// signet serve's own) is loaded into whatever store the server has, through the same verified
// update as a push; and the server's store is written out as such a directory.

// Directory layouts of ImportReport.Layout.
const (
	LayoutFlat    = "flat"    // <account>.jwt in the directory itself
	LayoutSharded = "sharded" // <last two characters>/<account>.jwt
	LayoutMixed   = "flat and sharded"
)

// ImportReport says what ImportDir did with what it found. Every list is sorted.
type ImportReport struct {
	Dir    string
	Layout string
	// Imported are the accounts stored: absent from the store, or newer than what it held.
	Imported []string
	// Unchanged are the accounts whose very JWT the store held already.
	Unchanged []string
	// Stale are JWTs not stored because the store holds a newer one, or a different one issued
	// in the same second (which one is newer cannot be told; the store's is kept).
	Stale []ImportSkip
	// Refused are JWTs that are not trusted (not signed by the operator or one of its signing
	// keys) or cannot be read as account JWTs: they never enter the store.
	Refused []ImportSkip
	// Warnings are files of the directory that were not read as account JWTs at all (names
	// that are no account key, links, files holding something else).
	Warnings []string
}

// ImportSkip is one JWT ImportDir did not store, and why.
type ImportSkip struct {
	Account string
	Path    string
	Reason  string
}

// ImportDir loads the account JWTs of a directory store into the server's store. The layout
// (flat or sharded, or both) is found by looking; the directory is only read. Each JWT goes
// through the server's verified update, as a pack merge does: an untrusted or malformed one is
// refused, one older than (or of the same second as, and different from) what the store holds
// is left out, and neither is an error. The error is for what stops the import: no such
// directory, no JWT files in it, a read-only store, a store that fails to write (the accounts
// stored before stay stored).
func (s *Server) ImportDir(dir string) (ImportReport, error) {
	rep := ImportReport{Dir: dir}
	flat, sharded, err := dirLayout(dir)
	if err != nil {
		return rep, err
	}
	switch {
	case flat && sharded:
		rep.Layout = LayoutMixed
	case sharded:
		rep.Layout = LayoutSharded
	default:
		rep.Layout = LayoutFlat
	}
	if s.store.ReadOnly() {
		return rep, errors.New("import: the store is read-only: nothing can be imported into it")
	}
	for _, shard := range []bool{false, true} {
		if (shard && !sharded) || (!shard && !flat) {
			continue
		}
		if err := s.importLayout(dir, shard, &rep); err != nil {
			rep.sort()
			return rep, err
		}
	}
	rep.sort()
	return rep, nil
}

// importLayout imports the JWTs of dir read in one layout.
func (s *Server) importLayout(dir string, shard bool, rep *ImportReport) error {
	src, err := jwtstore.OpenDir(dir, jwtstore.DirOptions{
		Shard:     shard,
		ReadOnly:  true, // never writes into the source (no temporary-file sweep, no log redo)
		MaxCached: -1,   // each JWT is read once, no need to keep it
		OnError:   func(err error) { rep.Warnings = append(rep.Warnings, err.Error()) },
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer src.Close()
	var stop error
	err = src.Range(func(pub, token string) bool {
		path := jwtPath(dir, pub, shard)
		res, err := s.update(strings.TrimSpace(token), pub, fromDir)
		if err != nil {
			if code := statusOf(err); code == http.StatusBadRequest || code == http.StatusForbidden {
				rep.Refused = append(rep.Refused, ImportSkip{Account: pub, Path: path, Reason: err.Error()})
				return true
			}
			stop = fmt.Errorf("import %s: %w", path, err)
			return false
		}
		if res.changed {
			rep.Imported = append(rep.Imported, pub)
			return true
		}
		// Not stored: the store holds this JWT, or one it keeps instead (update decided which,
		// under the account's lock; this only tells the report which).
		held, err := s.store.Entry(pub)
		switch {
		case err == nil && held.JWT == strings.TrimSpace(token):
			rep.Unchanged = append(rep.Unchanged, pub)
		case err == nil:
			e := jwtstore.NewEntry(token)
			reason := fmt.Sprintf("the store holds a newer jwt (issued at %d; this one at %d)", held.IssuedAt, e.IssuedAt)
			if held.IssuedAt == e.IssuedAt {
				reason = fmt.Sprintf("the store holds a different jwt issued in the same second (%d); kept the store's", e.IssuedAt)
			}
			rep.Stale = append(rep.Stale, ImportSkip{Account: pub, Path: path, Reason: reason})
		default:
			rep.Unchanged = append(rep.Unchanged, pub)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("import: read %s: %w", dir, err)
	}
	return stop
}

// dirLayout looks at dir's entries: <account>.jwt files (flat), two-character folders (sharded).
func dirLayout(dir string) (flat, sharded bool, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return false, false, fmt.Errorf("import: %w", err)
	}
	if !st.IsDir() {
		return false, false, fmt.Errorf("import: %s is not a directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, false, fmt.Errorf("import: %w", err)
	}
	for _, e := range ents {
		switch name := e.Name(); {
		case strings.HasSuffix(name, jwtExt):
			flat = true
		case e.IsDir() && len(name) == 2:
			sharded = true
		}
	}
	if !flat && !sharded {
		return false, false, fmt.Errorf("import: %s holds no account jwt files (<account>.jwt, or two-character shard folders of them)", dir)
	}
	return flat, sharded, nil
}

const jwtExt = ".jwt"

// jwtPath is where a directory store keeps pub's JWT (jwtstore.Dir's layout).
func jwtPath(dir, pub string, shard bool) string {
	if shard {
		return filepath.Join(dir, pub[len(pub)-2:], pub+jwtExt)
	}
	return filepath.Join(dir, pub+jwtExt)
}

func (r *ImportReport) sort() {
	sort.Strings(r.Imported)
	sort.Strings(r.Unchanged)
	sort.Strings(r.Warnings)
	for _, l := range [][]ImportSkip{r.Stale, r.Refused} {
		sort.Slice(l, func(i, j int) bool { return l[i].Path < l[j].Path })
	}
}

// ExportReport says what ExportDir wrote.
type ExportReport struct {
	Dir     string
	Sharded bool
	// Written are the accounts written, sorted.
	Written []string
	// Others counts the account files the directory held already that the store has no
	// account for (kept as they are; only with force).
	Others int
}

// ExportDir writes every account of the server's store into dir as a directory store: flat
// (<account>.jwt, nats-account-server's default and nats-server's full resolver's layout) or
// sharded (<last two characters>/<account>.jwt, nats-account-server's shard option). Each file
// is written atomically (a reader sees the old file or the whole new one). A directory that
// holds anything is refused unless force; with force, the store's accounts replace their files
// and other files are left alone. The store holds only JWTs verified when they entered it;
// those whose issuer the operator no longer trusts (see lookup) are left out.
func (s *Server) ExportDir(dir string, shard, force bool) (ExportReport, error) {
	rep := ExportReport{Dir: dir, Sharded: shard}
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return rep, fmt.Errorf("export: %s is not a directory", dir)
		}
		return rep, fmt.Errorf("export: %w", err)
	case len(ents) > 0 && !force:
		return rep, fmt.Errorf("export: %s is not empty (%d entries): choose an empty or new directory, or pass --force to write over the account files in it", dir, len(ents))
	}
	tokens := map[string]string{}
	if err := s.rangeServed(func(pub string, e jwtstore.Entry) bool {
		tokens[pub] = e.JWT
		return true
	}); err != nil {
		return rep, fmt.Errorf("export: read the store: %w", err)
	}
	if len(tokens) == 0 {
		return rep, errors.New("export: the store holds no accounts: nothing to export")
	}
	if len(ents) > 0 {
		rep.Others = countOtherJWTs(dir, tokens)
	}
	for pub := range tokens {
		rep.Written = append(rep.Written, pub)
	}
	sort.Strings(rep.Written)
	for _, pub := range rep.Written {
		if !nkeys.IsValidPublicAccountKey(pub) {
			return rep, fmt.Errorf("export: the store holds %q, which is no account public key", pub)
		}
		if err := store.WriteFileAtomic(jwtPath(dir, pub, shard), []byte(tokens[pub]), 0o644, 0o755); err != nil {
			return rep, fmt.Errorf("export %s: %w", pub, err)
		}
	}
	return rep, nil
}

// countOtherJWTs counts the account files in dir (either layout) of accounts not in tokens.
func countOtherJWTs(dir string, tokens map[string]string) int {
	n := 0
	count := func(d string) {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			pub, ok := strings.CutSuffix(e.Name(), jwtExt)
			if ok && nkeys.IsValidPublicAccountKey(pub) && tokens[pub] == "" {
				n++
			}
		}
	}
	count(dir)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() && len(e.Name()) == 2 {
			count(filepath.Join(dir, e.Name()))
		}
	}
	return n
}
