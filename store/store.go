// Package store is the nsc-compatible operator store: one folder per operator holding the operator,
// account and user JWTs in nsc's layout (<op>/<op>.jwt, <op>/accounts/<A>/<A>.jwt,
// <op>/accounts/<A>/users/<U>.jwt, <op>/.nsc), with atomic writes, a per-operator lock, and an O(1)
// lookup of an entity by name or public key.
//
// The public-key index lives in <op>/.signet, which nsc ignores. It is only a hint: every hit is
// checked against the JWT it points to, and a miss falls back to a scan that repairs it, so stores
// edited by nsc keep working.
package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/redact"
)

// ErrNotFound is returned (wrapped) when an entity does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned (wrapped) when an entity to be created already exists.
var ErrExists = errors.New("already exists")

const (
	infoFile    = ".nsc"
	signetDir   = ".signet"
	accountsDir = "accounts"
	usersDir    = "users"
	jwtExt      = ".jwt"
)

// Info is the .nsc file at the root of an operator store.
type Info struct {
	Managed bool   `json:"managed"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// Stores is the folder that holds one store per operator.
type Stores struct {
	Dir string
	// Hook, when set, is given to every store opened or created through Stores.
	Hook Hook
}

// Operators lists the operator stores by name, sorted.
func (s Stores) Operators() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list operators in %q: %w", s.Dir, err)
	}
	var names []string
	for _, e := range entries {
		// Dot folders are Create's half-made stores (left by a crash), never operators.
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && exists(filepath.Join(s.Dir, e.Name(), infoFile)) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Open opens the store of the named operator.
func (s Stores) Open(name string) (*Store, error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("operator name: %w", err)
	}
	st, err := OpenDir(filepath.Join(s.Dir, name))
	if err != nil {
		return nil, err
	}
	st.Hook = s.Hook
	return st, nil
}

// OpenDir opens the operator store rooted at dir.
func OpenDir(dir string) (*Store, error) {
	data, err := os.ReadFile(filepath.Join(dir, infoFile))
	if isNotExist(err) {
		return nil, fmt.Errorf("operator store %q: %w", dir, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, infoFile), err)
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, infoFile), err)
	}
	if info.Name == "" {
		info.Name = filepath.Base(dir)
	}
	return &Store{Dir: dir, Info: info}, nil
}

// Create makes a new operator store holding token. It fails with ErrExists if a store of that
// name exists. The store appears whole or not at all: it is built in a temporary folder and renamed.
func (s Stores) Create(name, token string, managed bool) (*Store, error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("operator name: %w", err)
	}
	final := filepath.Join(s.Dir, name)
	if exists(final) {
		return nil, fmt.Errorf("operator %q: %w", name, ErrExists)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create stores folder %q: %w", s.Dir, err)
	}
	tmp, err := os.MkdirTemp(s.Dir, ".new-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("create operator store: %w", err)
	}
	defer os.RemoveAll(tmp)
	info := Info{Managed: managed, Name: name, Kind: "operator", Version: "1"}
	data, _ := json.Marshal(info)
	if err := WriteFileAtomic(filepath.Join(tmp, infoFile), data, 0o644, 0o755); err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(tmp, name+jwtExt), []byte(token), 0o644, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(tmp, accountsDir), 0o755); err != nil {
		return nil, fmt.Errorf("create operator store: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create operator store: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		if exists(final) {
			return nil, fmt.Errorf("operator %q: %w", name, ErrExists)
		}
		return nil, fmt.Errorf("create operator store %q: %w", final, err)
	}
	st := &Store{Dir: final, Info: info, Hook: s.Hook}
	if err := st.changed(Change{Kind: KindOperator, Name: name, After: token}); err != nil {
		return st, err
	}
	return st, nil
}

// Store is one operator's store.
type Store struct {
	Dir  string
	Info Info
	// Hook, when set, is told of every JWT written or deleted (see Hook).
	Hook Hook
}

// Name is the operator's name.
func (s *Store) Name() string { return s.Info.Name }

// Lock takes the store's exclusive lock, waiting for other signet processes; call the returned
// function to release it. Every mutation holds it so that parallel processes lose nothing.
func (s *Store) Lock() (func(), error) {
	dir := filepath.Join(s.Dir, signetDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create lock folder: %w", err)
	}
	l := flock.New(filepath.Join(dir, "lock"))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("lock store %q: %w", s.Dir, err)
	}
	s.sweepIfDue()
	var once sync.Once
	return func() { once.Do(func() { _ = l.Unlock() }) }, nil
}

// Temporary files older than staleTempAge are left from a crash; the store is swept of them
// under its lock at most once per sweepEvery, so that a command stays O(1) in the store's size.
const (
	staleTempAge = time.Minute
	sweepEvery   = time.Hour
	sweptFile    = "swept"
)

// sweepIfDue removes stale temporary files from the store when the last sweep is old enough.
// The caller holds the lock. A failed sweep is tried again next time; it never fails a command.
func (s *Store) sweepIfDue() {
	SweepTempIfDue(s.Dir, filepath.Join(s.Dir, signetDir, sweptFile), time.Now())
}

// SweepTempUnder removes the stale temporary files under dir (the keystore the store's commands
// write seeds and creds to: a write cut short leaves a copy behind), at most once an hour for
// each folder. The caller holds the lock. It never fails a command.
func (s *Store) SweepTempUnder(dir string) {
	if dir == "" {
		return
	}
	sum := sha256.Sum256([]byte(dir))
	SweepTempIfDue(dir, filepath.Join(s.Dir, signetDir, sweptFile+"-"+hex.EncodeToString(sum[:6])), time.Now())
}

// SetManaged records whether the operator is managed (its key is held elsewhere).
func (s *Store) SetManaged(managed bool) error {
	s.Info.Managed = managed
	data, _ := json.Marshal(s.Info)
	return WriteFileAtomic(filepath.Join(s.Dir, infoFile), data, 0o644, 0o755)
}

// OperatorPath is the operator JWT's file.
func (s *Store) OperatorPath() string { return filepath.Join(s.Dir, s.Info.Name+jwtExt) }

// OperatorJWT reads the operator JWT.
func (s *Store) OperatorJWT() (string, error) {
	return readToken(s.OperatorPath(), "operator "+s.Info.Name)
}

// Operator reads and decodes the operator JWT.
func (s *Store) Operator() (*jwt.OperatorClaims, string, error) {
	tok, err := s.OperatorJWT()
	if err != nil {
		return nil, "", err
	}
	oc, err := jwt.DecodeOperatorClaims(tok)
	if err != nil {
		return nil, "", fmt.Errorf("decode operator %q: %w", s.Info.Name, err)
	}
	return oc, tok, nil
}

// SaveOperator replaces the operator JWT.
func (s *Store) SaveOperator(token string) error {
	before := s.before(s.OperatorPath())
	if err := WriteFileAtomic(s.OperatorPath(), []byte(token), 0o644, 0o755); err != nil {
		return err
	}
	return s.changed(Change{Kind: KindOperator, Name: s.Info.Name, Before: before, After: token})
}

// AccountDir is the folder of the named account.
func (s *Store) AccountDir(name string) string { return filepath.Join(s.Dir, accountsDir, name) }

// AccountPath is the JWT file of the named account.
func (s *Store) AccountPath(name string) string {
	return filepath.Join(s.AccountDir(name), name+jwtExt)
}

// UserPath is the JWT file of the named user.
func (s *Store) UserPath(account, user string) string {
	return filepath.Join(s.AccountDir(account), usersDir, user+jwtExt)
}

// Accounts lists the account names, sorted.
func (s *Store) Accounts() ([]string, error) {
	dir := filepath.Join(s.Dir, accountsDir)
	entries, err := os.ReadDir(dir)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && exists(filepath.Join(dir, e.Name(), e.Name()+jwtExt)) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// HasAccount reports whether the named account exists.
func (s *Store) HasAccount(name string) bool {
	return ValidateName(name) == nil && exists(s.AccountPath(name))
}

// AccountJWT reads the named account's JWT.
func (s *Store) AccountJWT(name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", fmt.Errorf("account name: %w", err)
	}
	return readToken(s.AccountPath(name), "account "+name)
}

// Account reads and decodes the named account.
func (s *Store) Account(name string) (*jwt.AccountClaims, string, error) {
	tok, err := s.AccountJWT(name)
	if err != nil {
		return nil, "", err
	}
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		return nil, "", fmt.Errorf("decode account %q: %w", name, err)
	}
	return ac, tok, nil
}

// SaveAccount writes the named account's JWT (creating it when new) and indexes its key.
func (s *Store) SaveAccount(name, token string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("account name: %w", err)
	}
	sub, err := PeekSubject(token)
	if err != nil {
		return fmt.Errorf("save account %q: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Join(s.AccountDir(name), usersDir), 0o755); err != nil {
		return fmt.Errorf("create account folder: %w", err)
	}
	prev := s.before(s.AccountPath(name))
	if err := WriteFileAtomic(s.AccountPath(name), []byte(token), 0o644, 0o755); err != nil {
		return err
	}
	if err := s.index(sub, name); err != nil {
		return err
	}
	return s.changed(Change{Kind: KindAccount, Account: name, Name: name, Before: prev, After: token})
}

// DeleteAccount removes the named account with all its users.
func (s *Store) DeleteAccount(name string) error {
	if !s.HasAccount(name) {
		return fmt.Errorf("account %q: %w", name, ErrNotFound)
	}
	prev := mustRead(s.AccountPath(name))
	sub, _ := PeekSubject(prev)
	// Move the folder aside first so the account vanishes in one step.
	tmp := filepath.Join(s.Dir, signetDir, "deleted-"+name)
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
		return fmt.Errorf("delete account %q: %w", name, err)
	}
	if err := os.Rename(s.AccountDir(name), tmp); err != nil {
		return fmt.Errorf("delete account %q: %w", name, err)
	}
	if sub != "" {
		s.unindex(sub)
	}
	_ = os.Remove(s.usersJournalPath(name))
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	return s.changed(Change{Kind: KindAccount, Account: name, Name: name, Before: strings.TrimSpace(prev)})
}

// FindAccount resolves an account by name or public key and returns its name.
func (s *Store) FindAccount(nameOrKey string) (string, error) {
	if nkeys.IsValidPublicAccountKey(nameOrKey) {
		if name, ok := s.lookup(nameOrKey); ok && s.HasAccount(name) && holds(s.AccountPath(name), nameOrKey) {
			return name, nil
		}
		names, err := s.Accounts()
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if holds(s.AccountPath(n), nameOrKey) {
				_ = s.index(nameOrKey, n)
				return n, nil
			}
		}
		if s.HasAccount(nameOrKey) {
			return nameOrKey, nil
		}
		return "", fmt.Errorf("account %q: %w in operator %q", redact.Seeds(nameOrKey), ErrNotFound, s.Info.Name)
	}
	if err := ValidateName(nameOrKey); err != nil {
		return "", fmt.Errorf("account name: %w", err)
	}
	if !s.HasAccount(nameOrKey) {
		return "", fmt.Errorf("account %q: %w in operator %q", redact.Seeds(nameOrKey), ErrNotFound, s.Info.Name)
	}
	return nameOrKey, nil
}

// HasUser reports whether the named user exists in the account.
func (s *Store) HasUser(account, name string) bool {
	return ValidateName(account) == nil && ValidateName(name) == nil && exists(s.UserPath(account, name))
}

// UserNames lists the user names of an account, sorted, without reading any JWT.
func (s *Store) UserNames(account string) ([]string, error) {
	dir := filepath.Join(s.AccountDir(account), usersDir)
	entries, err := os.ReadDir(dir)
	if isNotExist(err) {
		if !s.HasAccount(account) {
			return nil, fmt.Errorf("account %q: %w", account, ErrNotFound)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list users of %q: %w", account, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, jwtExt) && !strings.HasPrefix(n, ".") {
			names = append(names, strings.TrimSuffix(n, jwtExt))
		}
	}
	sort.Strings(names)
	return names, nil
}

// NamedKey is an entity's name and public key.
type NamedKey struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
}

// ListUsers lists the users of an account with their public keys. It reads each JWT's subject
// without verifying signatures (that is validate's job), in parallel, and keeps what it read in
// a journal (see userlist.go) so that the next listing of a very large account reads one file.
func (s *Store) ListUsers(account string) ([]NamedKey, error) {
	stamp := s.usersStamp(account)
	names, err := s.UserNames(account)
	if err != nil {
		return nil, err
	}
	out := make([]NamedKey, len(names))
	todo := make([]int, 0, len(names))
	known, current := s.readUsersJournal(account)
	for i, n := range names {
		out[i].Name = n
		if pub, ok := known[n]; ok && current {
			out[i].PublicKey = pub
			continue
		}
		todo = append(todo, i)
	}
	if bad := s.peekUsers(account, out, todo); len(bad) > 0 {
		good := out[:0:0]
		for _, u := range out {
			if u.PublicKey != "" {
				good = append(good, u)
			}
		}
		return good, &UnreadableUsersError{Account: account, Users: bad}
	}
	if len(todo) > 0 && stamp != "" && stamp == s.usersStamp(account) {
		_ = s.writeUsersJournal(account, stamp, out)
	}
	return out, nil
}

// peekUsers fills in the public keys of out[i] for i in todo, reading the JWTs in parallel. It
// returns the users whose JWT could not be read, sorted by name; their key stays empty.
func (s *Store) peekUsers(account string, out []NamedKey, todo []int) []UnreadableUser {
	workers := min(runtime.GOMAXPROCS(0)*2, len(todo))
	var wg sync.WaitGroup
	var bad []UnreadableUser
	var mu sync.Mutex
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				path := s.UserPath(account, out[i].Name)
				tok, err := os.ReadFile(path)
				var sub string
				if err == nil {
					sub, err = PeekSubject(string(tok))
				}
				if err != nil {
					mu.Lock()
					bad = append(bad, UnreadableUser{Name: out[i].Name, Path: path, Err: err})
					mu.Unlock()
				}
				out[i].PublicKey = sub
			}
		}()
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	sort.Slice(bad, func(i, j int) bool { return bad[i].Name < bad[j].Name })
	return bad
}

// UnreadableUser is a user whose JWT file could not be read or is not a JWT.
type UnreadableUser struct {
	Name, Path string
	Err        error
}

// UnreadableUsersError says which users of an account could not be read; the listing that
// returns it still holds every other user.
type UnreadableUsersError struct {
	Account string
	Users   []UnreadableUser
}

func (e *UnreadableUsersError) Error() string {
	if len(e.Users) == 1 {
		u := e.Users[0]
		return fmt.Sprintf("read user %q of account %q (%s): %v", u.Name, e.Account, u.Path, u.Err)
	}
	names := make([]string, len(e.Users))
	for i, u := range e.Users {
		names[i] = strconv.Quote(u.Name)
	}
	return fmt.Sprintf("%s of account %q cannot be read: %s (run `signet validate`)", plural.N(len(e.Users), "user"), e.Account, strings.Join(names, ", "))
}

// UserJWT reads a user's JWT.
func (s *Store) UserJWT(account, name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", fmt.Errorf("user name: %w", err)
	}
	return readToken(s.UserPath(account, name), fmt.Sprintf("user %q in account", name)+" "+account)
}

// User reads and decodes a user.
func (s *Store) User(account, name string) (*jwt.UserClaims, string, error) {
	tok, err := s.UserJWT(account, name)
	if err != nil {
		return nil, "", err
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return nil, "", fmt.Errorf("decode user %q: %w", name, err)
	}
	return uc, tok, nil
}

// SaveUser writes a user's JWT and indexes its key.
func (s *Store) SaveUser(account, name, token string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("user name: %w", err)
	}
	if !s.HasAccount(account) {
		return fmt.Errorf("account %q: %w", account, ErrNotFound)
	}
	sub, err := PeekSubject(token)
	if err != nil {
		return fmt.Errorf("save user %q: %w", name, err)
	}
	before := s.usersStamp(account)
	prev := s.before(s.UserPath(account, name))
	if err := WriteFileAtomic(s.UserPath(account, name), []byte(token), 0o644, 0o755); err != nil {
		return err
	}
	s.journalUserChange(account, before, "+"+name+" "+sub)
	if err := s.index(sub, account+"/"+name); err != nil {
		return err
	}
	return s.changed(Change{Kind: KindUser, Account: account, Name: name, Before: prev, After: token})
}

// DeleteUser removes a user's JWT.
func (s *Store) DeleteUser(account, name string) error {
	if !s.HasUser(account, name) {
		return fmt.Errorf("user %q in account %q: %w", name, account, ErrNotFound)
	}
	p := s.UserPath(account, name)
	prev := mustRead(p)
	sub, _ := PeekSubject(prev)
	before := s.usersStamp(account)
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("delete user %q: %w", name, err)
	}
	s.journalUserChange(account, before, "-"+name)
	if sub != "" {
		s.unindex(sub)
	}
	return s.changed(Change{Kind: KindUser, Account: account, Name: name, Before: strings.TrimSpace(prev)})
}

// FindUser resolves a user of an account by name or public key and returns its name.
func (s *Store) FindUser(account, nameOrKey string) (string, error) {
	if nkeys.IsValidPublicUserKey(nameOrKey) {
		if a, u, ok := s.indexedUser(nameOrKey); ok && a == account {
			return u, nil
		}
		names, err := s.UserNames(account)
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if holds(s.UserPath(account, n), nameOrKey) {
				_ = s.index(nameOrKey, account+"/"+n)
				return n, nil
			}
		}
		if s.HasUser(account, nameOrKey) {
			return nameOrKey, nil
		}
		return "", fmt.Errorf("user %q in account %q: %w", redact.Seeds(nameOrKey), account, ErrNotFound)
	}
	if err := ValidateName(nameOrKey); err != nil {
		return "", fmt.Errorf("user name: %w", err)
	}
	if !s.HasUser(account, nameOrKey) {
		return "", fmt.Errorf("user %q in account %q: %w", redact.Seeds(nameOrKey), account, ErrNotFound)
	}
	return nameOrKey, nil
}

// FindUserAnyAccount resolves a user public key to its account and name through the index.
func (s *Store) FindUserAnyAccount(pub string) (account, name string, err error) {
	if a, u, ok := s.indexedUser(pub); ok {
		return a, u, nil
	}
	accounts, err := s.Accounts()
	if err != nil {
		return "", "", err
	}
	for _, a := range accounts {
		if u, err := s.FindUser(a, pub); err == nil {
			return a, u, nil
		}
	}
	return "", "", fmt.Errorf("user %q: %w", pub, ErrNotFound)
}

func (s *Store) indexPath(pub string) string {
	return filepath.Join(s.Dir, signetDir, "keys", pub)
}

func (s *Store) index(pub, ref string) error {
	if pub == "" {
		return nil
	}
	return writeFileAtomic(s.indexPath(pub), []byte(ref), 0o644, 0o755, false)
}

func (s *Store) unindex(pub string) { _ = os.Remove(s.indexPath(pub)) }

// indexedUser returns the account and name the index records for a user key, when the JWT there
// still has that key.
func (s *Store) indexedUser(pub string) (account, name string, ok bool) {
	ref, ok := s.lookup(pub)
	if !ok {
		return "", "", false
	}
	a, u, found := strings.Cut(ref, "/")
	if !found || !s.HasUser(a, u) || !holds(s.UserPath(a, u), pub) {
		return "", "", false
	}
	return a, u, true
}

// holds reports whether the JWT file at path has subject pub.
func holds(path, pub string) bool {
	sub, err := PeekSubject(mustRead(path))
	return err == nil && sub == pub
}

func (s *Store) lookup(pub string) (string, bool) {
	data, err := os.ReadFile(s.indexPath(pub))
	if err != nil {
		return "", false
	}
	return string(data), true
}

func readToken(path, what string) (string, error) {
	data, err := os.ReadFile(path)
	if isNotExist(err) {
		return "", fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	return strings.TrimSpace(string(data)), nil
}

func mustRead(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// PeekSubject returns a JWT's subject without verifying it. It is for indexing and listing only;
// anything that trusts a JWT decodes it with jwt/v2.
func PeekSubject(token string) (string, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("not a JWT: %w", err)
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", fmt.Errorf("not a JWT: %w", err)
	}
	if c.Sub == "" {
		return "", errors.New("JWT has no subject")
	}
	return c.Sub, nil
}

// ValidateName checks an entity name: it becomes a file name, so it may not be empty, start with a
// dot, or hold path separators or control characters.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case len(name) > 200:
		return fmt.Errorf("name %q is longer than 200 characters", name[:20]+"...")
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("name %q may not start with a dot", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("name %q may not contain a slash", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("name %q may not contain control characters", name)
		}
	}
	return nil
}

// autoPushFile marks an operator whose account edits are pushed to its account server by
// themselves. It is signet's own setting, kept under .signet where nsc never looks.
const autoPushFile = "auto-push"

// AutoPush reports whether every saved account JWT of this (local) operator is pushed to its
// account server by itself. Managed operators always push; others only when this is set.
func (s *Store) AutoPush() bool {
	_, err := os.Stat(filepath.Join(s.Dir, signetDir, autoPushFile))
	return err == nil
}

// SetAutoPush turns the automatic push of a local operator on or off.
func (s *Store) SetAutoPush(on bool) error {
	p := filepath.Join(s.Dir, signetDir, autoPushFile)
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("turn automatic push off: %w", err)
		}
		return nil
	}
	if err := WriteFileAtomic(p, []byte("on\n"), 0o644, 0o755); err != nil {
		return fmt.Errorf("turn automatic push on: %w", err)
	}
	return nil
}
