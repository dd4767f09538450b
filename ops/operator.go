package ops

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// OperatorSettings are the operator's fields that AddOperator and EditOperator set.
type OperatorSettings struct {
	// SigningKeys are signing keys to add: public key, seed or seed file, or "generate".
	SigningKeys   []string
	RmSigningKeys []string // public keys of signing keys to remove
	ServiceURLs   []string // nats://, tls://, ws:// or wss:// URLs to add
	RmServiceURLs []string
	// AccountServer is the account server URL to set (http(s):// or nats://); RmAccountServer
	// clears it. They are exclusive.
	AccountServer   string
	RmAccountServer bool
	// SystemAccount is the system account: its public key, or (EditOperator) its name.
	SystemAccount string
	// RequireSK turns strict signing-key usage on (EditOperator re-signs what it needs, or
	// refuses); NoRequireSK turns it off.
	RequireSK   bool
	NoRequireSK bool
}

// apply validates every setting, then applies them to oc. It returns status lines and the
// keys it generated or was given as seeds, which the caller stores once the operator is signed.
func (o *OperatorSettings) apply(ks keystore.KeyStore, oc *jwt.OperatorClaims) ([]string, []nkeys.KeyPair, error) {
	var msgs []string
	add, gen, err := resolveSigningKeys(ks, o.SigningKeys, "an operator", "", nkeys.CreateOperator, nkeys.IsValidPublicOperatorKey)
	if err != nil {
		return nil, nil, err
	}
	var rm []string // those that are there: absentSigningKeys warns of the others
	for _, v := range o.RmSigningKeys {
		if slices.Contains(oc.SigningKeys, v) {
			rm = append(rm, v)
		}
	}
	for _, u := range append(append([]string{}, o.ServiceURLs...), o.RmServiceURLs...) {
		if err := validateServiceURL(u); err != nil {
			return nil, nil, err
		}
	}
	if o.AccountServer != "" {
		if !strings.HasPrefix(o.AccountServer, "http://") && !strings.HasPrefix(o.AccountServer, "https://") &&
			!strings.HasPrefix(o.AccountServer, "nats://") && !strings.HasPrefix(o.AccountServer, "tls://") {
			return nil, nil, fmt.Errorf("--account-jwt-server-url %q: want http(s)://host:port/jwt/v1 or nats://host:port", o.AccountServer)
		}
	}
	if o.SystemAccount != "" && !nkeys.IsValidPublicAccountKey(o.SystemAccount) {
		return nil, nil, fmt.Errorf("--system-account %q is not an account public key", o.SystemAccount)
	}
	if o.RmAccountServer && o.AccountServer != "" {
		return nil, nil, errors.New("--rm-account-jwt-server-url and --account-jwt-server-url are exclusive: choose one")
	}
	if o.RequireSK && o.NoRequireSK {
		return nil, nil, errors.New("--require-signing-keys and --no-require-signing-keys are exclusive: choose one")
	}
	for _, p := range add {
		if !slices.Contains(oc.SigningKeys, p) {
			oc.SigningKeys.Add(p)
			msgs = append(msgs, fmt.Sprintf("added signing key %q", p))
		}
	}
	for _, p := range rm {
		oc.SigningKeys = slices.DeleteFunc(oc.SigningKeys, func(x string) bool { return x == p })
		msgs = append(msgs, fmt.Sprintf("removed signing key %q", p))
	}
	for _, u := range o.ServiceURLs {
		if !slices.Contains(oc.OperatorServiceURLs, u) {
			oc.OperatorServiceURLs = append(oc.OperatorServiceURLs, u)
			msgs = append(msgs, fmt.Sprintf("added service url %q", u))
		}
	}
	for _, u := range o.RmServiceURLs {
		oc.OperatorServiceURLs = slices.DeleteFunc(oc.OperatorServiceURLs, func(x string) bool { return x == u })
		msgs = append(msgs, fmt.Sprintf("removed service url %q", u))
	}
	if o.RmAccountServer {
		oc.AccountServerURL = ""
		msgs = append(msgs, "removed account server url")
	}
	if o.AccountServer != "" {
		oc.AccountServerURL = o.AccountServer
		msgs = append(msgs, fmt.Sprintf("set account jwt server url to %q", o.AccountServer))
	}
	if o.SystemAccount != "" {
		oc.SystemAccount = o.SystemAccount
		msgs = append(msgs, fmt.Sprintf("set system account %q", o.SystemAccount))
	}
	if o.RequireSK {
		oc.StrictSigningKeyUsage = true
		msgs = append(msgs, "strict signing key usage set to: true")
	}
	if o.NoRequireSK {
		oc.StrictSigningKeyUsage = false
		msgs = append(msgs, "strict signing key usage set to: false")
	}
	return msgs, gen, nil
}

