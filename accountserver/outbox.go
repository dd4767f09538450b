package accountserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/jwtstore"
)

// What signet serve keeps beside the JWTs, in the store's folder, so that a restart loses
// nothing it acknowledged:
//
//   - .outbox/<account>: the account changed and the change is not yet known to be announced
//     to NATS. Written in the same commit as the JWT, before the POST (or CLAIMS.UPDATE) is
//     answered; removed once a nats-server answered the announcement.
//   - .outbox/delete-<hash>: a delete request (the token) to forward to the NATS resolvers.
//   - .deletes/<hash>: a delete request that was honoured, until it expires (its deadline, in
//     unix seconds): a replay is refused even after a restart.
//   - .deleted/<account>: the account was deleted; the data is the latest iat it had (its
//     stored JWT's, or the delete request's when later). A JWT of the account issued then or
//     before is refused, so a copy of an old JWT cannot bring a deleted account back; a later
//     one can. The record stays (a later JWT outlives it anyway) and a later delete writes
//     over it.
//   - .selfsigned/<account>: signing mode: "<self> <stored>", the iat the account gave the
//     last JWT it signed itself and the sha256 of the JWT signet serve stored for it (re-signed,
//     with the server's time). While the stored JWT is still that one, the next self-signed JWT
//     is compared with the account's own last iat, not with the server's time of signing, so a
//     client whose clock runs behind the server's can still update the account; written in the
//     same commit as the JWT.
//
// <hash> is replayKey of the request.
const (
	outboxArea    = ".outbox"
	deletesArea   = ".deletes"
	deletedArea   = ".deleted"
	selfArea      = ".selfsigned"
	outboxDeleteP = "delete-"
)

// replayKey names a delete request in the replay guard and in record names: the sha256 of its
// claims as signed (the decoded payload). Not the jti alone: jwt's jti hashes the standard
// claims only, so two requests for different accounts signed in the same second share it. A
// token re-encoded differently (it decodes to the same claims) is the same request.
func replayKey(token string) string {
	payload := []byte(token)
	if parts := strings.Split(token, "."); len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			payload = raw
		}
	}
	h := sha256.Sum256(payload)
	return hex.EncodeToString(h[:])
}

// commitUpdate stores token for pub and, when NATS is configured, its outbox entry, in one
// durable commit. rev is the revision the decision to store it was made on (a shared store
// refuses the put if the account moved on). A shared store is its own outbox.
func (s *Server) commitUpdate(pub, token string, rev uint64, self selfSigned) error {
	b := jwtstore.Batch{Puts: []jwtstore.Put{{Pub: pub, JWT: token, Revision: rev}}}
	if s.notifying && s.announcer == nil {
		b.Records = []jwtstore.Record{{Area: outboxArea, Name: pub}}
	}
	if self.self != 0 {
		data := strconv.FormatInt(self.self, 10) + " " + hashName(sha256.Sum256([]byte(self.stored)))
		b.Records = append(b.Records, jwtstore.Record{Area: selfArea, Name: pub, Data: []byte(data), Replace: true})
	}
	return s.durable.Commit(b)
}

// selfSigned pairs, in signing mode, the iat an account gave a JWT it signed itself (self) with
// the JWT stored for it after re-signing (stored). Zero: not a self-signed update.
type selfSigned struct {
	self   int64
	stored string
}

// hashName names a stored JWT in a record by the sha256 of its text (Entry.Hash), in hex.
func hashName(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }

// selfSignedBase is the iat a self-signed update of pub must pass, given the stored JWT (old):
// the account's own iat of its last self-signed JWT while the stored JWT is the very one made of
// it, or else (an operator-signed JWT came since, a replica's write lost to another's, or none
// was recorded) the stored JWT's iat.
func (s *Server) selfSignedBase(pub string, old jwtstore.Entry) (int64, error) {
	data, ok, err := s.durable.Record(selfArea, pub)
	if err != nil {
		return 0, fmt.Errorf("read the self-signed record of %s: %w", pub, err)
	}
	if !ok {
		return old.IssuedAt, nil
	}
	selfText, stored, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	self, err := strconv.ParseInt(selfText, 10, 64)
	if err != nil || stored != hashName(old.Hash) || self > old.IssuedAt {
		return old.IssuedAt, nil
	}
	return self, nil
}

