package accountserver

import (
	"crypto/sha256"
	"errors"

	"github.com/signet-dev/signet/jwtstore"
)

// What the server hands out is decided here, against the trust in effect now. The store may
// hold JWTs of issuers no longer trusted: they were verified when stored, under the operator of
// that time, and a reload has changed the operator or its signing keys since. Such JWTs stay in
// the store (they are the user's data, and a reload that trusts their issuer again serves them
// again), but they are not served: not over HTTP, not to the NATS resolver protocol, not in
// packs, exports, counts or the store hash. A stored JWT's signature was checked with its
// issuer's key, so comparing the issuer with the trusted keys is all a read needs.

// serves reports whether a stored JWT signed by iss is served under this trust.
func (ts *trustState) serves(iss string) bool { return trustsIssuer(ts.op, iss) }

// lookup returns the JWT to serve for pub: the store's when its issuer is trusted, else the
// configured system account's.
func (s *Server) lookup(pub string) (jwtstore.Entry, error) {
	ts := s.trust.Load()
	e, err := s.store.Entry(pub)
	if err == nil && !ts.serves(e.Issuer) {
		e, err = jwtstore.Entry{}, jwtstore.ErrNotFound
	}
	if errors.Is(err, jwtstore.ErrNotFound) && ts.sysJWT != "" && pub == ts.sysPub {
		return ts.sysEntry(), nil
	}
	return e, err
}

func (ts *trustState) sysEntry() jwtstore.Entry { return jwtstore.NewEntry(ts.sysJWT) }

// rangeServed calls fn for every stored JWT whose issuer is trusted, with its entry, until fn
// returns false. The trust is the one in effect when each JWT is reached, so a reload that
// returned during a long pack stops what it no longer trusts from going out. A Backend that does
// not range by issuer (jwtstore.ByIssuer) has each JWT decoded for its issuer.
func (s *Server) rangeServed(fn func(pub string, e jwtstore.Entry) bool) error {
	keep := func(iss string) bool { return s.trust.Load().serves(iss) }
	if b, ok := s.store.(jwtstore.ByIssuer); ok {
		return b.RangeIssuedBy(keep, fn)
	}
	return s.store.Range(func(pub, token string) bool {
		e := jwtstore.NewEntry(token)
		return !keep(e.Issuer) || fn(pub, e)
	})
}

// appendPackLine appends a pack's line, "pub|jwt", to buf: the HTTP pack ends each with a
// newline, CLAIMS.PACK sends each as a message. A pack has a line per account, so its callers
// reuse buf.
func appendPackLine(buf []byte, pub, token string) []byte {
	return append(append(append(buf, pub...), '|'), token...)
}

// servedLen is the number of accounts served from the store (served), and of those whose JWT
// the store has not read yet (unread: a directory store reads a file when first asked for it),
// whose issuer is not known yet: served does not count them, and reading every file to count
// them would make a start, or the first /healthz, read all of a million-account folder. A
// Backend that does not count by issuer (jwtstore.ByIssuer) is counted whole.
func (s *Server) servedLen() (served, unread int) {
	if b, ok := s.store.(jwtstore.ByIssuer); ok {
		return b.LenIssuedBy(s.trust.Load().serves)
	}
	return s.store.Len(), 0
}

// servedHash is the hash of the JWTs served from the store, the one compared with the full
// resolvers' ($SYS.REQ.CLAIMS.PACK): a JWT held but not served must not make the stores look
// different, or they would exchange packs at every sync for nothing. A Backend that does not
// hash by issuer (jwtstore.ByIssuer) is hashed whole.
func (s *Server) servedHash() ([sha256.Size]byte, error) {
	if b, ok := s.store.(jwtstore.ByIssuer); ok {
		return b.HashIssuedBy(s.trust.Load().serves)
	}
	return s.store.Hash()
}

// warnUnserved says how many stored JWTs are not served because their issuer is not trusted,
// among those the store has read (a directory store knows the issuer of a file once it read it;
// the log line says how many it has not read).
func (s *Server) warnUnserved() {
	served, unread := s.servedLen()
	if n := s.store.Len() - served - unread; n > 0 {
		s.log.Warn("the store holds account jwts whose issuer the operator does not trust: they are kept, not served; "+
			"push them again signed by the operator, or reload a configuration that trusts their issuer", "accounts", n, "unread", unread)
	}
}
