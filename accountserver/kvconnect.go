package accountserver

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/jwtstore"
)

// The KV bucket from outside a running server (signet kv): opened the way a serve configuration
// says, through the same connection code and the same verification (New, openKV), without
// listening or announcing; its history read; an account rolled back.

// ErrNoKVStore is returned when a configuration keeps its accounts elsewhere than in a KV bucket.
var ErrNoKVStore = errors.New("the configuration names no kv store: add store { kv { ... } } to it, or name the servers (--servers)")

// ErrMovedOn is returned by Rollback when another writer changed the account in the bucket
// after the rollback read its history.
var ErrMovedOn = errors.New("the account changed in the bucket meanwhile")

// OpenKVStore opens the KV bucket cfg configures, with the server's verification of what it
// reads, for maintenance: nothing listens and nothing is announced (running replicas announce
// what it writes). As serve does, it creates the bucket if it does not exist. Close it with
// Shutdown.
func OpenKVStore(cfg Config, logger *slog.Logger) (*Server, error) {
	if cfg.Store.KV == nil {
		return nil, ErrNoKVStore
	}
	cfg.Backend = nil
	// A command is not a replica waiting out a cluster restart: it says at once that the
	// bucket cannot be reached.
	kc := *cfg.Store.KV
	kc.FailFast = true
	cfg.Store.KV = &kc
	return New(cfg, logger)
}

// KV is the server's JetStream KV store, nil when it keeps its accounts elsewhere.
func (s *Server) KV() *jwtstore.KV {
	kv, _ := s.store.(*jwtstore.KV)
	return kv
}

// AccountRevision is one revision of an account kept in the bucket's history.
type AccountRevision struct {
	Revision uint64    `json:"revision"`
	Time     time.Time `json:"time"`
	Deleted  bool      `json:"deleted"`
	// IssuedAt is the JWT's iat (unix seconds); 0 for a deletion.
	IssuedAt int64 `json:"iat,omitempty"`
	// SHA256 is the hex sha256 of the JWT (what the account server's ETag carries).
	SHA256 string `json:"sha256,omitempty"`
	// Name is the account's name in the JWT.
	Name string `json:"name,omitempty"`
	// Trusted: the JWT is signed by the operator or one of its signing keys (a rollback
	// re-issues only such revisions).
	Trusted bool   `json:"trusted"`
	JWT     string `json:"jwt,omitempty"`
}

// History lists the revisions of account pub the bucket keeps, oldest first (the last one is
// current). jwtstore.ErrNotFound: the bucket never held the account, or keeps none of it.
func (s *Server) History(pub string) ([]AccountRevision, error) {
	kv := s.KV()
	if kv == nil {
		return nil, errors.New("history: the store is not a kv bucket (only a kv store keeps revisions)")
	}
	revs, err := kv.History(pub)
	if errors.Is(err, jwtstore.ErrNotFound) {
		return nil, fmt.Errorf("account %s is not in kv bucket %s: %w", pub, kv.Bucket(), err)
	}
	if err != nil {
		return nil, err
	}
	op := s.trust.Load().op
	out := make([]AccountRevision, 0, len(revs))
	for _, r := range revs {
		ar := AccountRevision{Revision: r.Revision, Time: r.Created, Deleted: r.Deleted}
		if !r.Deleted {
			e := jwtstore.NewEntry(r.JWT)
			ar.IssuedAt, ar.SHA256, ar.JWT = e.IssuedAt, hex.EncodeToString(e.Hash[:]), r.JWT
			if ac, err := VerifyAccountJWT(op, r.JWT, pub); err == nil {
				ar.Trusted, ar.Name = true, ac.Name
			} else if ac, err := jwt.DecodeAccountClaims(r.JWT); err == nil {
				ar.Name = ac.Name
			}
		}
		out = append(out, ar)
	}
	return out, nil
}

// SignFunc re-issues account claims: it signs ac with the operator's key or one of its signing
// keys, with an iat later than ac.IssuedAt, and returns the JWT.
type SignFunc func(ac *jwt.AccountClaims) (string, error)

