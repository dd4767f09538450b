package store

import "os"

// Change is one JWT the store wrote or deleted, as a Hook is told of it.
type Change struct {
	// Kind is "operator", "account" or "user".
	Kind string
	// Account is the account's name (of the account itself, or of the user's account).
	Account string
	// Name is the entity's name (the operator's, the account's or the user's).
	Name string
	// Before is the JWT before the change; "" when the entity was created.
	Before string
	// After is the JWT after the change; "" when the entity was deleted.
	After string
}

// The kinds of Change.
const (
	KindOperator = "operator"
	KindAccount  = "account"
	KindUser     = "user"
)

// Hook is told of every JWT a Store writes or deletes, right after the write (under the lock
// the writer holds). The store keeps no record itself: a hook (package history) does. An error
// from the hook is returned by the write that caused it; the write itself has happened.
type Hook interface {
	StoreChanged(s *Store, c Change) error
}

// before reads what a write is about to replace, only when a hook wants to know.
func (s *Store) before(path string) string {
	if s.Hook == nil {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(trimSpace(data))
}

// changed tells the hook, if any, of a change.
func (s *Store) changed(c Change) error {
	if s.Hook == nil {
		return nil
	}
	c.After = string(trimSpace([]byte(c.After)))
	if c.Before == c.After {
		return nil
	}
	return s.Hook.StoreChanged(s, c)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
