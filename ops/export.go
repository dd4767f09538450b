package ops

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// ExportFields are the fields of an export that AddExport and EditExport set: a nil field is
// left as it is (or as AddExport's default).
type ExportFields struct {
	Name              *string
	Private           *bool // an activation token is needed to import
	ResponseType      *string
	ResponseThreshold *time.Duration
	// Latency is the subject where the server publishes latency measurements.
	Latency *string
	// Sampling is the latency sampling: a percentage 1-100 or "headers".
	Sampling             *string
	RmLatency            bool
	AccountTokenPosition *uint
	Advertise            *bool
	AllowTrace           *bool
	Description          *string
	InfoURL              *string
}

// empty reports whether the fields change nothing.
func (x *ExportFields) empty() bool {
	return x.Name == nil && x.Private == nil && x.ResponseType == nil && x.ResponseThreshold == nil &&
		x.Latency == nil && x.Sampling == nil && !x.RmLatency && x.AccountTokenPosition == nil &&
		x.Advertise == nil && x.AllowTrace == nil && x.Description == nil && x.InfoURL == nil
}

// AccountChangeResult is an account as saved after a change to what it shares, with the
// changes and the warnings (jwt/v2's validation included) as lines.
type AccountChangeResult struct {
	AccountResult
	Changes  []string
	Warnings []string
}

// AddExportRequest is a new stream or service export.
type AddExportRequest struct {
	Account string // the account's name or public key
	Signer  string // operator key (-K); "" lets Signer choose
	Subject string // wildcards allowed
	Service bool
	ExportFields
}

// AddExport adds an export to an account and re-signs it. It takes the store's lock; bad input
// is an error that changes nothing.
func AddExport(s *store.Store, ks keystore.KeyStore, req AddExportRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.AddExport(req) })
}

// AddExport is AddExport within the caller's locked step.
func (l *Locked) AddExport(req AddExportRequest) (*AccountChangeResult, error) {
	if err := CheckSubject("--subject", req.Subject); err != nil {
		return nil, err
	}
	kind := kindOf(req.Service)
	return l.changeSharing(req.Account, req.Signer, func(name string, ac *jwt.AccountClaims) ([]string, []string, error) {
		for _, e := range ac.Exports {
			if e.Type == kind && string(e.Subject) == req.Subject {
				return nil, nil, fmt.Errorf("account %q already exports %s %q: change it with `signet edit export -a %s -s %s`", name, kind, req.Subject, shellquote.Quote(name), shellquote.Quote(req.Subject))
			}
		}
		e := &jwt.Export{Name: req.Subject, Subject: jwt.Subject(req.Subject), Type: kind}
		if req.Service {
			e.ResponseType = jwt.ResponseTypeSingleton
		}
		if err := req.ExportFields.apply(e); err != nil {
			return nil, nil, err
		}
		ac.Exports.Add(e)
		return []string{fmt.Sprintf("added %s %s export %q to account %q", visibility(e), kind, req.Subject, name)}, nil, nil
	})
}

// EditExportRequest changes the given fields of one export, chosen by its subject.
type EditExportRequest struct {
	Account string
	Signer  string
	Subject string
	Kind    jwt.ExportType // jwt.Unknown, unless a service and a stream export share the subject
	// Service, when set, makes the export a service (true) or a stream (false): importers break.
	Service *bool
	ExportFields
	// ResignAnyway re-signs the account when the request changes no field: nsc's edit export
	// counts --subject, which names the export, as an edit.
	ResignAnyway bool
}

// EditExport changes one export of an account and re-signs it. It takes the store's lock; bad
// input is an error that changes nothing.
func EditExport(s *store.Store, ks keystore.KeyStore, req EditExportRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.EditExport(req) })
}

// EditExport is EditExport within the caller's locked step.
func (l *Locked) EditExport(req EditExportRequest) (*AccountChangeResult, error) {
	if err := CheckSubject("--subject", req.Subject); err != nil {
		return nil, err
	}
	if req.Service == nil && req.ExportFields.empty() && !req.ResignAnyway {
		return nil, errors.New("nothing to edit: give at least one flag (see `signet edit export --help`)")
	}
	return l.changeSharing(req.Account, req.Signer, func(name string, ac *jwt.AccountClaims) ([]string, []string, error) {
		i, err := findExport(name, ac, req.Subject, req.Kind)
		if err != nil {
			return nil, nil, err
		}
		e := ac.Exports[i]
		var warns []string
		if req.Service != nil {
			if m := changeKind(e, kindOf(*req.Service)); m != "" {
				warns = append(warns, m)
			}
		}
		if err := req.ExportFields.apply(e); err != nil {
			return nil, nil, err
		}
		return []string{fmt.Sprintf("edited %s %s export %q of account %q", visibility(e), e.Type, req.Subject, name)}, warns, nil
	})
}

