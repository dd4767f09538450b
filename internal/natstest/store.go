package natstest

import (
	"testing"

	"github.com/signet-dev/signet/store"
)

// FromStore reads what a server needs to trust the operator of a signet (or nsc) store: the
// Trust, and every account JWT of the store by public key (for a memory resolver's preload).
func FromStore(t testing.TB, s *store.Store) (Trust, map[string]string) {
	t.Helper()
	oc, opJWT, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	names, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	tr := Trust{OperatorJWT: opJWT, SystemAccount: oc.SystemAccount}
	accounts := map[string]string{}
	for _, n := range names {
		ac, tok, err := s.Account(n)
		if err != nil {
			t.Fatal(err)
		}
		accounts[ac.Subject] = tok
		if ac.Subject == oc.SystemAccount {
			tr.SystemAccountJWT = tok
		}
	}
	if tr.SystemAccountJWT == "" {
		t.Fatalf("natstest: store %q has no system account", s.Name())
	}
	return tr, accounts
}
