package ops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// AccountSettings are what adding or editing an account sets in its claims. The zero value
// changes nothing.
type AccountSettings struct {
	Header Header
	// Limits are the account's limits: connections, subscriptions, payload, data, leaf nodes,
	// imports, exports, and JetStream, global or per tier.
	Limits      authz.AccountLimitOptions
	Description string // "" leaves it
	InfoURL     string // "" leaves it
	// SigningKeys adds signing keys: a public key, seed or seed file, or "generate" for a new
	// one (stored in the keystore with the account).
	SigningKeys        []string
	RmSigningKeys      []string
	DefaultPermissions authz.UserPermOptions // the permissions of users that carry none
	Trace              Trace
}

// Trace is the account's message trace context (jwt.AccountClaims.Trace): where nats-server
// sends the traces of messages that carry a sampled W3C traceparent header, and the percentage
// it samples.
type Trace struct {
	Subject     string
	SubjectSet  bool // Subject is to be set ("" turns tracing off)
	Sampling    int  // 1-100; 0 means 100
	SamplingSet bool
}

// Apply sets the trace context on ac and returns the status lines.
func (o *Trace) Apply(ac *jwt.AccountClaims) ([]string, error) {
	var msgs []string
	if o.SubjectSet && o.Subject != "" {
		if err := authz.ValidateSubject(o.Subject, false); err != nil {
			return nil, fmt.Errorf("--trace-context-subject %q: %w (traces are published there, so no wildcards)", o.Subject, err)
		}
	}
	if o.SamplingSet {
		if o.Sampling < 0 || o.Sampling > 100 {
			return nil, fmt.Errorf("--trace-context-sampling %d: use a percentage from 1 to 100 (0 means 100)", o.Sampling)
		}
		if o.SubjectSet && o.Subject == "" {
			return nil, errors.New("--trace-context-sampling cannot be set while --trace-context-subject \"\" turns tracing off")
		}
		if !o.SubjectSet && (ac.Trace == nil || ac.Trace.Destination == "") {
			return nil, fmt.Errorf("--trace-context-sampling needs a subject for the traces: account %q has none, add --trace-context-subject SUBJECT", ac.Name)
		}
	}
	if o.SubjectSet {
		if o.Subject == "" {
			ac.Trace = nil
			msgs = append(msgs, "disabled trace context")
		} else {
			if ac.Trace == nil {
				ac.Trace = &jwt.MsgTrace{}
			}
			ac.Trace.Destination = jwt.Subject(o.Subject)
			msgs = append(msgs, fmt.Sprintf("changed trace context subject to %q", o.Subject))
		}
	}
	if o.SamplingSet {
		ac.Trace.Sampling = o.Sampling
		if o.Sampling == 0 {
			ac.Trace.Sampling = 100
		}
		msgs = append(msgs, fmt.Sprintf("changed trace context sampling to %d%%", ac.Trace.Sampling))
	}
	return msgs, nil
}

// apply applies the settings to ac and returns the status lines and the keys it generated or
// was given with their seeds (to be stored once the account is signed).
func (a *AccountSettings) apply(ks keystore.KeyStore, ac *jwt.AccountClaims, now time.Time) ([]string, []nkeys.KeyPair, error) {
	if err := a.Header.ApplyGeneric(&ac.GenericFields, &ac.ClaimsData, now); err != nil {
		return nil, nil, err
	}
	msgs, keys, err := applyAccountSigningKeys(ks, ac, a.SigningKeys, a.RmSigningKeys)
	if err != nil {
		return nil, nil, err
	}
	lm, err := a.Limits.Apply(ac)
	if err != nil {
		return nil, nil, err
	}
	msgs = append(msgs, lm...)
	if a.DefaultPermissions.HasPermissionChanges() {
		pm, err := a.DefaultPermissions.ApplyPermissions(&ac.DefaultPermissions)
		if err != nil {
			return nil, nil, err
		}
		msgs = append(msgs, pm...)
	}
	tm, err := a.Trace.Apply(ac)
	if err != nil {
		return nil, nil, err
	}
	msgs = append(msgs, tm...)
	if a.Description != "" {
		ac.Description = a.Description
		msgs = append(msgs, fmt.Sprintf("set description to %q", a.Description))
	}
	if a.InfoURL != "" {
		ac.InfoURL = a.InfoURL
		msgs = append(msgs, fmt.Sprintf("set info url to %q", a.InfoURL))
	}
	return msgs, keys, nil
}

