package ops

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// RotateSigningKeyRequest names a signing key to replace.
type RotateSigningKeyRequest struct {
	// Account is the account (name or public key) whose signing key rotates; Operator rotates
	// an operator signing key instead, re-issuing the accounts it signed.
	Account  string
	Operator bool
	Old      string // the key to retire: public key (or role name of an account's scoped key)
	// New is the replacement: public key in the keystore, seed, seed file, or "generate" ("" is
	// "generate"). A rotation in progress is finished with New empty or naming its new key.
	New    string
	Signer string // account rotation: operator key that re-signs the account; "" lets Signer choose
}

// Reissued is one child that a rotation re-signed with the new key: a user (account rotation,
// with its creds file, or a warning when it could not be written) or an account.
type Reissued struct {
	Name      string
	CredsPath string
	Warning   string
}

// RotateSigningKeyResult is a finished rotation.
type RotateSigningKeyResult struct {
	Account  string // the account's name; "" for an operator rotation
	Operator string // the operator's name
	Old, New string
	// KeyAdded: this run added the new key to the parent (a resumed run may find it there).
	KeyAdded bool
	Reissued []Reissued // users (sorted by name) or accounts, re-signed with New
	// KeptRevoked are the users that were revoked when re-issued and stay revoked.
	KeptRevoked []string
}

// RotateSigningKey replaces a signing key: the new key joins the parent (an account key takes
// the old key's scope and role), every child the old key signed is re-signed with the new one
// (users' creds rewritten when their seeds are at hand, revoked users kept revoked), then the
// old key is removed. A journal under the store makes an interrupted rotation resumable: run it
// again to finish; no JWT is ever left signed by a key its parent no longer lists. It takes the
// store's lock; the caller pushes the account (or the re-issued accounts). A bad request
// changes nothing. A rotation stopped half-way returns, with its error, the result so far: the
// children already re-issued.
func RotateSigningKey(s *store.Store, ks keystore.KeyStore, req RotateSigningKeyRequest) (*RotateSigningKeyResult, error) {
	return withLock(s, ks, func(l *Locked) (*RotateSigningKeyResult, error) { return l.RotateSigningKey(req) })
}

// RotateSigningKey is RotateSigningKey within the caller's locked step.
func (l *Locked) RotateSigningKey(req RotateSigningKeyRequest) (*RotateSigningKeyResult, error) {
	if req.Operator {
		return l.rotateOperatorKey(req)
	}
	return l.rotateAccountKey(req)
}

// rotation is the journal of a rotation in progress, kept under <op>/.signet/rotations so that
// an interrupted run can be finished by running the command again. The order of the work makes
// every intermediate state safe: the new key is added to the parent before any child is
// re-signed with it, and the old key is removed only after no child is signed by it.
type rotation struct {
	Kind    string `json:"kind"` // "account" or "operator"
	Account string `json:"account,omitempty"`
	Old     string `json:"old"`
	New     string `json:"new"`
	// Revoked lists users that were revoked when they were re-issued: the re-issued JWT is
	// newer than the revocation, so the revocation is moved up to it when the old key goes.
	Revoked []string `json:"revoked,omitempty"`
}

func journalPath(s *store.Store, old string) string {
	return filepath.Join(s.Dir, ".signet", "rotations", old+".json")
}

func loadJournal(s *store.Store, old string) (*rotation, error) {
	data, err := os.ReadFile(journalPath(s, old))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read rotation journal: %w", err)
	}
	var r rotation
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("rotation journal %s is damaged (%w): remove it and run the rotation again with --new", journalPath(s, old), err)
	}
	return &r, nil
}

// journalByNew finds the journal of an account rotation whose new key is pub.
func journalByNew(s *store.Store, account, pub string) (*rotation, error) {
	dir := filepath.Dir(journalPath(s, pub))
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read rotation journals: %w", err)
	}
	for _, en := range entries {
		old, ok := strings.CutSuffix(en.Name(), ".json")
		if !ok {
			continue
		}
		j, err := loadJournal(s, old)
		if err != nil {
			return nil, err
		}
		if j != nil && j.Kind == "account" && j.Account == account && j.New == pub {
			return j, nil
		}
	}
	return nil, nil
}

