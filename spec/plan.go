package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// Actions of a plan's changes.
const (
	Create    = "create"
	Change    = "change"
	Delete    = "delete"    // carried out by apply only with Prune
	Unmanaged = "unmanaged" // a user the file does not list, left alone

	// CutOff is the New of the issuer field of an unmanaged user whose scoped signing key the
	// file removes: left alone, it stops working.
	CutOff = "(a scoped signing key the file removes: the user stops working)"
)

// Options tune Plan.
type Options struct {
	// Prune: entities of the store that the file does not describe are deleted by Apply (users
	// only in accounts with manage_users). Without it they are reported and kept.
	Prune bool
	// Now stamps revocations of pruned users; default time.Now.
	Now func() time.Time
}

// FieldChange is one field of an entity: its value in the store and in the file ("" when
// absent). Values are JSON.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// EntityChange is what the plan does to one entity.
type EntityChange struct {
	Kind    string        `json:"kind"` // operator, account or user
	Action  string        `json:"action"`
	Account string        `json:"account,omitempty"` // a user's account
	Name    string        `json:"name"`
	Fields  []FieldChange `json:"fields,omitempty"`
}

// Plan is what Apply would do to make a store match a spec. It is computed without signing
// anything, so it needs no keys.
type Plan struct {
	Operator string         `json:"operator"`
	Prune    bool           `json:"prune"`
	Changes  []EntityChange `json:"changes"`

	operator *jwt.OperatorClaims // new operator claims, or nil
	accounts []*accountStep
	users    []*userStep
	deletes  []string // accounts, with Prune
	// userDeletes are users pruned from managed accounts (with Prune): revoked in the account.
	userDeletes []userRef
}

type userRef struct{ account, name, pub string }

type accountStep struct {
	name    string
	create  bool
	kp      nkeys.KeyPair // a new account's key
	claims  *jwt.AccountClaims
	newKeys []nkeys.KeyPair // new signing keys
	// needTokens are the imports (indexes into claims.Imports) of private exports of this file
	// that need a new activation token: exporter account name per index.
	needTokens map[int]string
}

type userStep struct {
	account, name string
	create        bool
	kp            nkeys.KeyPair
	claims        *jwt.UserClaims
	role          string
}

// Pending reports whether Apply would change anything: a creation or a change, or a deletion
// when pruning.
func (p *Plan) Pending() bool {
	for _, c := range p.Changes {
		if c.Action == Create || c.Action == Change || (c.Action == Delete && p.Prune) {
			return true
		}
	}
	return false
}

// Count returns how many changes of each action the plan holds.
func (p *Plan) Count() map[string]int {
	n := map[string]int{}
	for _, c := range p.Changes {
		n[c.Action]++
	}
	return n
}

