package spec

import (
	"errors"
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// Result is what Apply did.
type Result struct {
	// Accounts were created or changed, exporters before their importers: the order to push
	// them in.
	Accounts []string
	// Deleted accounts (with Prune): the servers keep them until they are removed there.
	Deleted []string
	// Users created or changed, as "account/user"; DeletedUsers were pruned (and revoked).
	Users, DeletedUsers []string
	// Creds files written.
	Creds []string
	// Operator: the operator JWT changed (its system account).
	Operator bool
	// Warnings of jwt/v2's validation that do not block.
	Warnings []string
}

// Apply carries out p, which MakePlan made under the store lock that the caller still holds.
// Keys generated for new entities go to the keystore first; then every JWT is signed, through
// ops (the one signer rule); only then is the store written. A failure before the writes leaves
// the store as it was (and perhaps spare keys in the keystore); a failure while writing leaves
// a store that the next apply completes.
func Apply(s *store.Store, ks keystore.KeyStore, p *Plan) (*Result, error) {
	res := &Result{}
	if !p.Pending() {
		return res, nil
	}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	// 1. Keys first: a store naming a key the keystore lacks is worse than a spare key.
	for _, st := range p.accounts {
		keys := st.newKeys
		if st.kp != nil {
			keys = append([]nkeys.KeyPair{st.kp}, keys...)
		}
		if err := storeKeys(ks, keys); err != nil {
			return nil, err
		}
	}
	for _, u := range p.users {
		if u.kp != nil {
			if err := storeKeys(ks, []nkeys.KeyPair{u.kp}); err != nil {
				return nil, err
			}
		}
	}
	// 2. Sign: activation tokens, accounts, users, operator. Nothing is written yet.
	byName := map[string]*accountStep{}
	for _, st := range p.accounts {
		byName[st.name] = st
	}
	exporterClaims := func(name string) (*jwt.AccountClaims, error) {
		if st, ok := byName[name]; ok {
			return st.claims, nil
		}
		ac, _, err := s.Account(name)
		return ac, err
	}
	tokens := map[string]string{}
	for _, st := range p.accounts {
		for i, exp := range st.needTokens {
			im := st.claims.Imports[i]
			ec, err := exporterClaims(exp)
			if err != nil {
				return nil, err
			}
			stream, service := ops.CoveringExports(ec, string(im.Subject))
			e := stream
			if im.IsService() {
				e = service
			}
			tok, err := ops.SignActivation(ks, ops.Activation{
				Target: st.claims.Subject, Subject: string(im.Subject), Export: e,
				OperatorStrict: oc.StrictSigningKeyUsage, ExportingName: exp, ExportingClaims: ec,
			})
			if err != nil {
				return nil, fmt.Errorf("account %q: activation to import %q from %q: %w", st.name, im.Subject, exp, err)
			}
			im.Token = tok
		}
		warns, err := ops.ValidateAccount(st.claims)
		if err != nil {
			return nil, fmt.Errorf("account %q would be invalid, nothing changed: %w", st.name, err)
		}
		for _, w := range warns {
			res.Warnings = append(res.Warnings, fmt.Sprintf("account %q: %s", st.name, w))
		}
		var self nkeys.KeyPair
		if st.kp != nil {
			self = st.kp
		}
		tok, err := ops.SignAccount(s, ks, oc, st.claims, self, "")
		if err != nil {
			return nil, fmt.Errorf("account %q: %w", st.name, err)
		}
		tokens[st.name] = tok
	}
	userTokens := make([]string, len(p.users))
	for i, u := range p.users {
		ac, err := exporterClaims(u.account)
		if err != nil {
			return nil, err
		}
		tok, err := ops.SignUser(ks, u.account, ac, u.claims, u.role, oc.StrictSigningKeyUsage)
		if err != nil {
			return nil, fmt.Errorf("user %q of account %q: %w", u.name, u.account, err)
		}
		userTokens[i] = tok
	}
	var opToken string
	if p.operator != nil {
		if opToken, err = ops.SignOperator(ks, p.operator, ""); err != nil {
			return nil, err
		}
	}
	// 3. Write: accounts, users and their creds, the operator, then what is pruned.
	var errs []error
	for _, name := range pushOrder(p.accounts) {
		if err := s.SaveAccount(name, tokens[name]); err != nil {
			return res, fmt.Errorf("%w (run apply again to finish)", err)
		}
		res.Accounts = append(res.Accounts, name)
	}
	for i, u := range p.users {
		if err := s.SaveUser(u.account, u.name, userTokens[i]); err != nil {
			return res, fmt.Errorf("%w (run apply again to finish)", err)
		}
		res.Users = append(res.Users, u.account+"/"+u.name)
		kp, err := ks.Get(u.claims.Subject)
		if err != nil {
			continue // the user's seed is elsewhere: its owner makes creds
		}
		seed, _ := kp.Seed()
		path, err := ks.WriteCreds(s.Name(), u.account, u.name, userTokens[i], seed)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.Creds = append(res.Creds, path)
	}
	if opToken != "" {
		if err := s.SaveOperator(opToken); err != nil {
			return res, fmt.Errorf("%w (run apply again to finish)", err)
		}
		res.Operator = true
	}
	for _, u := range p.userDeletes {
		if err := s.DeleteUser(u.account, u.name); err != nil {
			errs = append(errs, err)
			continue
		}
		_ = ks.RemoveCreds(s.Name(), u.account, u.name)
		res.DeletedUsers = append(res.DeletedUsers, u.account+"/"+u.name)
	}
	for _, name := range p.deletes {
		if err := s.DeleteAccount(name); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Deleted = append(res.Deleted, name)
	}
	return res, errors.Join(errs...)
}

func storeKeys(ks keystore.KeyStore, keys []nkeys.KeyPair) error {
	for _, k := range keys {
		if _, err := ks.Store(k); err != nil {
			return err
		}
	}
	return nil
}

// pushOrder lists the accounts of steps with every exporter before the accounts that import
// from it (a server that meets an import of an unknown account drops it).
func pushOrder(steps []*accountStep) []string {
	byPub := map[string]*accountStep{}
	for _, st := range steps {
		byPub[st.claims.Subject] = st
	}
	done := map[string]bool{}
	visiting := map[string]bool{}
	var out []string
	var visit func(st *accountStep)
	visit = func(st *accountStep) {
		if done[st.name] || visiting[st.name] {
			return // a cycle of imports: any order
		}
		visiting[st.name] = true
		for _, im := range st.claims.Imports {
			if dep, ok := byPub[im.Account]; ok {
				visit(dep)
			}
		}
		visiting[st.name] = false
		done[st.name] = true
		out = append(out, st.name)
	}
	for _, st := range steps {
		visit(st)
	}
	return out
}
