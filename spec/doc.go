// Package spec is auth as code: a file (YAML or JSON) that describes one operator's desired
// state (accounts, their limits, exports, imports, mappings, scoped signing keys by role, and
// the users that belong in the file), the plan that compares it with a store, and the apply that
// makes the store match.
//
// The file never holds keys: an entity is named, and its keys live in the keystore. The same
// file applied to another operator creates that operator's own accounts and keys.
//
// A spec is loaded with Load (overlays: later files win; maps merge by key, scalars and lists
// replace), compared with a store by Plan, and carried out by Apply, which signs through ops
// (the one rule for choosing a signer) and writes the store only once every JWT is signed.
// FromStore is the other way round: the spec of an existing store, for adoption.
package spec