// MakePlan compares the store with the loaded spec and returns what Apply would do. It signs
// nothing and stores nothing: new keys exist only in the plan. The caller holds the store lock
// when the plan is to be applied.
func MakePlan(s *store.Store, l *Loaded, o Options) (*Plan, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	sp := l.Spec
	p := &Plan{Operator: s.Name(), Prune: o.Prune}
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	names, current, byPub, err := readAccounts(s)
	if err != nil {
		return nil, err
	}
	// Every account of the file gets its public key first: imports name their exporter by it.
	pubs := map[string]string{}
	steps := map[string]*accountStep{}
	for _, name := range sortedKeys(sp.Accounts) {
		st := &accountStep{name: name}
		if ac, ok := current[name]; ok {
			st.claims = ac
		} else {
			kp, err := nkeys.CreateAccount()
			if err != nil {
				return nil, fmt.Errorf("create account key: %w", err)
			}
			pub, _ := kp.PublicKey()
			st.create, st.kp, st.claims = true, kp, jwt.NewAccountClaims(pub)
			st.claims.Name = name
		}
		pubs[name] = st.claims.Subject
		steps[name] = st
	}
	prob := &problems{l: l}
	before := map[string]*Account{}
	oldKeys := map[string]*jwt.AccountClaims{}
	// First every account's own fields and keys, then the imports, which look at the exporters'
	// new exports.
	for _, name := range sortedKeys(sp.Accounts) {
		st := steps[name]
		if !st.create {
			// What the store holds, projected, and the keys its users were signed with; the
			// claims themselves are changed in place from here on.
			before[name] = accountOf(st.claims, byPub).canonical()
			oldKeys[name] = &jwt.AccountClaims{Account: jwt.Account{SigningKeys: maps.Clone(st.claims.SigningKeys)}}
		}
		if err := st.buildOwn(sp.Accounts[name]); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(sp.Accounts) {
		a, st := sp.Accounts[name], steps[name]
		want := a.canonical()
		st.buildImports(a, pubs, steps, prob, []any{"accounts", name})
		before := before[name]
		var fields []FieldChange
		if before == nil {
			fields = diff(nil, want)
		} else {
			fields = diff(before, want)
		}
		if !st.create {
			fields = append(fields, st.tokenFields()...)
		}
		// Users the file leaves out of a managed account go with Prune, revoked first.
		if !st.create && a.ManageUsers {
			users, err := s.ListUsers(name)
			if err != nil {
				return nil, err
			}
			for _, u := range users {
				if _, ok := a.Users[u.Name]; ok {
					continue
				}
				p.Changes = append(p.Changes, EntityChange{Kind: "user", Action: Delete, Account: name, Name: u.Name})
				if o.Prune {
					p.userDeletes = append(p.userDeletes, userRef{account: name, name: u.Name, pub: u.PublicKey})
					st.claims.RevokeAt(u.PublicKey, o.Now())
					fields = append(fields, FieldChange{Field: "revocations", New: fmt.Sprintf("user %q (%s)", u.Name, u.PublicKey)})
				}
			}
		}
		switch {
		case st.create:
			p.Changes = append(p.Changes, EntityChange{Kind: "account", Action: Create, Name: name, Fields: fields})
			p.accounts = append(p.accounts, st)
		case len(fields) > 0:
			p.Changes = append(p.Changes, EntityChange{Kind: "account", Action: Change, Name: name, Fields: fields})
			p.accounts = append(p.accounts, st)
		}
		if err := p.planUsers(s, a, st, oldKeys[name]); err != nil {
			return nil, err
		}
	}
	sys := sp.SystemAccount
	if sys == "" {
		sys = byPub[oc.SystemAccount]
	}
	// nats-server refuses to enable JetStream on the system account, and nsc to set it there.
	if st, ok := steps[sys]; ok && st.claims.Limits.IsJSEnabled() {
		prob.add([]any{"accounts", sys, "jetstream"}, "account %q is the system account, where nats-server refuses to enable JetStream: remove its jetstream", sys)
	}
	if err := prob.err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := sp.Accounts[n]; ok {
			continue
		}
		p.Changes = append(p.Changes, EntityChange{Kind: "account", Action: Delete, Name: n})
		if o.Prune {
			p.deletes = append(p.deletes, n)
		}
	}
	if sp.SystemAccount != "" && oc.SystemAccount != pubs[sp.SystemAccount] {
		old := oc.SystemAccount
		if n, ok := byPub[old]; ok {
			old = n
		}
		p.Changes = append(p.Changes, EntityChange{Kind: "operator", Action: Change, Name: s.Name(),
			Fields: []FieldChange{{Field: "system_account", Old: quote(old), New: quote(sp.SystemAccount)}}})
		oc.SystemAccount = pubs[sp.SystemAccount]
		p.operator = oc
	}
	return p, nil
}