func validateServiceURL(u string) error {
	for _, p := range []string{"nats://", "tls://", "ws://", "wss://"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("service url %q: want nats://, tls://, ws:// or wss://host:port", u)
}

// AddOperatorRequest describes a new operator.
type AddOperatorRequest struct {
	Name string
	// Signer is the operator's key (-K: seed or seed file) instead of a new one.
	Signer string
	// GenerateSigningKey also generates an operator signing key.
	GenerateSigningKey bool
	Header             Header
	OperatorSettings
	// System also creates the system account SYS with its user sys (CreateSystemAccount).
	System bool
	Now    time.Time // the clock for Header's relative times; zero is now
}

// AddOperatorResult is the operator as stored.
type AddOperatorResult struct {
	Name      string
	PublicKey string
	JWT       string
	Store     *store.Store // the new operator's store
	// KeyGenerated: a new operator key was generated (no Signer), and stored as the given one is.
	KeyGenerated bool
	// SigningKeys are the public keys of the signing keys stored with the operator.
	SigningKeys []string
	Changes     []string // what the settings set, as status lines
	System      *SystemAccountResult
}

// AddOperator creates an operator store: a new key (or Signer's), its settings, a JWT
// self-signed by the operator key, the keys stored first and then the store. With System it
// then adds the system account under the new store's lock. Nothing is written when a check
// fails.
func AddOperator(stores store.Stores, ks keystore.KeyStore, req AddOperatorRequest) (*AddOperatorResult, error) {
	if req.Name == "" {
		return nil, errors.New("operator name is required")
	}
	if err := store.ValidateName(req.Name); err != nil {
		return nil, fmt.Errorf("operator name: %w", err)
	}
	if _, err := stores.Open(req.Name); err == nil {
		return nil, fmt.Errorf("operator %q already exists: choose another name or `signet edit operator`", req.Name)
	}
	kp, err := newOperatorKey(ks, req.Signer)
	if err != nil {
		return nil, err
	}
	pub, _ := kp.PublicKey()
	oc := jwt.NewOperatorClaims(pub)
	oc.Name = req.Name
	if err := req.Header.ApplyGeneric(&oc.GenericFields, &oc.ClaimsData, now(req.Now)); err != nil {
		return nil, err
	}
	var newKeys []nkeys.KeyPair
	if req.GenerateSigningKey {
		sk, err := nkeys.CreateOperator()
		if err != nil {
			return nil, fmt.Errorf("create signing key: %w", err)
		}
		skPub, _ := sk.PublicKey()
		oc.SigningKeys.Add(skPub)
		newKeys = append(newKeys, sk)
	}
	changes, keys, err := req.OperatorSettings.apply(ks, oc)
	if err != nil {
		return nil, err
	}
	newKeys = append(newKeys, keys...)
	seed, _ := kp.Seed() // the new (or -K) key is not in the keystore yet
	token, err := SignOperator(ks, oc, string(seed))
	if err != nil {
		return nil, err
	}
	// Keys first: a store whose keys are missing is worse than a key without a store.
	if err := storeKeys(ks, append([]nkeys.KeyPair{kp}, newKeys...)); err != nil {
		return nil, err
	}
	s, err := stores.Create(req.Name, token, false)
	if err != nil {
		return nil, err
	}
	res := &AddOperatorResult{Name: req.Name, PublicKey: pub, JWT: token, Store: s, KeyGenerated: req.Signer == "", Changes: changes}
	for _, k := range newKeys {
		p, _ := k.PublicKey()
		res.SigningKeys = append(res.SigningKeys, p)
	}
	if req.System {
		if res.System, err = CreateSystemAccount(s, ks); err != nil {
			return nil, fmt.Errorf("operator %q was added, but not its system account: %w", req.Name, err)
		}
		res.JWT = res.System.OperatorJWT
	}
	return res, nil
}

// newOperatorKey is the key of a new operator: spec's (-K) when given, else a new one.
func newOperatorKey(ks keystore.KeyStore, spec string) (nkeys.KeyPair, error) {
	if spec == "" {
		kp, err := nkeys.CreateOperator()
		if err != nil {
			return nil, fmt.Errorf("create operator key: %w", err)
		}
		return kp, nil
	}
	kp, err := ks.ResolveKey(spec)
	if err != nil {
		return nil, fmt.Errorf("-K: %w", err)
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicOperatorKey(pub) {
		return nil, fmt.Errorf("-K: %s is not an operator key", pub)
	}
	if _, err := kp.Seed(); err != nil {
		return nil, fmt.Errorf("-K: %w: give the operator's seed or seed file, not its public key", keystore.ErrMissingKey)
	}
	return kp, nil
}

// SystemAccountResult is the system account CreateSystemAccount made.
type SystemAccountResult struct {
	Account *AddAccountResult
	// SigningKey is the public key of the account signing key generated for the user sys ("" when
	// the operator has no signing keys).
	SigningKey  string
	User        *AddUserResult
	OperatorJWT string // the operator re-signed with its system account set
}

// CreateSystemAccount adds account SYS with user sys and makes it the operator's system
// account. It takes the store's lock.
func CreateSystemAccount(s *store.Store, ks keystore.KeyStore) (*SystemAccountResult, error) {
	return withLock(s, ks, func(l *Locked) (*SystemAccountResult, error) { return l.CreateSystemAccount() })
}

// CreateSystemAccount is CreateSystemAccount within the caller's locked step.
func (l *Locked) CreateSystemAccount() (*SystemAccountResult, error) {
	s, ks := l.Store, l.KeyStore
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	// As nsc: SYS has a signing key, which signs its user sys (an operator may come to require
	// signing keys, and nats-server then accepts only users signed by one), and exports the
	// per-account monitoring services and streams, for accounts to import their own.
	req := AddAccountRequest{Name: "SYS"}
	res := &SystemAccountResult{}
	kp, err := nkeys.CreateAccount()
	if err != nil {
		return nil, fmt.Errorf("create system account signing key: %w", err)
	}
	seed, _ := kp.Seed()
	res.SigningKey, _ = kp.PublicKey()
	req.SigningKeys = []string{string(seed)} // stored with the account
	if res.Account, err = l.AddAccount(req); err != nil {
		return nil, err
	}
	for _, x := range sysExports() {
		if _, err := l.AddExport(x); err != nil {
			return nil, fmt.Errorf("system account export %s: %w", x.Subject, err)
		}
	}
	oc.SystemAccount = res.Account.PublicKey
	if res.OperatorJWT, err = SaveOperatorClaims(s, ks, oc); err != nil {
		return nil, err
	}
	if res.User, err = l.AddUser(AddUserRequest{Account: "SYS", Name: "sys"}); err != nil {
		return nil, err
	}
	return res, nil
}

// sysExports are the exports nsc gives a new system account: each account can import the
// monitoring services ($SYS.REQ.ACCOUNT.<its key>.CONNZ, SUBSZ, JSZ, ...) and streams of its own
// key (the account token position).
func sysExports() []AddExportRequest {
	infoURL := "https://docs.nats.io/nats-server/configuration/sys_accounts"
	str := func(s string) *string { return &s }
	pos := func(n uint) *uint { return &n }
	return []AddExportRequest{{
		Account: "SYS", Subject: "$SYS.REQ.ACCOUNT.*.*", Service: true,
		ExportFields: ExportFields{Name: str("account-monitoring-services"), ResponseType: str(jwt.ResponseTypeStream),
			AccountTokenPosition: pos(4), InfoURL: str(infoURL),
			Description: str("Request account specific monitoring services for: SUBSZ, CONNZ, LEAFZ, JSZ and INFO")},
	}, {
		Account: "SYS", Subject: "$SYS.ACCOUNT.*.>",
		ExportFields: ExportFields{Name: str("account-monitoring-streams"), AccountTokenPosition: pos(3),
			InfoURL: str(infoURL), Description: str("Account specific monitoring stream")},
	}}
}

// SaveOperatorClaims re-signs the operator with its own key and stores it; it returns the JWT.
// The caller holds the store's lock.
func SaveOperatorClaims(s *store.Store, ks keystore.KeyStore, oc *jwt.OperatorClaims) (string, error) {
	token, err := SignOperator(ks, oc, "")
	if err != nil {
		return "", err
	}
	return token, s.SaveOperator(token)
}

// EditOperatorRequest is a change to the store's operator.
type EditOperatorRequest struct {
	Header Header
	OperatorSettings
	// Signer is the operator identity key's seed or seed file (-K), when the keystore lacks it.
	Signer string
	// AutoPush, when set, is signet's own setting (not in the JWT): push saved accounts by
	// themselves. It alone is an edit that does not re-sign the operator.
	AutoPush *bool
	Now      time.Time // the clock for Header's relative times; zero is now
	// ResignAnyway re-signs the operator when the request changes nothing: nsc counts an edit
	// flag whose value changes nothing (a service URL already there) as an edit.
	ResignAnyway bool
}

// EditOperatorResult is what EditOperator did.
type EditOperatorResult struct {
	Name      string
	PublicKey string
	JWT       string   // the operator's new JWT; "" when only AutoPush changed
	Changes   []string // as status lines
	Warnings  []string // --rm-sk keys that were not signing keys
	AutoPush  *bool    // the AutoPush setting, when the request set it
	// Resigned are the accounts and users re-signed for strict signing-key usage (RequireSK):
	// the caller pushes the accounts. Creds are the creds files rewritten for those users.
	Resigned *StrictResign
	Creds    []string
}

// EditOperator changes the operator's settings and validity, re-signs it with its identity
// key and saves it. Turning on strict signing-key usage re-signs, with signing keys, every
// account and user an identity key signed, or changes nothing when some cannot be. It takes
// the store's lock; nothing is written when a check fails, and an edit that changes nothing
// is an error.
func EditOperator(s *store.Store, ks keystore.KeyStore, req EditOperatorRequest) (*EditOperatorResult, error) {
	return withLock(s, ks, func(l *Locked) (*EditOperatorResult, error) { return l.EditOperator(req) })
}

// EditOperator is EditOperator within the caller's locked step.
func (l *Locked) EditOperator(req EditOperatorRequest) (*EditOperatorResult, error) {
	s, ks := l.Store, l.KeyStore
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	settings := req.OperatorSettings
	if settings.SystemAccount != "" && !nkeys.IsValidPublicAccountKey(settings.SystemAccount) {
		name, err := s.FindAccount(settings.SystemAccount)
		if err != nil {
			return nil, fmt.Errorf("--system-account: %w", err)
		}
		ac, _, err := s.Account(name)
		if err != nil {
			return nil, err
		}
		settings.SystemAccount = ac.Subject
	}
	if settings.SystemAccount != "" {
		if name, err := s.FindAccount(settings.SystemAccount); err == nil {
			if ac, _, err := s.Account(name); err == nil {
				if err := systemJetStream(ac); err != nil {
					return nil, fmt.Errorf("--system-account: %w", err)
				}
			}
		}
	}
	if err := req.Header.ApplyGeneric(&oc.GenericFields, &oc.ClaimsData, now(req.Now)); err != nil {
		return nil, err
	}
	warnings := absentSigningKeys("operator", oc.Name, settings.RmSigningKeys, func(p string) bool { return slices.Contains(oc.SigningKeys, p) })
	changes, keys, err := settings.apply(ks, oc)
	if err != nil {
		return nil, err
	}
	res := &EditOperatorResult{Name: s.Name(), PublicKey: oc.Subject, Changes: changes, Warnings: warnings, AutoPush: req.AutoPush}
	if len(changes) == 0 && !req.Header.Changed() && !req.ResignAnyway {
		if req.AutoPush == nil {
			return nil, errors.New("nothing to edit: give at least one flag (see `signet edit operator --help`)")
		}
		return res, s.SetAutoPush(*req.AutoPush)
	}
	// Signed before anything is written: a missing or wrong key changes nothing.
	if res.JWT, err = SignOperator(ks, oc, req.Signer); err != nil {
		return nil, err
	}
	var added []string // keys this edit brought into the keystore, removed again if it fails
	for _, k := range keys {
		if pub, _ := k.PublicKey(); !ks.Has(pub) {
			added = append(added, pub)
		}
	}
	if err := storeKeys(ks, keys); err != nil {
		return nil, err
	}
	if settings.RequireSK {
		// Planned with the new signing keys in the keystore, so that they can sign.
		if res.Resigned, err = PlanStrictResign(s, ks, oc); err != nil {
			for _, pub := range added {
				_ = ks.Remove(pub)
			}
			return nil, err
		}
	}
	if req.AutoPush != nil {
		if err := s.SetAutoPush(*req.AutoPush); err != nil {
			return nil, err
		}
	}
	if err := s.SaveOperator(res.JWT); err != nil {
		return nil, err
	}
	if res.Resigned != nil {
		if res.Creds, err = res.Resigned.Save(s, ks); err != nil {
			return nil, fmt.Errorf("operator %q saved, but re-signing for strict signing-key usage failed: %w (run the command again to finish)", s.Name(), err)
		}
	}
	return res, nil
}