// DeleteExportRequest names the export to remove.
type DeleteExportRequest struct {
	Account string
	Signer  string
	Subject string
	Kind    jwt.ExportType // jwt.Unknown, unless a service and a stream export share the subject
}

// DeleteExport removes one export of an account and re-signs it. It takes the store's lock;
// bad input is an error that changes nothing.
func DeleteExport(s *store.Store, ks keystore.KeyStore, req DeleteExportRequest) (*AccountChangeResult, error) {
	return withLock(s, ks, func(l *Locked) (*AccountChangeResult, error) { return l.DeleteExport(req) })
}

// DeleteExport is DeleteExport within the caller's locked step.
func (l *Locked) DeleteExport(req DeleteExportRequest) (*AccountChangeResult, error) {
	if err := CheckSubject("--subject", req.Subject); err != nil {
		return nil, err
	}
	return l.changeSharing(req.Account, req.Signer, func(name string, ac *jwt.AccountClaims) ([]string, []string, error) {
		i, err := findExport(name, ac, req.Subject, req.Kind)
		if err != nil {
			return nil, nil, err
		}
		e := ac.Exports[i]
		ac.Exports = slices.Delete(ac.Exports, i, i+1)
		return []string{fmt.Sprintf("deleted %s export %q from account %q", e.Type, req.Subject, name)}, nil, nil
	})
}