// noBearerUsers refuses --disallow-bearer on an account that has bearer users, as nsc does, and
// counts as one a user that a scoped signing key whose template says --bearer signed (nsc does
// not): nats-server would refuse them all once the account is pushed. ac is the account as the
// edit leaves it.
func noBearerUsers(s *store.Store, account string, ac *jwt.AccountClaims) error {
	users, err := bearerUsers(s, account, ac)
	if err != nil || len(users) == 0 {
		return err
	}
	qa := shellquote.Quote(account)
	var why []string
	for _, u := range users {
		if us := UserScope(u.Claims, ac); us != nil {
			why = append(why, fmt.Sprintf("user %q of account %q is a bearer user through scoped signing key %s (role %q): clear bearer in the scope with `signet edit signing-key -a %s --sk %s --bearer=false`, or re-sign the user with another key (-K)",
				u.Name, account, us.Key, us.Role, qa, scopeName(us)))
			continue
		}
		why = append(why, fmt.Sprintf("user %q of account %q uses a bearer token: change it with `signet edit user %s -a %s --bearer=false`",
			u.Name, account, shellquote.Quote(u.Name), qa))
	}
	return fmt.Errorf("--disallow-bearer: the server would refuse the account's bearer users; change them first (or delete them): %s", strings.Join(why, "; "))
}

// bearerScopeWarning warns of a scoped signing key whose template says --bearer in an account
// that disallows bearer tokens: the server would refuse every user it signs, and add user
// refuses them. ok is false when there is nothing to warn of.
func bearerScopeWarning(account string, ac *jwt.AccountClaims, us *jwt.UserScope) (warning string, ok bool) {
	if !ac.Limits.DisallowBearer || !us.Template.BearerToken {
		return "", false
	}
	return fmt.Sprintf("account %q disallows bearer tokens, but the template of scoped signing key %s (role %q) says --bearer: the server would refuse every user it signs; clear it with `signet edit signing-key -a %s --sk %s --bearer=false`",
		account, us.Key, us.Role, shellquote.Quote(account), scopeName(us)), true
}

// bearerScopeWarnings are the bearerScopeWarning of every scoped signing key of the account.
func bearerScopeWarnings(account string, ac *jwt.AccountClaims) []string {
	var out []string
	for _, k := range ac.SigningKeys.Keys() {
		scope, _ := ac.SigningKeys.GetScope(k)
		if us, ok := scope.(*jwt.UserScope); ok {
			if w, ok := bearerScopeWarning(account, ac, us); ok {
				out = append(out, w)
			}
		}
	}
	return out
}

// namedUser is a stored user: its name in the store and its claims.
type namedUser struct {
	Name   string
	Claims *jwt.UserClaims
}

// bearerUsers are the stored users of account that nats-server reads as bearer users under the
// account claims ac (IsBearerUser).
func bearerUsers(s *store.Store, account string, ac *jwt.AccountClaims) ([]namedUser, error) {
	return storedUsers(s, account, func(uc *jwt.UserClaims) bool { return IsBearerUser(uc, ac) })
}

// storedUsers are the stored users of account that keep accepts.
func storedUsers(s *store.Store, account string, keep func(*jwt.UserClaims) bool) ([]namedUser, error) {
	names, err := s.UserNames(account)
	if err != nil {
		return nil, err
	}
	var out []namedUser
	for _, u := range names {
		uc, _, err := s.User(account, u)
		if err != nil {
			return nil, err
		}
		if keep(uc) {
			out = append(out, namedUser{Name: u, Claims: uc})
		}
	}
	return out, nil
}

// quotedNames lists users' names, quoted, for messages.
func quotedNames(users []namedUser) string {
	q := make([]string, len(users))
	for i, u := range users {
		q[i] = strconv.Quote(u.Name)
	}
	return strings.Join(q, ", ")
}