// buildOwn turns the account's spec into st.claims: the fields of the spec and the signing keys
// by role (existing keys kept, new ones generated).
func (st *accountStep) buildOwn(a *Account) error {
	ac := st.claims
	a.applyAccount(ac)
	// Signing keys: scoped ones by role, then as many unscoped ones as the file asks for.
	roles := map[string]string{}
	var unscoped []string
	for _, pub := range ac.SigningKeys.Keys() {
		scope, _ := ac.SigningKeys.GetScope(pub)
		if us, ok := scope.(*jwt.UserScope); ok && scope != nil {
			role := us.Role
			if role == "" {
				role = pub
			}
			roles[role] = pub
		} else {
			unscoped = append(unscoped, pub)
		}
	}
	sort.Strings(unscoped)
	keys := jwt.SigningKeys{}
	for _, role := range sortedKeys(a.SigningKeys) {
		sc := a.SigningKeys[role]
		pub, ok := roles[role]
		if !ok {
			kp, err := nkeys.CreateAccount()
			if err != nil {
				return fmt.Errorf("generate signing key: %w", err)
			}
			pub, _ = kp.PublicKey()
			st.newKeys = append(st.newKeys, kp)
		}
		us := jwt.NewUserScope()
		us.Key, us.Role, us.Description = pub, role, sc.Description
		us.Template = sc.UserLimits.claims()
		keys.AddScopedSigner(us)
	}
	for i := 0; i < a.UnscopedSigningKeys; i++ {
		if i < len(unscoped) {
			keys.Add(unscoped[i])
			continue
		}
		kp, err := nkeys.CreateAccount()
		if err != nil {
			return fmt.Errorf("generate signing key: %w", err)
		}
		pub, _ := kp.PublicKey()
		keys.Add(pub)
		st.newKeys = append(st.newKeys, kp)
	}
	ac.SigningKeys = keys
	return nil
}

// buildImports sets the imports of st.claims, with the exporters' keys and the activation tokens
// of the store kept while they are good, and validates the account.
func (st *accountStep) buildImports(a *Account, pubs map[string]string, steps map[string]*accountStep, prob *problems, path []any) {
	ac := st.claims
	oldImports := ac.Imports
	// Imports, with the exporter's key, and the token of the same import kept while it is good.
	ac.Imports = nil
	st.needTokens = map[int]string{}
	for i, im := range a.canonical().Imports {
		src := im.Account
		if pub, ok := pubs[src]; ok {
			src = pub
		}
		x := &jwt.Import{
			Name: im.Name, Subject: jwt.Subject(im.Subject), Account: src, LocalSubject: jwt.RenamingSubject(im.LocalSubject),
			Type: exportType(im.Type), Share: im.Share, AllowTrace: im.AllowTrace,
		}
		if x.Name == "" {
			x.Name = im.Subject
		}
		if x.IsService() {
			local := jwt.Subject(x.Subject)
			if x.LocalSubject != "" {
				local = x.LocalSubject.ToSubject()
			}
			if err := ops.CheckServiceOverlap(ac, local); err != nil {
				prob.add(at(path, "imports"), "account %q: %v", st.name, err)
			}
		}
		if exp, ok := steps[im.Account]; ok && privateExport(exp.claims, x) {
			for _, old := range oldImports {
				if old.Account == x.Account && old.Subject == x.Subject && old.Type == x.Type && tokenGood(old.Token, x, ac.Subject, exp.claims) {
					x.Token = old.Token
				}
			}
			if x.Token == "" {
				st.needTokens[i] = im.Account
			}
		}
		ac.Imports.Add(x)
	}
	if _, err := ops.ValidateAccount(ac); err != nil {
		prob.add(path, "account %q would be invalid: %v", st.name, err)
	}
}

// tokenFields reports the activation tokens an existing account's imports will get.
func (st *accountStep) tokenFields() []FieldChange {
	var out []FieldChange
	for i := range st.claims.Imports {
		if exp, ok := st.needTokens[i]; ok {
			im := st.claims.Imports[i]
			out = append(out, FieldChange{Field: fmt.Sprintf("imports[%s %s %s].token", exp, im.Subject, im.Type), New: "a new activation token"})
		}
	}
	return out
}

