package exports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// ImportOptions are the inputs of `add import` and `delete import`.
type ImportOptions struct {
	Target
	Name          string
	SrcAccount    string
	RemoteSubject string
	Service       bool
	Token         string
	LocalSubject  string
	Share         bool
	AllowTrace    bool
	Force         bool
	// Kind selects among imports sharing a subject (delete): "service", "stream" or "".
	Kind string
}

// NewCmdAddImport builds `add import`.
func NewCmdAddImport(f *cmdutil.Factory) *cobra.Command {
	o := &ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Add an import of another account's export",
		Long: `Add an import to an account, either from a public export (--src-account and
--remote-subject) or from an activation token for a private export (--token, a file or an
http(s) URL). When the exporting account is in this operator, signet checks that the export
exists, takes its kind (stream or service) from it, and refuses a private export without a token.`,
		Example: `  signet add import -a B --src-account A --remote-subject "news.>" --local-subject "a.news.>"
  signet add import -a B --token help.jwt --local-subject a.help`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunAddImport(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	o.addFlags(fs, "account that imports")
	fs.StringVarP(&o.Name, "name", "n", "", "import name (default the remote subject)")
	fs.StringVar(&o.SrcAccount, "src-account", "", "exporting account: name in this operator or public key")
	fs.StringVar(&o.RemoteSubject, "remote-subject", "", "subject as the exporting account exports it")
	fs.BoolVar(&o.Service, "service", false, "import a service (inferred when the exporting account is local)")
	fs.StringVarP(&o.Token, "token", "u", "", "activation token for a private export: a file or an http(s) URL")
	fs.StringVarP(&o.LocalSubject, "local-subject", "s", "", "subject in the importing account (default the remote subject)")
	fs.BoolVar(&o.Share, "share", false, "service: share the requester's information for latency tracking")
	fs.BoolVar(&o.AllowTrace, "allow-trace", false, "stream: let message traces cross the import")
	fs.BoolVar(&o.Force, "force", false, "add the import even when the local exporting account has no such public export")
	return cmd
}

// RunAddImport adds an import and re-signs the importing account.
func RunAddImport(ctx context.Context, f *cmdutil.Factory, o *ImportOptions) error {
	var act *jwt.ActivationClaims
	var token string
	switch {
	case o.Token != "" && (o.SrcAccount != "" || o.RemoteSubject != "" || o.Service):
		return errors.New("--token carries the exporting account, the subject and the kind: drop --src-account, --remote-subject and --service")
	case o.Token != "":
		var err error
		if token, act, err = loadActivation(ctx, f, o.Token); err != nil {
			return err
		}
		if act.Expires != 0 && act.Expires < f.Now().Unix() {
			return fmt.Errorf("activation token %s expired at %s: ask the exporting account for a new one", o.Token, cmdutil.FormatUnix(act.Expires))
		}
		o.RemoteSubject = string(act.ImportSubject)
		o.Service = act.IsService()
		o.SrcAccount = act.Issuer
		if act.IssuerAccount != "" {
			o.SrcAccount = act.IssuerAccount
		}
		if o.Name == "" {
			o.Name = act.Name
		}
	case o.SrcAccount == "" || o.RemoteSubject == "":
		return errors.New("give --src-account and --remote-subject (public export), or --token (activation token for a private export)")
	}
	if err := validSubject("--remote-subject", o.RemoteSubject); err != nil {
		return err
	}
	if o.LocalSubject != "" {
		if err := validSubject("--local-subject", o.LocalSubject); err != nil {
			return err
		}
	}
	return editAccount(f, o.Target, func(s *store.Store, name string, ac *jwt.AccountClaims) ([]string, error) {
		src, err := resolveAccount(s, "--src-account", o.SrcAccount)
		if err != nil {
			return nil, err
		}
		if src.pub == ac.Subject {
			return nil, fmt.Errorf("account %q cannot import from itself", name)
		}
		if act != nil && act.Subject != ac.Subject {
			other := act.Subject
			if n, err := s.FindAccount(other); err == nil {
				other = fmt.Sprintf("%q (%s)", n, other)
			}
			return nil, fmt.Errorf("the activation token is for account %s, not for %q (%s)", other, name, ac.Subject)
		}
		if src.claims != nil {
			if err := o.checkExport(f, src, ac.Subject, act); err != nil {
				return nil, err
			}
		} else {
			f.IO.Warn("account %s is not in operator %q: its export of %q is not checked", src.pub, s.Name(), o.RemoteSubject)
		}
		kind := kindOf(o.Service)
		if o.Share && !o.Service {
			return nil, fmt.Errorf("--share applies only to service imports, and %q is a stream", o.RemoteSubject)
		}
		if o.AllowTrace && o.Service {
			return nil, fmt.Errorf("--allow-trace applies only to stream imports, and %q is a service", o.RemoteSubject)
		}
		for _, im := range ac.Imports {
			if im.Account == src.pub && im.Type == kind && string(im.Subject) == o.RemoteSubject {
				return nil, fmt.Errorf("account %q already imports %s %q from %s: delete it first with `signet delete import -a %s -s %s`", name, kind, o.RemoteSubject, src.label(), shellquote.Quote(name), shellquote.Quote(ops.ImportKey(im)))
			}
		}
		if o.Service {
			if err := ops.CheckServiceOverlap(ac, o.localKey()); err != nil {
				return nil, err
			}
		}
		im := &jwt.Import{
			Name:         o.Name,
			Subject:      jwt.Subject(o.RemoteSubject),
			Account:      src.pub,
			Token:        token,
			LocalSubject: jwt.RenamingSubject(o.LocalSubject),
			Type:         kind,
			Share:        o.Share,
			AllowTrace:   o.AllowTrace,
		}
		if im.Name == "" {
			im.Name = o.RemoteSubject
		}
		ac.Imports.Add(im)
		return []string{fmt.Sprintf("added %s import %q from account %s to account %q", kind, o.RemoteSubject, src.label(), name)}, nil
	})
}

// localKey is the subject the import will answer to in the importing account.
func (o *ImportOptions) localKey() jwt.Subject {
	if o.LocalSubject != "" {
		return jwt.RenamingSubject(o.LocalSubject).ToSubject()
	}
	return jwt.Subject(o.RemoteSubject)
}

// checkExport verifies, against the local exporting account, that the import has an export to
// import from, and settles the import's kind.
func (o *ImportOptions) checkExport(f *cmdutil.Factory, src source, importer string, act *jwt.ActivationClaims) error {
	stream, service := ops.CoveringExports(src.claims, o.RemoteSubject)
	if act == nil && !o.Service && stream == nil && service != nil {
		o.Service = true // the export says what it is
	}
	e := stream
	if o.Service {
		e = service
	}
	kind := kindOf(o.Service)
	if e == nil {
		msg := fmt.Sprintf("account %s exports no %s matching %q", src.label(), kind, o.RemoteSubject)
		if !o.Force {
			return fmt.Errorf("%s (list its exports with `signet describe account %s`); pass --force to add the import anyway", msg, shellquote.Quote(src.name))
		}
		f.IO.Warn("%s: the server will not honor this import until it does", msg)
		return nil
	}
	if e.AccountTokenPosition > 0 {
		tokens := strings.Split(o.RemoteSubject, ".")
		if pos := int(e.AccountTokenPosition); pos > len(tokens) || tokens[pos-1] != importer {
			return fmt.Errorf("export %q of account %s requires the importing account's public key as token %d of the subject: import %q", e.Subject, src.label(), pos, withToken(string(e.Subject), pos, importer))
		}
	}
	if act != nil {
		if !src.claims.DidSign(act) {
			return fmt.Errorf("the activation token was signed by %s, which is neither the key nor a signing key of account %s", act.Issuer, src.label())
		}
		if e.IsClaimRevoked(act) {
			return fmt.Errorf("account %s revoked this activation of %s export %q: ask for a new one", src.label(), kind, e.Subject)
		}
		return nil
	}
	if e.TokenReq {
		msg := fmt.Sprintf("%s export %q of account %s is private", kind, e.Subject, src.label())
		if !o.Force {
			return fmt.Errorf("%s: it needs an activation token: run `signet generate activation -a %s -t <importing account> -s %s -o act.jwt`, then `signet add import -a <importing account> --token act.jwt`", msg, shellquote.Quote(src.name), shellquote.Quote(o.RemoteSubject))
		}
		f.IO.Warn("%s: without an activation token the server will not honor this import", msg)
	}
	return nil
}

// withToken replaces token pos (1-based) of subject with v.
func withToken(subject string, pos int, v string) string {
	tokens := strings.Split(subject, ".")
	if pos >= 1 && pos <= len(tokens) {
		tokens[pos-1] = v
	}
	return strings.Join(tokens, ".")
}

// source is an account named on the command line: always its public key, and its name and
// claims when it belongs to the operator.
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

// maxTokenSize bounds what is read from a token file or URL: an activation is a few hundred
// bytes, so anything far larger is not one.
const maxTokenSize = 1 << 20

// loadActivation reads an activation token from a file or an http(s) URL; the token may be
// bare or decorated (-----BEGIN NATS ACTIVATION JWT-----).
func loadActivation(ctx context.Context, f *cmdutil.Factory, src string) (string, *jwt.ActivationClaims, error) {
	var data []byte
	var err error
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		data, err = fetch(ctx, f.HTTP, src)
	} else {
		data, err = os.ReadFile(src)
	}
	if err != nil {
		return "", nil, fmt.Errorf("--token: %w", err)
	}
	token, err := jwt.ParseDecoratedJWT(data)
	if err != nil {
		return "", nil, fmt.Errorf("--token %s: %w", src, err)
	}
	act, err := jwt.DecodeActivationClaims(token)
	if err != nil {
		return "", nil, fmt.Errorf("--token %s: not an activation token: %w", src, err)
	}
	vr := jwt.CreateValidationResults()
	act.Validate(vr)
	if errs := vr.Errors(); len(errs) > 0 {
		return "", nil, fmt.Errorf("--token %s: invalid activation: %w", src, errors.Join(errs...))
	}
	return token, act, nil
}

func fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if len(data) > maxTokenSize {
		return nil, fmt.Errorf("fetch %s: more than %d bytes: not an activation token", url, maxTokenSize)
	}
	return data, nil
}

// NewCmdDeleteImport builds `delete import`.
func NewCmdDeleteImport(f *cmdutil.Factory) *cobra.Command {
	o := &ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Delete an import, chosen by its local or remote subject",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunDeleteImport(f, o) },
	}
	fs := cmd.Flags()
	o.addFlags(fs, "account that imports")
	fs.StringVarP(&o.RemoteSubject, "subject", "s", "", "local subject of the import (or its remote subject)")
	fs.StringVar(&o.SrcAccount, "src-account", "", "exporting account, when several imports share the subject")
	fs.StringVar(&o.Kind, "kind", "", "service or stream, when several imports share the subject")
	return cmd
}

// RunDeleteImport removes one import.
func RunDeleteImport(f *cmdutil.Factory, o *ImportOptions) error {
	if err := validSubject("--subject", o.RemoteSubject); err != nil {
		return err
	}
	kind, err := parseKind(o.Kind)
	if err != nil {
		return err
	}
	return editAccount(f, o.Target, func(s *store.Store, name string, ac *jwt.AccountClaims) ([]string, error) {
		srcPub := ""
		if o.SrcAccount != "" {
			src, err := resolveAccount(s, "--src-account", o.SrcAccount)
			if err != nil {
				return nil, err
			}
			srcPub = src.pub
		}
		match := func(im *jwt.Import) bool {
			return (srcPub == "" || im.Account == srcPub) && (kind == jwt.Unknown || im.Type == kind)
		}
		// The local subject is what the account sees, so it wins over the remote one.
		hits := matchingImports(ac, func(im *jwt.Import) bool { return match(im) && ops.ImportKey(im) == o.RemoteSubject })
		if len(hits) == 0 {
			hits = matchingImports(ac, func(im *jwt.Import) bool { return match(im) && string(im.Subject) == o.RemoteSubject })
		}
		switch len(hits) {
		case 0:
			var have []string
			for _, im := range ac.Imports {
				have = append(have, fmt.Sprintf("%s %q", im.Type, ops.ImportKey(im)))
			}
			if len(have) == 0 {
				return nil, fmt.Errorf("account %q has no imports", name)
			}
			return nil, fmt.Errorf("account %q has no import with subject %q (it imports %s)", name, o.RemoteSubject, strings.Join(have, ", "))
		case 1:
		default:
			return nil, fmt.Errorf("account %q has %d imports with subject %q: choose one with --src-account or --kind", name, len(hits), o.RemoteSubject)
		}
		im := ac.Imports[hits[0]]
		ac.Imports = slices.Delete(ac.Imports, hits[0], hits[0]+1)
		return []string{fmt.Sprintf("deleted %s import %q (from %s) from account %q", im.Type, ops.ImportKey(im), im.Account, name)}, nil
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
