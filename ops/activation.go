package ops

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// GenerateActivationRequest asks for an activation token that lets account Target import
// Subject from a (private) export of account Account.
type GenerateActivationRequest struct {
	Account string // the exporting account's name or public key
	// Signer is the exporting account's key or one of its signing keys (role, public key, seed
	// or seed file); "" lets Signer choose.
	Signer  string
	Target  string // the importing account: a public key, or an account name of this operator
	Subject string // the export's subject or a narrower one
	Service bool   // the service export, when a stream export also covers Subject
	// Start and Expires bound the token's validity (unix seconds, 0 for none).
	Start, Expires int64
}

// ActivationResult is a signed activation token and what it grants.
type ActivationResult struct {
	Token      string // the encoded JWT, undecorated
	Account    string // the exporting account's name
	Target     string // the importing account's public key
	TargetName string // its name, when it belongs to the operator
	Export     *jwt.Export
}

// TargetLabel names the importing account in messages: its quoted name, or its public key.
func (r *ActivationResult) TargetLabel() string {
	return source{pub: r.Target, name: r.TargetName}.label()
}

// GenerateActivation signs an activation token with the exporting account's key that Signer
// chooses. It writes nothing; it takes the store's lock so that it reads a consistent store.
func GenerateActivation(s *store.Store, ks keystore.KeyStore, req GenerateActivationRequest) (*ActivationResult, error) {
	return withLock(s, ks, func(l *Locked) (*ActivationResult, error) { return l.GenerateActivation(req) })
}

// GenerateActivation is GenerateActivation within the caller's locked step.
func (l *Locked) GenerateActivation(req GenerateActivationRequest) (*ActivationResult, error) {
	if req.Target == "" {
		return nil, errors.New("--target-account is required: the account (name or public key) that will import")
	}
	if err := CheckSubject("--subject", req.Subject); err != nil {
		return nil, err
	}
	s := l.Store
	name, err := s.FindAccount(req.Account)
	if err != nil {
		return nil, err
	}
	oc, ac, err := issuers(s, name)
	if err != nil {
		return nil, err
	}
	target, err := resolveAccount(s, "--target-account", req.Target)
	if err != nil {
		return nil, err
	}
	if target.pub == ac.Subject {
		return nil, fmt.Errorf("account %q needs no activation to use its own export", name)
	}
	e, err := exportFor(name, ac, req.Subject, req.Service)
	if err != nil {
		return nil, err
	}
	if !e.TokenReq {
		return nil, fmt.Errorf("%s export %q of account %q is public: any account imports it without an activation; make it private first with `signet edit export -a %s -s %s --private`", e.Type, e.Subject, name, shellquote.Quote(name), shellquote.Quote(string(e.Subject)))
	}
	res := &ActivationResult{Account: name, Target: target.pub, TargetName: target.name, Export: e}
	res.Token, err = SignActivation(l.KeyStore, Activation{
		Target: target.pub, Subject: req.Subject, Export: e, Start: req.Start, Expires: req.Expires,
		OperatorStrict: oc.StrictSigningKeyUsage, Signer: req.Signer, ExportingName: name, ExportingClaims: ac,
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// exportFor finds the export that covers subject; with both kinds covering it, the stream wins
// unless service is set or the service alone is private (nsc chooses among private exports).
func exportFor(account string, ac *jwt.AccountClaims, subject string, service bool) (*jwt.Export, error) {
	stream, svc := CoveringExports(ac, subject)
	switch {
	case service && svc != nil:
		return svc, nil
	case service:
		return nil, fmt.Errorf("account %q exports no service matching %q: add one with `signet add export -a %s -s %s --service --private`", account, subject, shellquote.Quote(account), shellquote.Quote(subject))
	case stream != nil && (stream.TokenReq || svc == nil || !svc.TokenReq):
		return stream, nil
	case svc != nil:
		return svc, nil
	}
	return nil, fmt.Errorf("account %q exports nothing matching %q: add an export with `signet add export -a %s -s %s --private`", account, subject, shellquote.Quote(account), shellquote.Quote(subject))
}

// ActivationRevocationRequest names the activations of one export to revoke, or whose
// revocation to remove.
type ActivationRevocationRequest struct {
	Account string // the exporting account's name or public key
	Signer  string // operator key (-K); "" lets Signer choose
	// Target is the importing account: a public key, an account name of this operator, or
	// jwt.All ("*") for every account.
	Target  string
	Subject string // the export's subject; "" when the account has one export of the kind
	Service bool   // the export is a service (default a stream)
	At      time.Time
}

// RevokeActivation revokes the activations of an export for an account issued at or before At
// (zero is now), and re-signs the exporting account. It takes the store's lock; bad input is an
// error that changes nothing.
func RevokeActivation(s *store.Store, ks keystore.KeyStore, req ActivationRevocationRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.RevokeActivation(req) })
}

// RevokeActivation is RevokeActivation within the caller's locked step.
func (l *Locked) RevokeActivation(req ActivationRevocationRequest) (*AccountChangeResult, error) {
	at := now(req.At)
	return l.activationRevocation(req, func(e *jwt.Export, target string) (string, error) {
		e.RevokeAt(target, at)
		return fmt.Sprintf("revoked activation of %q for account %q (issued at or before %s)", e.Subject, target, time.Unix(e.Revocations[target], 0).UTC().Format("2006-01-02 15:04:05 UTC")), nil
	})
}

// ClearActivationRevocation removes the revocation of an export's activations for an account.
// It takes the store's lock; bad input is an error that changes nothing.
func ClearActivationRevocation(s *store.Store, ks keystore.KeyStore, req ActivationRevocationRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.ClearActivationRevocation(req) })
}