// privateExport reports whether the export of ac that the import takes requires a token. The
// exporter's claims may still be the store's (it is built in name order), so the file's own
// export list is what counts: build applies it before any importer looks.
func privateExport(ac *jwt.AccountClaims, im *jwt.Import) bool {
	stream, service := ops.CoveringExports(ac, string(im.Subject))
	e := stream
	if im.IsService() {
		e = service
	}
	return e != nil && e.TokenReq
}

// tokenGood reports whether an activation token still lets importer import im from exporter.
func tokenGood(token string, im *jwt.Import, importer string, exporter *jwt.AccountClaims) bool {
	if token == "" {
		return false
	}
	act, err := jwt.DecodeActivationClaims(token)
	if err != nil {
		return false
	}
	issuer := act.Issuer
	if act.IssuerAccount != "" && act.IssuerAccount != exporter.Subject {
		return false
	}
	if issuer != exporter.Subject && !exporter.SigningKeys.Contains(issuer) {
		return false
	}
	if act.Expires != 0 && act.Expires < time.Now().Unix() {
		return false
	}
	return act.Subject == importer && act.ImportType == im.Type && im.Subject.IsContainedIn(act.ImportSubject)
}

// planUsers plans the users of one account; oldKeys holds the signing keys the store's account
// has (the users' signers), st.claims the account as the file wants it.
func (p *Plan) planUsers(s *store.Store, a *Account, st *accountStep, oldKeys *jwt.AccountClaims) error {
	listed := map[string]bool{}
	for _, un := range sortedKeys(a.Users) {
		listed[un] = true
		u := a.Users[un]
		want := u.canonical()
		if st.create || !s.HasUser(st.name, un) {
			kp, err := nkeys.CreateUser()
			if err != nil {
				return fmt.Errorf("create user key: %w", err)
			}
			pub, _ := kp.PublicKey()
			uc := jwt.NewUserClaims(pub)
			uc.Name = un
			u.applyUser(uc)
			p.users = append(p.users, &userStep{account: st.name, name: un, create: true, kp: kp, claims: uc, role: u.SigningKey})
			p.Changes = append(p.Changes, EntityChange{Kind: "user", Action: Create, Account: st.name, Name: un, Fields: diff(nil, want)})
			continue
		}
		uc, _, err := s.User(st.name, un)
		if err != nil {
			return err
		}
		before := userOf(uc, oldKeys).canonical()
		fields := diff(before, want)
		// A user whose signer is no longer a key of the account must be signed again.
		if uc.Issuer != st.claims.Subject && !st.claims.SigningKeys.Contains(uc.Issuer) {
			fields = append(fields, FieldChange{Field: "issuer", Old: uc.Issuer, New: "a key of the account"})
		} else if role := before.SigningKey; role != "" && role == want.SigningKey {
			// The role's key may be new (the role was made again): sign with it.
			if !st.claims.SigningKeys.Contains(uc.Issuer) {
				fields = append(fields, FieldChange{Field: "issuer", Old: uc.Issuer, New: "role " + role})
			}
		}
		if len(fields) == 0 {
			continue
		}
		fresh, _, err := s.User(st.name, un)
		if err != nil {
			return err
		}
		u.applyUser(fresh)
		if want.SigningKey == "" && before.SigningKey != "" {
			fresh.Issuer = "" // not the scoped key again: Signer would keep the previous signer
		}
		p.users = append(p.users, &userStep{account: st.name, name: un, claims: fresh, role: u.SigningKey})
		p.Changes = append(p.Changes, EntityChange{Kind: "user", Action: Change, Account: st.name, Name: un, Fields: fields})
	}
	if st.create || a.ManageUsers {
		return nil
	}
	users, err := s.ListUsers(st.name)
	if err != nil {
		return err
	}
	// Signing keys the file takes away (true: the key had a scope). A user not in the file that
	// an unscoped one signed keeps its JWT as it is, signed again by a key the account keeps (its
	// permissions are in its JWT). One that a scoped key signed is left alone, and said so: its
	// permissions were the scope's.
	removed := map[string]bool{}
	if oldKeys != nil {
		for _, k := range oldKeys.SigningKeys.Keys() {
			if !st.claims.SigningKeys.Contains(k) {
				sc, _ := oldKeys.SigningKeys.GetScope(k)
				removed[k] = sc != nil
			}
		}
	}
	for _, u := range users {
		if listed[u.Name] {
			continue
		}
		if len(removed) > 0 {
			uc, _, err := s.User(st.name, u.Name)
			if err != nil {
				return err
			}
			scoped, ok := removed[uc.Issuer]
			switch {
			case ok && scoped:
				p.Changes = append(p.Changes, EntityChange{Kind: "user", Action: Unmanaged, Account: st.name, Name: u.Name,
					Fields: []FieldChange{{Field: "issuer", Old: uc.Issuer, New: CutOff}}})
				continue
			case ok:
				old := uc.Issuer
				uc.Issuer = "" // Signer chooses a key the account keeps
				p.users = append(p.users, &userStep{account: st.name, name: u.Name, claims: uc})
				p.Changes = append(p.Changes, EntityChange{Kind: "user", Action: Change, Account: st.name, Name: u.Name,
					Fields: []FieldChange{{Field: "issuer", Old: old, New: "a key of the account (the file removes its signing key)"}}})
				continue
			}
		}
		p.Changes = append(p.Changes, EntityChange{Kind: "user", Action: Unmanaged, Account: st.name, Name: u.Name})
	}
	return nil
}