func saveJournal(s *store.Store, r *rotation) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode rotation journal: %w", err)
	}
	return store.WriteFileAtomic(journalPath(s, r.Old), data, 0o600, 0o700)
}

func removeJournal(s *store.Store, old string) error {
	err := os.Remove(journalPath(s, old))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove rotation journal: %w", err)
	}
	return nil
}

// newKey resolves --new for a rotation: a key of the right kind whose seed is at hand (it signs
// the children). It returns the key pair to store when the seed is new to the keystore.
func newKey(ks keystore.KeyStore, v string, prefix nkeys.PrefixByte) (nkeys.KeyPair, string, error) {
	if v == "" || v == "generate" {
		kp, err := nkeys.CreatePair(prefix)
		if err != nil {
			return nil, "", fmt.Errorf("generate signing key: %w", err)
		}
		pub, _ := kp.PublicKey()
		return kp, pub, nil
	}
	kp, err := ks.ResolveKey(v)
	if err != nil {
		return nil, "", fmt.Errorf("--new: %w", err)
	}
	pub, _ := kp.PublicKey()
	if nkeys.Prefix(pub) != prefix {
		return nil, "", fmt.Errorf("--new: %s is not an %s key", pub, prefixKind(prefix))
	}
	if _, err := kp.Seed(); err != nil {
		return nil, "", fmt.Errorf("--new: the keystore has no seed for %s, and the rotation signs with it: pass its seed or seed file", pub)
	}
	if ks.Has(pub) {
		return nil, pub, nil
	}
	return kp, pub, nil
}

func prefixKind(p nkeys.PrefixByte) string {
	if p == nkeys.PrefixByteOperator {
		return "operator"
	}
	return "account"
}

