package ops

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// AddImportRequest is a new import: from a public export (SrcAccount and RemoteSubject), or
// from an activation token for a private export (Token, which carries the exporting account,
// the subject and the kind).
type AddImportRequest struct {
	Account       string // the importing account's name or public key
	Signer        string // operator key (-K); "" lets Signer choose
	Name          string // "" is the token's name, or the remote subject
	SrcAccount    string // exporting account: a name of this operator or a public key
	RemoteSubject string
	Service       bool // a service import; else a stream import (as nsc, whatever the export is)
	// Token is an activation token (bare or decorated); TokenSource names it in messages.
	Token, TokenSource string
	LocalSubject       string // "" is the remote subject
	Share              bool   // service: share the requester's information for latency tracking
	AllowTrace         bool   // stream: let message traces cross the import
	// Force silences the warnings of an import the local exporting account does not export
	// publicly (missing, of the other kind, or private without Token): it is added either way.
	Force bool
	Now   time.Time // the clock for the token's expiry; zero is now
}

// AddImport adds an import to an account and re-signs it. As nsc, it adds the import the
// request asks for even when the exporting account (in the store) does not export it, or not
// of that kind, or privately while no token is given: the result carries a warning instead.
// A token must be signed by the exporting account and not revoked. It takes the store's lock;
// bad input is an error that changes nothing.
func AddImport(s *store.Store, ks keystore.KeyStore, req AddImportRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.AddImport(req) })
}

// AddImport is AddImport within the caller's locked step.
func (l *Locked) AddImport(req AddImportRequest) (*AccountChangeResult, error) {
	act, err := req.settle()
	if err != nil {
		return nil, err
	}
	if err := CheckSubject("--remote-subject", req.RemoteSubject); err != nil {
		return nil, err
	}
	if req.LocalSubject != "" {
		if err := CheckSubject("--local-subject", req.LocalSubject); err != nil {
			return nil, err
		}
	}
	s := l.Store
	return l.changeSharing(req.Account, req.Signer, func(name string, ac *jwt.AccountClaims) ([]string, []string, error) {
		var warns []string
		src, err := resolveAccount(s, "--src-account", req.SrcAccount)
		if err != nil {
			return nil, nil, err
		}
		if src.pub == ac.Subject {
			return nil, nil, fmt.Errorf("account %q cannot import from itself", name)
		}
		if act != nil && act.Subject != ac.Subject {
			other := act.Subject
			if n, err := s.FindAccount(other); err == nil {
				other = fmt.Sprintf("%q (%s)", n, other)
			}
			return nil, nil, fmt.Errorf("the activation token is for account %s, not for %q (%s)", other, name, ac.Subject)
		}
		if src.claims != nil {
			w, err := req.checkExport(src, ac.Subject, act)
			if err != nil {
				return nil, nil, err
			}
			warns = append(warns, w...)
		} else {
			warns = append(warns, fmt.Sprintf("account %s is not in operator %q: its export of %q is not checked", src.pub, s.Name(), req.RemoteSubject))
		}
		kind := kindOf(req.Service)
		if req.Share && !req.Service {
			return nil, nil, fmt.Errorf("--share applies only to service imports, and %q is a stream", req.RemoteSubject)
		}
		if req.AllowTrace && req.Service {
			return nil, nil, fmt.Errorf("--allow-trace applies only to stream imports, and %q is a service", req.RemoteSubject)
		}
		for _, im := range ac.Imports {
			if im.Account == src.pub && im.Type == kind && string(im.Subject) == req.RemoteSubject {
				return nil, nil, fmt.Errorf("account %q already imports %s %q from %s: delete it first with `signet delete import -a %s -s %s`", name, kind, req.RemoteSubject, src.label(), shellquote.Quote(name), shellquote.Quote(ImportKey(im)))
			}
		}
		if req.Service {
			if err := CheckServiceOverlap(ac, req.localKey()); err != nil {
				return nil, nil, err
			}
		}
		im := &jwt.Import{
			Name:         req.Name,
			Subject:      jwt.Subject(req.RemoteSubject),
			Account:      src.pub,
			Token:        act.token(),
			LocalSubject: jwt.RenamingSubject(req.LocalSubject),
			Type:         kind,
			Share:        req.Share,
			AllowTrace:   req.AllowTrace,
		}
		if im.Name == "" {
			im.Name = req.RemoteSubject
		}
		ac.Imports.Add(im)
		return []string{fmt.Sprintf("added %s import %q from account %s to account %q", kind, req.RemoteSubject, src.label(), name)}, warns, nil
	})
}

// activation is a decoded activation token with its encoded form.
type activation struct {
	*jwt.ActivationClaims
	encoded string
}