// RollbackResult says what Rollback did.
type RollbackResult struct {
	Account string
	Name    string
	// Target is the revision whose claims are current again; Replaced the one that was current.
	Target, Replaced uint64
	// Revision is the account's new revision in the bucket (0 when nothing was written).
	Revision uint64
	IssuedAt int64
	// AlreadyCurrent: Target was the current revision; nothing was written.
	AlreadyCurrent bool
}

// Rollback makes the claims of revision target of account pub current again. The old JWT
// itself cannot be: its iat is older than the current one's, which every replica and
// nats-server refuse. So its claims are re-issued by sign with a later iat, verified like every
// JWT entering the store, and written with compare-and-set on the revision that was current
// when the history was read: if the bucket moved on meanwhile, nothing is written and the error
// is ErrMovedOn. Running replicas announce the change to the NATS servers.
func (s *Server) Rollback(pub string, target uint64, sign SignFunc) (RollbackResult, error) {
	res := RollbackResult{Account: pub, Target: target}
	hist, err := s.History(pub)
	if err != nil {
		return res, err
	}
	cur := hist[len(hist)-1]
	res.Replaced = cur.Revision
	var want *AccountRevision
	kept := make([]string, 0, len(hist))
	for i := range hist {
		kept = append(kept, fmt.Sprint(hist[i].Revision))
		if hist[i].Revision == target {
			want = &hist[i]
		}
	}
	switch {
	case want == nil:
		return res, fmt.Errorf("rollback: the bucket keeps no revision %d of account %s (it keeps %s: see `signet kv history`)", target, pub, strings.Join(kept, ", "))
	case want.Deleted:
		return res, fmt.Errorf("rollback: revision %d of account %s is its deletion, not a jwt to bring back", target, pub)
	case !want.Trusted:
		return res, fmt.Errorf("rollback: revision %d of account %s is not signed by the operator or one of its signing keys: not re-issuing it", target, pub)
	case target == cur.Revision:
		res.AlreadyCurrent, res.IssuedAt, res.Name = true, cur.IssuedAt, cur.Name
		return res, nil
	}
	ac, err := jwt.DecodeAccountClaims(want.JWT)
	if err != nil {
		return res, fmt.Errorf("rollback: revision %d: %w", target, err)
	}
	res.Name = ac.Name
	// The new iat must pass the current one's (a deletion has none).
	ac.IssuedAt = max(cur.IssuedAt, want.IssuedAt)
	token, err := sign(ac)
	if err != nil {
		return res, fmt.Errorf("rollback: re-issue revision %d: %w", target, err)
	}
	nc, err := VerifyAccountJWT(s.trust.Load().op, token, pub)
	if err != nil {
		return res, fmt.Errorf("rollback: the re-issued jwt: %w", err)
	}
	if nc.IssuedAt <= cur.IssuedAt {
		return res, fmt.Errorf("rollback: the re-issued jwt was issued at %d, not after the current one (%d)", nc.IssuedAt, cur.IssuedAt)
	}
	l := s.lockKey(pub)
	l.Lock()
	defer l.Unlock()
	err = s.commitUpdate(pub, token, cur.Revision, selfSigned{})
	if errors.Is(err, jwtstore.ErrConflict) {
		return res, fmt.Errorf("rollback of account %s: %w (it was at revision %d): nothing written; look at `signet kv history` again and decide anew", pub, ErrMovedOn, cur.Revision)
	}
	if err != nil {
		s.metrics.storeErrors.Inc()
		return res, fmt.Errorf("rollback: store: %w", err)
	}
	e, _ := s.store.Entry(pub)
	res.Revision, res.IssuedAt = e.Revision, nc.IssuedAt
	s.log.Info("rolled back account jwt", "account", pub, "name", ac.Name, "to", target, "revision", res.Revision)
	return res, nil
}

// Operator is the operator the server trusts.
func (s *Server) Operator() *jwt.OperatorClaims { return s.trust.Load().op }
