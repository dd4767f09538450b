package jwtstore

import (
	"crypto/sha256"
	"sync"
)

// Memory is a Store kept in memory only, for tests and throwaway servers.
type Memory struct {
	mu      sync.RWMutex
	entries map[string]Entry
	hash    [sha256.Size]byte
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{entries: make(map[string]Entry)}
}

// Get implements Store.
func (m *Memory) Get(pub string) (string, error) {
	e, err := m.Entry(pub)
	return e.JWT, err
}

// Entry implements Store.
func (m *Memory) Entry(pub string) (Entry, error) {
	m.mu.RLock()
	e, ok := m.entries[pub]
	m.mu.RUnlock()
	if !ok {
		return Entry{}, ErrNotFound
	}
	return e, nil
}

// Put implements Store.
func (m *Memory) Put(pub, jwt string) error {
	e := NewEntry(jwt)
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.entries[pub]; ok {
		xorInto(&m.hash, old.Hash)
	}
	m.entries[pub] = e
	xorInto(&m.hash, e.Hash)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(pub string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.entries[pub]; ok {
		xorInto(&m.hash, old.Hash)
		delete(m.entries, pub)
	}
	return nil
}

// Range implements Store. It iterates over a snapshot, so fn may take its time.
func (m *Memory) Range(fn func(pub, jwt string) bool) error {
	m.mu.RLock()
	snap := make([]Entry, 0, len(m.entries))
	keys := make([]string, 0, len(m.entries))
	for k, e := range m.entries {
		keys = append(keys, k)
		snap = append(snap, e)
	}
	m.mu.RUnlock()
	for i, k := range keys {
		if !fn(k, snap[i].JWT) {
			return nil
		}
	}
	return nil
}

// Len implements Store.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.entries)
}

// Hash implements Store.
func (m *Memory) Hash() ([sha256.Size]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.hash, nil
}

// ReadOnly implements Store: a memory store is always writable.
func (m *Memory) ReadOnly() bool { return false }

// Close implements Store.
func (m *Memory) Close() error { return nil }