func (a *activation) token() string {
	if a == nil {
		return ""
	}
	return a.encoded
}

// settle decodes the token, if any, and takes the exporting account, subject, kind and name
// from it; without one, the exporting account and the subject are required.
func (req *AddImportRequest) settle() (*activation, error) {
	switch {
	case req.Token != "" && (req.SrcAccount != "" || req.RemoteSubject != "" || req.Service):
		return nil, errors.New("--token carries the exporting account, the subject and the kind: drop --src-account, --remote-subject and --service")
	case req.Token == "":
		if req.SrcAccount == "" || req.RemoteSubject == "" {
			return nil, errors.New("give --src-account and --remote-subject (public export), or --token (activation token for a private export)")
		}
		return nil, nil
	}
	src := req.TokenSource
	if src == "" {
		src = "(given)"
	}
	token, err := jwt.ParseDecoratedJWT([]byte(req.Token))
	if err != nil {
		return nil, fmt.Errorf("--token %s: %w", src, err)
	}
	act, err := jwt.DecodeActivationClaims(token)
	if err != nil {
		return nil, fmt.Errorf("--token %s: not an activation token: %w", src, err)
	}
	vr := jwt.CreateValidationResults()
	act.Validate(vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("--token %s: invalid activation: %w", src, errors.Join(errs...))
	}
	if act.Expires != 0 && act.Expires < now(req.Now).Unix() {
		return nil, fmt.Errorf("activation token %s expired at %s: ask the exporting account for a new one", src, time.Unix(act.Expires, 0).UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	req.RemoteSubject = string(act.ImportSubject)
	req.Service = act.IsService()
	if req.Service && req.LocalSubject == "" {
		// nsc writes a service import made from a token with its local subject set to the
		// subject; the server routes it the same either way, a diff of the claims would not.
		req.LocalSubject = req.RemoteSubject
	}
	req.SrcAccount = act.Issuer
	if act.IssuerAccount != "" {
		req.SrcAccount = act.IssuerAccount
	}
	if req.Name == "" {
		req.Name = act.Name
	}
	return &activation{ActivationClaims: act, encoded: token}, nil
}

// localKey is the subject the import will answer to in the importing account.
func (req *AddImportRequest) localKey() jwt.Subject {
	if req.LocalSubject != "" {
		return jwt.RenamingSubject(req.LocalSubject).ToSubject()
	}
	return jwt.Subject(req.RemoteSubject)
}

// checkExport checks the import against the local exporting account. nsc adds an import
// whatever the exporting account exports, and so does checkExport: an export that is missing
// (not yet added), of the other kind, or private while no token is given is a warning (the
// server will not honor the import until it is fixed), silenced by Force. A token the account
// did not sign or revoked, and a subject without the importer's key where the export wants it,
// are errors.
func (req *AddImportRequest) checkExport(src source, importer string, act *activation) ([]string, error) {
	stream, service := CoveringExports(src.claims, req.RemoteSubject)
	e, other := stream, service
	if req.Service {
		e, other = service, stream
	}
	kind := kindOf(req.Service)
	// The token is checked whatever the exports say: a token the account did not sign is
	// refused even where the export is not there (yet).
	if act != nil && !src.claims.DidSign(act.ActivationClaims) {
		return nil, fmt.Errorf("the activation token was signed by %s, which is neither the key nor a signing key of account %s", act.Issuer, src.label())
	}
	if e == nil {
		if req.Force {
			return nil, nil
		}
		msg := fmt.Sprintf("account %s does not export %s %q (yet): the server will not honor this import until it does (list its exports with `signet describe account %s`)",
			src.label(), kind, req.RemoteSubject, shellquote.Quote(src.name))
		if other != nil {
			flag := "without --service"
			if !req.Service {
				flag = "with --service"
			}
			msg = fmt.Sprintf("account %s exports %q as a %s, not a %s: the server will not honor this %s import (import it %s)",
				src.label(), other.Subject, kindOf(!req.Service), kind, kind, flag)
		}
		return []string{msg}, nil
	}
	if e.AccountTokenPosition > 0 {
		tokens := strings.Split(req.RemoteSubject, ".")
		if pos := int(e.AccountTokenPosition); pos > len(tokens) || tokens[pos-1] != importer {
			return nil, fmt.Errorf("export %q of account %s requires the importing account's public key as token %d of the subject: import %q", e.Subject, src.label(), pos, withToken(string(e.Subject), pos, importer))
		}
	}
	if act != nil {
		if e.IsClaimRevoked(act.ActivationClaims) {
			return nil, fmt.Errorf("account %s revoked this activation of %s export %q: ask for a new one", src.label(), kind, e.Subject)
		}
		return nil, nil
	}
	if e.TokenReq && !req.Force {
		return []string{fmt.Sprintf("%s export %q of account %s is private: the server will not honor this import without an activation token; get one with `signet generate activation -a %s -t <importing account> -s %s -o act.jwt`, then import with `signet add import -a <importing account> --token act.jwt`",
			kind, e.Subject, src.label(), shellquote.Quote(src.name), shellquote.Quote(req.RemoteSubject))}, nil
	}
	return nil, nil
}

// withToken replaces token pos (1-based) of subject with v.
func withToken(subject string, pos int, v string) string {
	tokens := strings.Split(subject, ".")
	if pos >= 1 && pos <= len(tokens) {
		tokens[pos-1] = v
	}
	return strings.Join(tokens, ".")
}

// source is an account named in a request: always its public key, and its name and claims
// when it belongs to the operator.
type source struct {
	pub    string
	name   string
	claims *jwt.AccountClaims
}

func (a source) label() string {
	if a.name != "" {
		return fmt.Sprintf("%q", a.name)
	}
	return a.pub
}

// resolveAccount finds an account by name in the store, or takes a public key (which may name
// an account of another operator).
func resolveAccount(s *store.Store, flag, v string) (source, error) {
	name, err := s.FindAccount(v)
	if err != nil {
		if nkeys.IsValidPublicAccountKey(v) && errors.Is(err, store.ErrNotFound) {
			return source{pub: v}, nil
		}
		return source{}, fmt.Errorf("%s: %w: give an account name of operator %q or an account public key", flag, err, s.Name())
	}
	ac, _, err := s.Account(name)
	if err != nil {
		return source{}, err
	}
	return source{pub: ac.Subject, name: name, claims: ac}, nil
}

// DeleteImportRequest names the import to remove: by its local subject, or else its remote
// one.
type DeleteImportRequest struct {
	Account    string
	Signer     string
	Subject    string
	SrcAccount string         // the exporting account, when several imports share the subject
	Kind       jwt.ExportType // jwt.Unknown, unless several imports share the subject
}

// DeleteImport removes one import of an account and re-signs it. It takes the store's lock;
// bad input is an error that changes nothing.
func DeleteImport(s *store.Store, ks keystore.KeyStore, req DeleteImportRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.DeleteImport(req) })
}