// diff compares two canonical entities field by field (nil old: a creation).
func diff(old, new any) []FieldChange {
	o, n := map[string]string{}, map[string]string{}
	if old != nil && !isNil(old) {
		flatten("", toGeneric(old), o)
	}
	flatten("", toGeneric(new), n)
	keys := map[string]bool{}
	for k := range o {
		keys[k] = true
	}
	for k := range n {
		keys[k] = true
	}
	var out []FieldChange
	for k := range keys {
		if o[k] != n[k] {
			out = append(out, FieldChange{Field: k, Old: o[k], New: n[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func isNil(v any) bool {
	switch x := v.(type) {
	case *Account:
		return x == nil
	case *User:
		return x == nil
	}
	return false
}

func toGeneric(v any) any {
	b, _ := json.Marshal(v)
	var g any
	_ = json.Unmarshal(b, &g)
	return g
}

// flatten writes each scalar of v under its path. Lists of exports, imports and mapping
// destinations are keyed by what identifies an item, so that adding one item changes one key;
// other lists are one value.
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			flatten(joinPath(prefix, k), vv, out)
		}
	case []any:
		id := itemID(prefix)
		if id == nil {
			out[prefix] = compact(x)
			return
		}
		for _, item := range x {
			m, _ := item.(map[string]any)
			flatten(prefix+"["+id(m)+"]", item, out)
		}
	default:
		out[prefix] = compact(x)
	}
}

func itemID(prefix string) func(map[string]any) string {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	switch {
	case prefix == "exports":
		return func(m map[string]any) string { return str(m, "subject") + " " + str(m, "type") }
	case prefix == "imports":
		return func(m map[string]any) string {
			return strings.TrimSpace(str(m, "account") + " " + str(m, "subject") + " " + str(m, "type") + " " + str(m, "local_subject"))
		}
	case strings.HasPrefix(prefix, "mappings"):
		return func(m map[string]any) string { return strings.TrimSpace(str(m, "to") + " " + str(m, "cluster")) }
	}
	return nil
}

func joinPath(prefix, k string) string {
	if strings.ContainsAny(k, ".[] ") || k == "" {
		k = "[" + quote(k) + "]"
		return prefix + k
	}
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// compact is v as JSON, with < > & as they are: subjects are not HTML.
func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

func quote(s string) string { return compact(s) }