// ClearActivationRevocation is ClearActivationRevocation within the caller's locked step.
func (l *Locked) ClearActivationRevocation(req ActivationRevocationRequest) (*AccountChangeResult, error) {
	return l.activationRevocation(req, func(e *jwt.Export, target string) (string, error) {
		if _, ok := e.Revocations[target]; !ok {
			return "", fmt.Errorf("activation of %q for account %q is not revoked", e.Subject, target)
		}
		e.ClearRevocation(target)
		return fmt.Sprintf("deleted revocation of activation of %q for account %q", e.Subject, target), nil
	})
}

func (l *Locked) activationRevocation(req ActivationRevocationRequest, change func(e *jwt.Export, target string) (string, error)) (*AccountChangeResult, error) {
	var msg, warn string
	acc, err := l.UpdateAccount(AccountUpdate{
		Account: req.Account,
		Signer:  req.Signer,
		Change: func(_ string, ac *jwt.AccountClaims) error {
			target, err := revocationTarget(l.Store, req.Target)
			if err != nil {
				return err
			}
			e, err := RevocationExport(ac, req.Subject, req.Service)
			if err != nil {
				return err
			}
			if !e.TokenReq {
				warn = fmt.Sprintf("export %q is public: it needs no activation, so revoking activations has no effect", e.Subject)
			}
			msg, err = change(e, target)
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	res := &AccountChangeResult{AccountResult: *acc, Changes: []string{msg}}
	if warn != "" {
		res.Warnings = []string{warn}
	}
	return res, nil
}

// revocationTarget resolves the importing account of a revocation to a public key or '*'.
func revocationTarget(s *store.Store, v string) (string, error) {
	switch {
	case v == "":
		return "", errors.New("-t/--target-account is required: the importing account's public key, or '*'")
	case v == jwt.All, nkeys.IsValidPublicAccountKey(v):
		return v, nil
	}
	name, err := s.FindAccount(v)
	if err != nil {
		return "", fmt.Errorf("-t %q: not an account public key, '*', or an account of this operator: %w", v, err)
	}
	ac, _, err := s.Account(name)
	if err != nil {
		return "", err
	}
	return ac.Subject, nil
}

// RevocationExport picks the export whose activations a revocation is about: the one of the kind
// with this subject, or the only one of the kind when subject is "".
func RevocationExport(ac *jwt.AccountClaims, subject string, service bool) (*jwt.Export, error) {
	kind := kindOf(service)
	var same []*jwt.Export
	otherKind := false
	for _, e := range ac.Exports {
		if e.Type != kind {
			if string(e.Subject) == subject {
				otherKind = true
			}
			continue
		}
		if subject == "" || string(e.Subject) == subject {
			same = append(same, e)
		}
	}
	switch {
	case len(same) == 1:
		return same[0], nil
	case len(same) > 1:
		var subs []string
		for _, e := range same {
			subs = append(subs, string(e.Subject))
		}
		return nil, fmt.Errorf("account %q has several %s exports (%s): choose one with -s", ac.Name, kind, strings.Join(subs, ", "))
	case otherKind && service:
		return nil, fmt.Errorf("export %q of account %q is a stream: drop --service", subject, ac.Name)
	case otherKind:
		return nil, fmt.Errorf("export %q of account %q is a service: add --service", subject, ac.Name)
	case subject == "":
		return nil, fmt.Errorf("account %q has no %s exports", ac.Name, kind)
	}
	return nil, fmt.Errorf("account %q has no %s export with subject %q (list them with `signet describe account`)", ac.Name, kind, subject)
}
