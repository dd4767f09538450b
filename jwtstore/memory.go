package jwtstore

import (
	"crypto/sha256"
	"sync"
)

// Memory is a Store kept in memory only, for tests and throwaway servers.
type Memory struct {
	mu      sync.RWMutex
	entries map[string]Entry
	tally   tally

	recs *memRecords
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{entries: make(map[string]Entry), tally: newTally(), recs: newMemRecords()}
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
	m.set(pub, NewEntry(jwt))
	return nil
}

// set stores e as pub's entry.
func (m *Memory) set(pub string, e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.entries[pub]; ok {
		m.tally.remove(old)
	}
	m.entries[pub] = m.tally.add(e)
}

// Delete implements Store.
func (m *Memory) Delete(pub string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.entries[pub]; ok {
		m.tally.remove(old)
		delete(m.entries, pub)
	}
	return nil
}

// Range implements Store. It iterates over a snapshot, so fn may take its time.
func (m *Memory) Range(fn func(pub, jwt string) bool) error {
	return m.RangeIssuedBy(anyIssuer, func(pub string, e Entry) bool { return fn(pub, e.JWT) })
}

// RangeIssuedBy implements ByIssuer. Like Range, it iterates over a snapshot.
func (m *Memory) RangeIssuedBy(keep func(issuer string) bool, fn func(pub string, e Entry) bool) error {
	type held struct {
		pub string
		e   Entry
	}
	m.mu.RLock()
	snap := make([]held, 0, len(m.entries))
	for k, e := range m.entries {
		snap = append(snap, held{k, e})
	}
	m.mu.RUnlock()
	for _, h := range snap {
		if keep(h.e.Issuer) && !fn(h.pub, h.e) {
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
	return m.tally.hash, nil
}

// LenIssuedBy implements ByIssuer: a memory store holds no JWT it has not read.
func (m *Memory) LenIssuedBy(keep func(issuer string) bool) (int, int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, _ := m.tally.issuedBy(keep)
	return n, 0
}

// HashIssuedBy implements ByIssuer.
func (m *Memory) HashIssuedBy(keep func(issuer string) bool) ([sha256.Size]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, h := m.tally.issuedBy(keep)
	return h, nil
}

// ReadOnly implements Store: a memory store is always writable.
func (m *Memory) ReadOnly() bool { return false }

// Close implements Store.
func (m *Memory) Close() error { return nil }

// Commit implements Committer. Nothing survives the process, so there is nothing to sync.
func (m *Memory) Commit(b Batch) error {
	for _, r := range b.Records {
		if err := checkRecord(r); err != nil {
			return err
		}
	}
	for _, r := range b.Records {
		m.recs.put(r)
	}
	for _, p := range b.Puts {
		if err := m.Put(p.Pub, p.JWT); err != nil {
			return err
		}
	}
	for _, pub := range b.Deletes {
		if err := m.Delete(pub); err != nil {
			return err
		}
	}
	return nil
}

// Records implements Committer.
func (m *Memory) Records(area string) ([]Record, error) {
	return m.recs.list(area), nil
}

// Record implements Committer.
func (m *Memory) Record(area, name string) ([]byte, bool, error) {
	d, ok := m.recs.get(area, name)
	return d, ok, nil
}

// RemoveRecord implements Committer.
func (m *Memory) RemoveRecord(area, name string) error {
	m.recs.remove(area, name)
	return nil
}

// memRecords keeps records in memory, for the memory store and for stores without records.
type memRecords struct {
	mu    sync.Mutex
	areas map[string]map[string][]byte
}

func newMemRecords() *memRecords { return &memRecords{areas: map[string]map[string][]byte{}} }

func (r *memRecords) put(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.areas[rec.Area]
	if a == nil {
		a = map[string][]byte{}
		r.areas[rec.Area] = a
	}
	a[rec.Name] = append([]byte(nil), rec.Data...)
}

func (r *memRecords) list(area string) []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Record, 0, len(r.areas[area]))
	for n, d := range r.areas[area] {
		out = append(out, Record{Area: area, Name: n, Data: append([]byte(nil), d...)})
	}
	return out
}

func (r *memRecords) get(area, name string) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.areas[area][name]
	return append([]byte(nil), d...), ok
}

func (r *memRecords) remove(area, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.areas[area], name)
}

// memRecorded is what WithRecords makes of a Store without records.
type memRecorded struct {
	Store
	recs *memRecords
}

func (s *memRecorded) Commit(b Batch) error {
	for _, r := range b.Records {
		if err := checkRecord(r); err != nil {
			return err
		}
	}
	for _, r := range b.Records {
		s.recs.put(r)
	}
	for _, p := range b.Puts {
		if err := s.Put(p.Pub, p.JWT); err != nil {
			return err
		}
	}
	for _, pub := range b.Deletes {
		if err := s.Delete(pub); err != nil {
			return err
		}
	}
	return nil
}

func (s *memRecorded) Records(area string) ([]Record, error) { return s.recs.list(area), nil }

func (s *memRecorded) Record(area, name string) ([]byte, bool, error) {
	d, ok := s.recs.get(area, name)
	return d, ok, nil
}

func (s *memRecorded) RemoveRecord(area, name string) error {
	s.recs.remove(area, name)
	return nil
}
