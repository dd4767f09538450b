package spec

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/nats-io/jwt/v2"
	"go.yaml.in/yaml/v3"

	"github.com/signet-dev/signet/store"
)

// ExportOptions tune FromStore.
type ExportOptions struct {
	// Users adds every user of every account to the spec; without it the spec has no users
	// (people's users stay unmanaged).
	Users bool
}

// FromStore returns the spec of an existing store: what a file must say for MakePlan to find
// nothing to do. It holds no keys.
func FromStore(s *store.Store, o ExportOptions) (*Spec, error) {
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	names, claims, byPub, err := readAccounts(s)
	if err != nil {
		return nil, err
	}
	sp := &Spec{SystemAccount: byPub[oc.SystemAccount], Accounts: map[string]*Account{}}
	for _, n := range names {
		ac := claims[n]
		a := accountOf(ac, byPub).canonical()
		if o.Users {
			users, err := s.ListUsers(n)
			if err != nil {
				return nil, err
			}
			for _, u := range users {
				uc, _, err := s.User(n, u.Name)
				if err != nil {
					return nil, err
				}
				if a.Users == nil {
					a.Users = map[string]*User{}
				}
				a.Users[u.Name] = userOf(uc, ac).canonical()
			}
		}
		sp.Accounts[n] = a
	}
	return sp, nil
}

// readAccounts reads every account of the store: the names in order, the claims by name, and
// the names by public key.
func readAccounts(s *store.Store) ([]string, map[string]*jwt.AccountClaims, map[string]string, error) {
	names, err := s.Accounts()
	if err != nil {
		return nil, nil, nil, err
	}
	claims := map[string]*jwt.AccountClaims{}
	byPub := map[string]string{}
	for _, n := range names {
		ac, _, err := s.Account(n)
		if err != nil {
			return nil, nil, nil, err
		}
		claims[n] = ac
		byPub[ac.Subject] = n
	}
	return names, claims, byPub, nil
}

// Marshal writes sp as YAML, or as indented JSON when asJSON.
func Marshal(sp *Spec, asJSON bool) ([]byte, error) {
	if asJSON {
		b, err := json.MarshalIndent(sp, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(sp); err != nil {
		return nil, fmt.Errorf("write spec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// FromSpec validates a spec built in Go (rather than read from a file) the way Load does; its
// errors name the line of the spec's YAML form.
func FromSpec(sp *Spec) (*Loaded, error) {
	data, err := Marshal(sp, false)
	if err != nil {
		return nil, err
	}
	return Load(Source{Name: "spec", Data: data})
}