// applyAccountSigningKeys adds (public key, seed, seed file, or "generate") and removes account
// signing keys.
func applyAccountSigningKeys(ks keystore.KeyStore, ac *jwt.AccountClaims, add, rm []string) ([]string, []nkeys.KeyPair, error) {
	var msgs []string
	pubs, keys, err := resolveSigningKeys(ks, add, "an account", ac.Subject, nkeys.CreateAccount, nkeys.IsValidPublicAccountKey)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range pubs {
		if _, ok := ac.SigningKeys[p]; !ok {
			ac.SigningKeys.Add(p)
			msgs = append(msgs, fmt.Sprintf("added signing key %q", p))
		}
	}
	for _, p := range rm {
		if _, ok := ac.SigningKeys[p]; ok { // one that is not there is absentSigningKeys' warning
			delete(ac.SigningKeys, p)
			msgs = append(msgs, fmt.Sprintf("removed signing key %q", p))
		}
	}
	return msgs, keys, nil
}

// absentSigningKeys warns of each --rm-sk value that is not a signing key of the entity, with
// has telling which are. nsc removes what is there and exits 0 (so that a cleanup can run twice);
// the warning keeps a mistyped key, left in place, from passing unseen.
func absentSigningKeys(kind, name string, rm []string, has func(string) bool) []string {
	var warnings []string
	for _, p := range rm {
		if p != "" && !has(p) {
			warnings = append(warnings, fmt.Sprintf("--rm-sk %s: not a signing key of %s %q, nothing to remove", p, kind, name))
		}
	}
	return warnings
}

// resolveSigningKeys resolves signing keys to add (public key, seed, seed file, or "generate"
// for a new key from create) to their public keys, and returns the keys to store: the generated
// ones and the seeds the keystore lacks. kind names the entity's key kind with its article ("an
// account"); valid checks it; identity, the entity's own key, is refused.
func resolveSigningKeys(ks keystore.KeyStore, specs []string, kind, identity string, create func() (nkeys.KeyPair, error), valid func(string) bool) ([]string, []nkeys.KeyPair, error) {
	var pubs []string
	var keys []nkeys.KeyPair
	for _, v := range specs {
		if v == "generate" {
			kp, err := create()
			if err != nil {
				return nil, nil, fmt.Errorf("generate signing key: %w", err)
			}
			keys = append(keys, kp)
			p, _ := kp.PublicKey()
			pubs = append(pubs, p)
			continue
		}
		kp, err := ks.ResolveKey(v)
		if err != nil {
			return nil, nil, fmt.Errorf("--sk: %w", err)
		}
		p, _ := kp.PublicKey()
		if !valid(p) {
			return nil, nil, fmt.Errorf("--sk: %s is not %s key", p, kind)
		}
		if p == identity {
			return nil, nil, fmt.Errorf("--sk: %s is the identity key, not a signing key", p)
		}
		if _, err := kp.Seed(); err == nil && !ks.Has(p) {
			keys = append(keys, kp)
		}
		pubs = append(pubs, p)
	}
	return pubs, keys, nil
}

// storeKeys puts keys in the keystore.
func storeKeys(ks keystore.KeyStore, keys []nkeys.KeyPair) error {
	for _, k := range keys {
		if _, err := ks.Store(k); err != nil {
			return err
		}
	}
	return nil
}

// EditAccountRequest is a change to an account's settings.
type EditAccountRequest struct {
	Account string // the account's name or public key
	Signer  string // operator key (-K); "" lets Signer choose
	AccountSettings
	// ResignAnyway re-signs an account the settings leave unchanged (nsc counts a flag whose
	// value changes nothing, such as --js-enable -1, --description of the same text or --rm of
	// a subject not there, as an edit); without it, a request that changes nothing is an error.
	ResignAnyway bool
	Now          time.Time // the clock for Header's relative times; zero is now
}

// EditAccountResult is the account as saved, with the changes as status lines.
type EditAccountResult struct {
	AccountResult
	Changes []string
	// Warnings are what the edit leaves that the server will not honor as meant: with
	// --disallow-bearer, a scoped key whose template says --bearer (no user of it is stored).
	Warnings []string
}

// EditAccount changes an account's limits (JetStream tiers included), signing keys, default
// permissions, trace context, description and validity, and re-signs it through
// UpdateAccount. It takes the store's lock; bad input is an error that changes nothing.
func EditAccount(s *store.Store, ks keystore.KeyStore, req EditAccountRequest) (*EditAccountResult, error) {
	return withLock(s, ks, func(l *Locked) (*EditAccountResult, error) { return l.EditAccount(req) })
}