// changeSharing is the one path by which exports, imports and activation revocations change
// an account: change edits the claims and returns status lines and warnings, jwt/v2 validates
// the whole account the way the server will, and UpdateAccount re-signs and saves it. Nothing
// is written when a step fails.
func (l *Locked) changeSharing(account, signer string, change func(name string, ac *jwt.AccountClaims) (msgs, warns []string, err error)) (*AccountChangeResult, error) {
	var msgs, warns []string
	acc, err := l.UpdateAccount(AccountUpdate{
		Account: account,
		Signer:  signer,
		Change: func(name string, ac *jwt.AccountClaims) error {
			var err error
			if msgs, warns, err = change(name, ac); err != nil {
				return err
			}
			vw, err := ValidateAccount(ac)
			if err != nil {
				return fmt.Errorf("account %q would be invalid, nothing changed: %w", name, err)
			}
			for _, w := range vw {
				warns = append(warns, fmt.Sprintf("account %q: %s", name, w))
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &AccountChangeResult{AccountResult: *acc, Changes: msgs, Warnings: warns}, nil
}

// findExport returns the index of the export with exactly this subject (and kind, unless
// Unknown).
func findExport(account string, ac *jwt.AccountClaims, subject string, kind jwt.ExportType) (int, error) {
	var hits []int
	for i, e := range ac.Exports {
		if string(e.Subject) == subject && (kind == jwt.Unknown || e.Type == kind) {
			hits = append(hits, i)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		var have []string
		for _, e := range ac.Exports {
			have = append(have, fmt.Sprintf("%s %q", e.Type, e.Subject))
		}
		if len(have) == 0 {
			return 0, fmt.Errorf("account %q has no exports", account)
		}
		return 0, fmt.Errorf("account %q has no export with subject %q (it exports %s)", account, subject, strings.Join(have, ", "))
	}
	return 0, fmt.Errorf("account %q has a service and a stream export with subject %q: choose one with --kind service or --kind stream", account, subject)
}

// changeKind makes e a service or a stream export, as nsc's edit export --service does, dropping
// what only a service has when it becomes a stream; it returns the warning, if any.
func changeKind(e *jwt.Export, kind jwt.ExportType) string {
	if e.Type == kind {
		return ""
	}
	e.Type = kind
	if kind == jwt.Service {
		e.ResponseType = jwt.ResponseTypeSingleton
	} else {
		e.ResponseType, e.ResponseThreshold, e.Latency, e.AllowTrace = "", 0, nil, false
	}
	return fmt.Sprintf("changed export type of %q to %s - this will break importers", e.Subject, kind)
}

func visibility(e *jwt.Export) string {
	if e.TokenReq {
		return "private"
	}
	return "public"
}

// kindOf names an export or import type.
func kindOf(service bool) jwt.ExportType {
	if service {
		return jwt.Service
	}
	return jwt.Stream
}

// apply sets the fields given, checking that each fits the export's type.
func (x *ExportFields) apply(e *jwt.Export) error {
	serviceOnly := []struct {
		flag string
		set  bool
	}{
		{"response-type", x.ResponseType != nil}, {"response-threshold", x.ResponseThreshold != nil},
		{"latency", x.Latency != nil}, {"sampling", x.Sampling != nil}, {"allow-trace", x.AllowTrace != nil},
	}
	for _, so := range serviceOnly {
		if so.set && !e.IsService() {
			return fmt.Errorf("--%s applies only to service exports, and %q is a stream export", so.flag, e.Subject)
		}
	}
	if x.Name != nil {
		if strings.TrimSpace(*x.Name) == "" {
			return errors.New("--name: empty name")
		}
		e.Name = *x.Name
	}
	if x.Private != nil {
		e.TokenReq = *x.Private
	}
	if x.ResponseType != nil {
		rt, err := ParseResponseType(*x.ResponseType)
		if err != nil {
			return fmt.Errorf("--response-type: %w", err)
		}
		e.ResponseType = rt
	}
	if x.ResponseThreshold != nil {
		if *x.ResponseThreshold < 0 {
			return fmt.Errorf("--response-threshold %s: must not be negative", *x.ResponseThreshold)
		}
		e.ResponseThreshold = *x.ResponseThreshold
	}
	if err := x.applyLatency(e); err != nil {
		return err
	}
	if x.AccountTokenPosition != nil {
		e.AccountTokenPosition = *x.AccountTokenPosition
	}
	// nats-server checks the token position before an activation and never reads one, so a
	// private export with a position would not be private: nsc refuses it too. Checked on the
	// export as edited, whichever flag made it so (--private on an export that has a position).
	if e.AccountTokenPosition != 0 && e.TokenReq {
		return fmt.Errorf("--account-token-position is only valid for public exports, and %q is private: the importing account's key in the subject is the access check (drop --private, or the position)", e.Subject)
	}
	if x.Advertise != nil {
		e.Advertise = *x.Advertise
	}
	if x.AllowTrace != nil {
		e.AllowTrace = *x.AllowTrace
	}
	if x.Description != nil {
		e.Description = *x.Description
	}
	if x.InfoURL != nil {
		e.InfoURL = *x.InfoURL
	}
	return nil
}

func (x *ExportFields) applyLatency(e *jwt.Export) error {
	if x.RmLatency && (x.Latency != nil || x.Sampling != nil) {
		return errors.New("--rm-latency cannot be combined with --latency or --sampling")
	}
	if x.RmLatency {
		e.Latency = nil
		return nil
	}
	if x.Sampling != nil && x.Latency == nil && e.Latency == nil {
		return errors.New("--sampling needs --latency <subject>: the subject where measurements are published")
	}
	if x.Latency != nil {
		if err := CheckSubject("--latency", *x.Latency); err != nil {
			return err
		}
		if jwt.Subject(*x.Latency).HasWildCards() {
			return fmt.Errorf("--latency %q: the results subject cannot contain wildcards", *x.Latency)
		}
		if e.Latency == nil {
			e.Latency = &jwt.ServiceLatency{Sampling: 100}
		}
		e.Latency.Results = jwt.Subject(*x.Latency)
	}
	if x.Sampling != nil {
		rate, err := ParseSampling(*x.Sampling)
		if err != nil {
			return fmt.Errorf("--sampling: %w", err)
		}
		e.Latency.Sampling = rate
	}
	return nil
}

// CheckSubject checks a subject with jwt/v2's rules and reports every problem in one error;
// what names the subject in the message (a flag, typically).
func CheckSubject(what, subject string) error {
	if subject == "" {
		return fmt.Errorf("%s is required", what)
	}
	vr := jwt.CreateValidationResults()
	jwt.Subject(subject).Validate(vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return fmt.Errorf("%s: %w", what, errs[0])
	}
	if strings.ContainsAny(subject, "\t\r\n\f") {
		return fmt.Errorf("%s: subject %q contains whitespace", what, subject)
	}
	return nil
}