// commitDelete records the delete request (replay guard, and the outbox when it is to be
// forwarded) and each account's tombstone (deletedArea: the latest of its stored JWT's iat and
// requestIAT), and deletes the accounts, in one durable commit, under the accounts' key locks.
// It returns how many of the accounts (each counted once) the store held.
func (s *Server) commitDelete(accounts []string, key string, deadline, requestIAT int64, token string, forward bool) (int, error) {
	b := jwtstore.Batch{
		Records: []jwtstore.Record{{Area: deletesArea, Name: key, Data: []byte(strconv.FormatInt(deadline, 10))}},
		Deletes: accounts,
	}
	// A shared store hands the request to whichever replica announces, so it is recorded even
	// where this replica has no NATS of its own.
	if forward && (s.notifying || s.announcer != nil) {
		b.Records = append(b.Records, jwtstore.Record{Area: outboxArea, Name: outboxDeleteP + key, Data: []byte(token)})
	}
	unlock := s.lockKeys(accounts)
	defer unlock()
	held := 0
	seen := map[string]bool{}
	for _, pub := range accounts {
		if seen[pub] {
			continue
		}
		seen[pub] = true
		prev, err := s.deletedAt(pub)
		if err != nil {
			return 0, fmt.Errorf("delete accounts: %w", err)
		}
		// The request's iat counts up to now: one issued ahead would bar the account until then.
		iat := max(min(requestIAT, time.Now().Unix()), prev)
		if e, err := s.store.Entry(pub); err == nil {
			iat = max(iat, e.IssuedAt)
			held++
		}
		if iat == 0 {
			continue
		}
		// Replace: written over an older tombstone of the account in the same commit (one that
		// a later JWT outlived), so a failed commit leaves the old one.
		b.Records = append(b.Records, jwtstore.Record{Area: deletedArea, Name: pub, Data: []byte(strconv.FormatInt(iat, 10)), Replace: true})
	}
	if err := s.durable.Commit(b); err != nil {
		return 0, fmt.Errorf("delete accounts: %w", err)
	}
	return held, nil
}

// deletedAt is the iat recorded when pub was deleted (0: never deleted). A record that cannot
// be read is an error: taking it for "never deleted" would let an old JWT back in.
func (s *Server) deletedAt(pub string) (int64, error) {
	data, ok, err := s.durable.Record(deletedArea, pub)
	if err != nil {
		return 0, fmt.Errorf("read the deletion record of %s: %w", pub, err)
	}
	if !ok {
		return 0, nil
	}
	iat, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		// Torn by a crash: the account was deleted, when is lost; bar what came before now.
		return time.Now().Unix(), nil
	}
	return iat, nil
}

// lockKeys takes the per-key locks of keys in a fixed order (no deadlock between two batches).
func (s *Server) lockKeys(keys []string) func() {
	locks := make([]int, 0, len(keys))
	for _, k := range keys {
		i := int(maphash.String(s.seed, k) % uint64(len(s.keyLocks)))
		if !slices.Contains(locks, i) {
			locks = append(locks, i)
		}
	}
	slices.Sort(locks)
	for _, i := range locks {
		s.keyLocks[i].Lock()
	}
	return func() {
		for _, i := range locks {
			s.keyLocks[i].Unlock()
		}
	}
}

// loadDeleteGuard fills the replay guard with the delete requests honoured before a restart
// and drops those that expired.
func (s *Server) loadDeleteGuard(now time.Time) error {
	recs, err := s.durable.Records(deletesArea)
	if err != nil {
		return fmt.Errorf("load used delete requests: %w", err)
	}
	unix := now.Unix()
	s.deletes.mu.Lock()
	defer s.deletes.mu.Unlock()
	for _, r := range recs {
		deadline := recordDeadline(r, now)
		if deadline < unix {
			s.removeRecord(r.Area, r.Name)
			continue
		}
		s.deletes.seen[r.Name] = deadline
	}
	return nil
}

// recordDeadline reads a replay guard record; one that cannot be read (torn by a crash) is
// kept for a whole window from now, the longest any request stays valid.
func recordDeadline(r jwtstore.Record, now time.Time) int64 {
	d, err := strconv.ParseInt(strings.TrimSpace(string(r.Data)), 10, 64)
	if err != nil {
		return now.Add(DeleteWindow).Unix()
	}
	return d
}

// pruneDeleteRecords removes the replay guard records of requests that expired: a replay of
// them is refused as expired anyway.
func (s *Server) pruneDeleteRecords(now time.Time) {
	recs, err := s.durable.Records(deletesArea)
	if err != nil {
		s.log.Warn("list used delete requests", "err", err)
		return
	}
	for _, r := range recs {
		if recordDeadline(r, now) < now.Unix() {
			s.removeRecord(r.Area, r.Name)
		}
	}
}

func (s *Server) removeRecord(area, name string) {
	if s.store.ReadOnly() {
		return
	}
	if err := s.durable.RemoveRecord(area, name); err != nil {
		s.log.Warn("remove record", "area", area, "name", name, "err", err)
	}
}

// outboxEntries reads the outbox: accounts whose change is not known to be announced, and
// delete requests not yet forwarded (by replay key).
func (s *Server) outboxEntries() (accounts []string, deletes map[string]string, err error) {
	recs, err := s.durable.Records(outboxArea)
	if err != nil {
		return nil, nil, fmt.Errorf("read outbox: %w", err)
	}
	deletes = map[string]string{}
	for _, r := range recs {
		if key, ok := strings.CutPrefix(r.Name, outboxDeleteP); ok {
			deletes[key] = string(r.Data)
			continue
		}
		if !nkeys.IsValidPublicAccountKey(r.Name) {
			s.log.Warn("outbox entry is not an account key; ignored", "name", r.Name)
			continue
		}
		accounts = append(accounts, r.Name)
	}
	return accounts, deletes, nil
}