// EditAccount is EditAccount within the caller's locked step.
func (l *Locked) EditAccount(req EditAccountRequest) (*EditAccountResult, error) {
	var msgs, warnings []string
	var keys []nkeys.KeyPair
	acc, err := l.UpdateAccount(AccountUpdate{
		Account: req.Account,
		Signer:  req.Signer,
		Change: func(name string, ac *jwt.AccountClaims) error {
			oc, _, err := l.Store.Operator()
			if err != nil {
				return err
			}
			if err := refuseSystemJetStream(name, oc, ac, &req.Limits); err != nil {
				return err
			}
			warnings = absentSigningKeys("account", name, req.RmSigningKeys, func(p string) bool { _, ok := ac.SigningKeys[p]; return ok })
			if msgs, keys, err = req.apply(l.KeyStore, ac, now(req.Now)); err != nil {
				return err
			}
			if err := CheckSystemAccountJetStream(oc, ac); err != nil {
				return err
			}
			if oc.SystemAccount != ac.Subject {
				nscGlobalJetStreamDefaults(ac, &req.Limits)
			}
			if d := req.Limits.DisallowBearer; d != nil && *d {
				if err := noBearerUsers(l.Store, name, ac); err != nil {
					return err
				}
				warnings = append(warnings, bearerScopeWarnings(name, ac)...)
			}
			if len(msgs) == 0 && !req.Header.Changed() && req.Signer == "" && !req.ResignAnyway {
				return errors.New("nothing to edit: give at least one flag (see `signet edit account --help`)")
			}
			return nil
		},
		BeforeSave: func() error { return storeKeys(l.KeyStore, keys) },
	})
	if err != nil {
		return nil, err
	}
	return &EditAccountResult{AccountResult: *acc, Changes: msgs, Warnings: warnings}, nil
}

// CheckSystemAccountJetStream reports JetStream turned on in ac when ac is oc's system account:
// nats-server refuses to enable JetStream there ("jetstream can not be enabled on the system
// account"), and nsc refuses such limits too.
func CheckSystemAccountJetStream(oc *jwt.OperatorClaims, ac *jwt.AccountClaims) error {
	if oc == nil || oc.SystemAccount == "" || oc.SystemAccount != ac.Subject {
		return nil
	}
	return systemJetStream(ac)
}

// systemJetStream reports JetStream turned on in ac, an account meant to be the system account.
func systemJetStream(ac *jwt.AccountClaims) error {
	if !ac.Limits.IsJSEnabled() {
		return nil
	}
	return fmt.Errorf("account %q has JetStream enabled, which nats-server refuses on the system account: remove it with `signet edit account %s --js-disable`", ac.Name, shellquote.Quote(ac.Name))
}

// refuseSystemJetStream refuses JetStream options other than --js-disable and --rm-js-tier on
// the system account before anything is applied, as nsc does (even values that would leave
// JetStream off): the system account has no use for them.
func refuseSystemJetStream(name string, oc *jwt.OperatorClaims, ac *jwt.AccountClaims, lim *authz.AccountLimitOptions) error {
	if oc.SystemAccount == "" || oc.SystemAccount != ac.Subject {
		return nil
	}
	if lim.HasJetStreamChanges() && !lim.JSDisable && lim.RmJSTier == nil {
		return fmt.Errorf("system account %q cannot have JetStream: nats-server refuses to enable it on the system account; rerun without the --js-* options", name)
	}
	return nil
}

// nscGlobalJetStreamDefaults gives an edited account without global JetStream limits the ones
// nsc's edit account writes (streams, consumers, max ack pending and stream sizes unlimited,
// no storage, so JetStream stays off), unless the edit enables, removes or disables JetStream
// or sets a tier: the claims then match nsc's.
func nscGlobalJetStreamDefaults(ac *jwt.AccountClaims, lim *authz.AccountLimitOptions) {
	if lim.JSEnable != nil || lim.RmJSTier != nil || lim.JSDisable || lim.JSTier != 0 {
		return
	}
	if ac.Limits.JetStreamLimits != (jwt.JetStreamLimits{}) {
		return
	}
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{Streams: -1, Consumer: -1, MaxAckPending: -1, MemoryMaxStreamBytes: -1, DiskMaxStreamBytes: -1}
}