// DeleteImport is DeleteImport within the caller's locked step.
func (l *Locked) DeleteImport(req DeleteImportRequest) (*AccountChangeResult, error) {
	if err := CheckSubject("--subject", req.Subject); err != nil {
		return nil, err
	}
	s := l.Store
	return l.changeSharing(req.Account, req.Signer, func(name string, ac *jwt.AccountClaims) ([]string, []string, error) {
		srcPub := ""
		if req.SrcAccount != "" {
			src, err := resolveAccount(s, "--src-account", req.SrcAccount)
			if err != nil {
				return nil, nil, err
			}
			srcPub = src.pub
		}
		match := func(im *jwt.Import) bool {
			return (srcPub == "" || im.Account == srcPub) && (req.Kind == jwt.Unknown || im.Type == req.Kind)
		}
		// The local subject is what the account sees, so it wins over the remote one.
		hits := matchingImports(ac, func(im *jwt.Import) bool { return match(im) && ImportKey(im) == req.Subject })
		if len(hits) == 0 {
			hits = matchingImports(ac, func(im *jwt.Import) bool { return match(im) && string(im.Subject) == req.Subject })
		}
		switch len(hits) {
		case 0:
			var have []string
			for _, im := range ac.Imports {
				have = append(have, fmt.Sprintf("%s %q", im.Type, ImportKey(im)))
			}
			if len(have) == 0 {
				return nil, nil, fmt.Errorf("account %q has no imports", name)
			}
			return nil, nil, fmt.Errorf("account %q has no import with subject %q (it imports %s)", name, req.Subject, strings.Join(have, ", "))
		case 1:
		default:
			return nil, nil, fmt.Errorf("account %q has %d imports with subject %q: choose one with --src-account or --kind", name, len(hits), req.Subject)
		}
		im := ac.Imports[hits[0]]
		ac.Imports = slices.Delete(ac.Imports, hits[0], hits[0]+1)
		return []string{fmt.Sprintf("deleted %s import %q (from %s) from account %q", im.Type, ImportKey(im), im.Account, name)}, nil, nil
	})
}

func matchingImports(ac *jwt.AccountClaims, ok func(*jwt.Import) bool) []int {
	var hits []int
	for i, im := range ac.Imports {
		if ok(im) {
			hits = append(hits, i)
		}
	}
	return hits
}
