package ops

import (
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// Locked is an operator store whose lock is held, with the keystore. Every operation of this
// package is a function that takes the lock for its own duration (AddUser, RevokeUser, ...) and
// a method of Locked of the same name that runs inside a locked step the caller already holds:
// a command that creates an account and its first user, or an apply, composes them under one
// lock (the store's lock is a file lock, and a second Lock in the same step would wait forever).
type Locked struct {
	Store    *store.Store
	KeyStore keystore.KeyStore
	unlock   func()
}

// Lock takes the store's lock, waiting for other processes; the caller defers Unlock. Once an
// hour it also sweeps the keystore of temporary files older than a minute (copies of seeds and
// creds that a write cut short left behind).
func Lock(s *store.Store, ks keystore.KeyStore) (*Locked, error) {
	unlock, err := s.Lock()
	if err != nil {
		return nil, err
	}
	s.SweepTempUnder(ks.Dir)
	return &Locked{Store: s, KeyStore: ks, unlock: unlock}, nil
}

// Held is a store whose lock the caller already holds; its Unlock does nothing.
func Held(s *store.Store, ks keystore.KeyStore) *Locked {
	return &Locked{Store: s, KeyStore: ks}
}

// Unlock releases the lock taken by Lock; calling it more than once is harmless.
func (l *Locked) Unlock() {
	if l.unlock != nil {
		l.unlock()
	}
}

// withLock runs op under the store's lock.
func withLock[T any](s *store.Store, ks keystore.KeyStore, op func(*Locked) (T, error)) (T, error) {
	l, err := Lock(s, ks)
	if err != nil {
		var zero T
		return zero, err
	}
	defer l.Unlock()
	return op(l)
}