// startRotation finds or starts the journal of a rotation of old; newSpec is the request's New. onParent reports whether a key
// is on the parent; prefix is the kind of key. A new key is stored before the journal names it.
func startRotation(s *store.Store, ks keystore.KeyStore, newSpec string, r rotation, onParent func(string) bool, prefix nkeys.PrefixByte) (*rotation, error) {
	j, err := loadJournal(s, r.Old)
	if err != nil {
		return nil, err
	}
	if j != nil {
		if newSpec != "" && newSpec != "generate" {
			_, pub, err := newKey(ks, newSpec, prefix)
			if err != nil {
				return nil, err
			}
			if pub != j.New {
				return nil, fmt.Errorf("a rotation of %s to %s is in progress: run the command again without --new (or with --new %s) to finish it", j.Old, j.New, j.New)
			}
		}
		if !onParent(j.New) && !onParent(j.Old) {
			return nil, fmt.Errorf("rotation journal %s names keys %s and %s, neither of which is on the %s any more: remove the journal and start again", journalPath(s, r.Old), j.Old, j.New, r.Kind)
		}
		return j, nil
	}
	if !onParent(r.Old) {
		return nil, fmt.Errorf("%s is not a signing key of the %s: nothing to rotate", r.Old, r.Kind)
	}
	kp, pub, err := newKey(ks, newSpec, prefix)
	if err != nil {
		return nil, err
	}
	if pub == r.Old {
		return nil, errors.New("--new is the key being retired")
	}
	if onParent(pub) {
		return nil, fmt.Errorf("--new %s is already a signing key of the %s: give a fresh key or 'generate'", pub, r.Kind)
	}
	if kp != nil {
		if _, err := ks.Store(kp); err != nil {
			return nil, err
		}
	}
	r.New = pub
	if err := saveJournal(s, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (l *Locked) rotateAccountKey(req RotateSigningKeyRequest) (*RotateSigningKeyResult, error) {
	s, ks := l.Store, l.KeyStore
	if req.Old == "" {
		return nil, errors.New("--old is required: the signing key to retire")
	}
	name, err := s.FindAccount(req.Account)
	if err != nil {
		return nil, err
	}
	oc, ac, err := issuers(s, name)
	if err != nil {
		return nil, err
	}
	old := req.Old
	if k := RoleKey(ac, old); k != "" {
		old = k
		// A run that removed the old key but stopped before clearing its journal has moved
		// the role to the new key: the role then still names the rotation in progress.
		if j, err := journalByNew(s, name, k); err != nil {
			return nil, err
		} else if j != nil {
			old = j.Old
		}
	}
	if !nkeys.IsValidPublicAccountKey(old) {
		return nil, fmt.Errorf("--old %q is not an account public key or a role of account %q", req.Old, name)
	}
	if old == ac.Subject {
		return nil, fmt.Errorf("--old %s is the identity key of account %q, not a signing key", old, name)
	}
	j, err := startRotation(s, ks, req.New, rotation{Kind: "account", Account: name, Old: old},
		func(k string) bool { return ac.SigningKeys.Contains(k) }, nkeys.PrefixByteAccount)
	if err != nil {
		return nil, err
	}
	res := &RotateSigningKeyResult{Account: name, Operator: s.Name(), Old: j.Old, New: j.New}
	saveAccount := func() error {
		token, err := SignAccount(s, ks, oc, ac, nil, req.Signer)
		if err != nil {
			return err
		}
		return s.SaveAccount(name, token)
	}

	// 1. The new key joins the account with the old key's scope. The role stays on the old key
	// until it goes, so that -K <role> and a rerun naming the role keep meaning the old key.
	if !ac.SigningKeys.Contains(j.New) {
		if sc, ok := ac.SigningKeys.GetScope(j.Old); ok && sc != nil {
			us, ok := sc.(*jwt.UserScope)
			if !ok {
				return nil, fmt.Errorf("signing key %s has a scope of type %T that signet cannot copy", j.Old, sc)
			}
			moved := *us
			moved.Key, moved.Role = j.New, ""
			ac.SigningKeys.AddScopedSigner(&moved)
		} else {
			ac.SigningKeys.Add(j.New)
		}
		if err := saveAccount(); err != nil {
			return nil, err
		}
		res.KeyAdded = true
	}

	// 2. Every user the old key signed is re-signed with the new one.
	users, err := s.ListUsers(name)
	if err != nil {
		return res, err
	}
	if res.Reissued, err = reissueUsers(s, ks, name, ac, j, users); err != nil {
		return res, err
	}

	// 3. No user is signed by the old key any more: remove it. Users that were revoked stay
	// revoked: their revocation moves up to the re-issued JWT.
	if sc, ok := ac.SigningKeys.GetScope(j.Old); ok && sc != nil {
		oldScope, okOld := sc.(*jwt.UserScope)
		nsc, _ := ac.SigningKeys.GetScope(j.New)
		newScope, okNew := nsc.(*jwt.UserScope)
		if okOld && okNew && oldScope.Role != "" {
			newScope.Role = oldScope.Role
		}
	}
	ac.SigningKeys.Remove(j.Old)
	for _, pub := range j.Revoked {
		un, err := s.FindUser(name, pub)
		if err != nil {
			continue // deleted since: nothing to keep revoked
		}
		uc, _, err := s.User(name, un)
		if err != nil {
			return nil, err
		}
		ac.RevokeAt(pub, time.Unix(uc.IssuedAt, 0))
		res.KeptRevoked = append(res.KeptRevoked, un)
	}
	if err := saveAccount(); err != nil {
		return nil, err
	}
	if err := removeJournal(s, j.Old); err != nil {
		return nil, err
	}
	return res, nil
}

// rotateWorkers bounds the users re-signed at once: the work is mostly file writes and
// fsyncs, which overlap well.
const rotateWorkers = 8

// reissueUsers re-signs, with j.New, every user of the account that j.Old signed, and rewrites
// their creds files when the seeds are at hand. Revoked users are recorded in the journal
// before they are re-issued. It returns the users re-issued (sorted by name) even on error.
func reissueUsers(s *store.Store, ks keystore.KeyStore, account string, ac *jwt.AccountClaims, j *rotation, users []store.NamedKey) ([]Reissued, error) {
	sc, ok := ac.SigningKeys.GetScope(j.New)
	scoped := ok && sc != nil
	var (
		mu      sync.Mutex // guards out, errs and the journal
		out     []Reissued
		errs    []error
		work    = make(chan store.NamedKey)
		wg      sync.WaitGroup
		failed  = func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
		workers = min(rotateWorkers, max(1, len(users)))
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				uc, _, err := s.User(account, u.Name)
				if err != nil {
					failed(err)
					continue
				}
				if uc.Issuer != j.Old {
					continue
				}
				if ac.IsClaimRevoked(uc) {
					mu.Lock()
					if !slices.Contains(j.Revoked, uc.Subject) {
						j.Revoked = append(j.Revoked, uc.Subject)
						err = saveJournal(s, j)
					}
					mu.Unlock()
					if err != nil {
						failed(err)
						continue
					}
				}
				if scoped {
					// A scoped user's JWT holds zeroed limits; reset them to the defaults a new
					// user has so the signer does not mistake them for permissions of its own.
					uc.UserPermissionLimits = jwt.NewUserClaims(uc.Subject).UserPermissionLimits
				}
				token, err := SignUser(ks, account, ac, uc, j.New, false) // j.New is a signing key: strict usage cannot refuse it
				if err != nil {
					failed(fmt.Errorf("re-sign user %q: %w", u.Name, err))
					continue
				}
				if err := s.SaveUser(account, u.Name, token); err != nil {
					failed(err)
					continue
				}
				r := writeCreds(s, ks, account, u.Name, uc.Subject, token)
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		}()
	}
	for _, u := range users {
		work <- u
	}
	close(work)
	wg.Wait()
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	if len(errs) > 0 {
		return out, fmt.Errorf("rotation stopped with the old key still on the account; fix the cause and run the command again to finish: %w", errors.Join(errs...))
	}
	return out, nil
}

// writeCreds regenerates a re-issued user's creds file when its seed is in the keystore.
func writeCreds(s *store.Store, ks keystore.KeyStore, account, user, pub, token string) Reissued {
	r := Reissued{Name: user}
	kp, err := ks.Get(pub)
	if err != nil {
		r.Warning = fmt.Sprintf("user %q: its seed is not in the keystore, so no creds file was written; hand the user its new JWT (%s)", user, s.UserPath(account, user))
		return r
	}
	seed, _ := kp.Seed()
	if r.CredsPath, err = ks.WriteCreds(s.Name(), account, user, token, seed); err != nil {
		r.Warning = fmt.Sprintf("user %q: write creds: %v", user, err)
	}
	return r
}

func (l *Locked) rotateOperatorKey(req RotateSigningKeyRequest) (*RotateSigningKeyResult, error) {
	s, ks := l.Store, l.KeyStore
	if req.Old == "" {
		return nil, errors.New("--old is required: the operator signing key to retire")
	}
	if !nkeys.IsValidPublicOperatorKey(req.Old) {
		return nil, fmt.Errorf("--old %q is not an operator public key", req.Old)
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	if s.Info.Managed {
		return nil, fmt.Errorf("operator %q is managed: its signing keys belong to the account server", s.Name())
	}
	if req.Old == oc.Subject {
		return nil, fmt.Errorf("--old %s is the operator's identity key, not a signing key", req.Old)
	}
	j, err := startRotation(s, ks, req.New, rotation{Kind: "operator", Old: req.Old},
		func(k string) bool { return slices.Contains(oc.SigningKeys, k) }, nkeys.PrefixByteOperator)
	if err != nil {
		return nil, err
	}
	res := &RotateSigningKeyResult{Operator: s.Name(), Old: j.Old, New: j.New}
	if !slices.Contains(oc.SigningKeys, j.New) {
		oc.SigningKeys.Add(j.New)
		if _, err := SaveOperatorClaims(s, ks, oc); err != nil {
			return nil, err
		}
		res.KeyAdded = true
	}
	names, err := s.Accounts()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		ac, _, err := s.Account(n)
		if err != nil {
			return nil, err
		}
		if ac.Issuer != j.Old {
			continue
		}
		token, err := SignAccount(s, ks, oc, ac, nil, j.New)
		if err != nil {
			return res, fmt.Errorf("re-sign account %q: %w (run the command again to finish)", n, err)
		}
		if err := s.SaveAccount(n, token); err != nil {
			return res, fmt.Errorf("save account %q: %w (run the command again to finish)", n, err)
		}
		res.Reissued = append(res.Reissued, Reissued{Name: n})
	}
	oc.SigningKeys = slices.DeleteFunc(oc.SigningKeys, func(k string) bool { return k == j.Old })
	if _, err := SaveOperatorClaims(s, ks, oc); err != nil {
		return nil, err
	}
	if err := removeJournal(s, j.Old); err != nil {
		return nil, err
	}
	return res, nil
}
