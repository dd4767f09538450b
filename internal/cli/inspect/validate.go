package inspect

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// Severity levels of a validation issue. Errors are blocking: the server would refuse the JWT
// (or every connection that depends on it).
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Issue is one finding of validate.
type Issue struct {
	Entity      string `json:"entity"`
	Name        string `json:"name"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
}

// Report is the result of validating an operator's chain.
type Report struct {
	// File and JWTs are set instead of Operator, Accounts and Users by validate --file.
	File     string `json:"file,omitempty"`
	JWTs     int    `json:"jwts,omitempty"`
	Operator string `json:"operator"`
	// Account is set when one account was validated (-a, or the current account), and
	// OtherAccounts counts the operator's accounts that were not.
	Account       string  `json:"account,omitempty"`
	OtherAccounts int     `json:"other_accounts,omitempty"`
	Accounts      int     `json:"accounts"`
	Users         int     `json:"users"`
	Issues        []Issue `json:"issues"`
}

// Blocking counts the errors.
func (r *Report) Blocking() int {
	n := 0
	for _, i := range r.Issues {
		if i.Severity == SeverityError {
			n++
		}
	}
	return n
}

// ValidateOptions are the inputs of validate.
type ValidateOptions struct {
	Account string
	All     bool
	JSON    bool
	// File is nsc's --file: JWTs one a line (nsc's pack format "pub|jwt" too), each decoded,
	// verified and validated on its own, with no store.
	File string
}

// NewCmdValidate builds `validate`.
func NewCmdValidate(f *cmdutil.Factory) *cobra.Command {
	o := &ValidateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Verify every JWT of the operator, the account (or all with -A) and its users, and who signed them",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunValidate(f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.BoolVarP(&o.All, "all", "A", false, "all accounts (the default when no account is selected)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.StringVarP(&o.File, "file", "f", "", "validate the JWTs of this file, one a line (nsc's \"pub|jwt\" too), without a store (exclusive of -a and -A)")
	compat.AliasFlags(fs, map[string]string{"all-accounts": "all"}) // nsc's name
	return cmd
}

// RunValidate validates and prints the report; it exits non-zero when there are errors.
func RunValidate(f *cmdutil.Factory, o *ValidateOptions) error {
	if o.All && o.Account != "" {
		return errors.New("-a/--account and -A/--all are exclusive: choose one")
	}
	if o.File != "" {
		if o.All || o.Account != "" {
			return errors.New("--file is exclusive of -a/--account and -A/--all: choose one")
		}
		rep, err := ValidateFile(o.File)
		if err != nil {
			return err
		}
		return finishValidate(f, o, rep)
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	var accounts []string
	switch {
	case o.Account != "":
		a, err := f.Account(s, o.Account)
		if err != nil {
			return err
		}
		accounts = []string{a}
	case !o.All:
		if a, err := f.Account(s, ""); err == nil {
			accounts = []string{a}
			break
		}
		fallthrough
	default:
		if accounts, err = s.Accounts(); err != nil {
			return err
		}
	}
	rep, err := ValidateStore(s, accounts)
	if err != nil {
		return err
	}
	if !o.All && len(accounts) == 1 {
		if all, err := s.Accounts(); err == nil && len(all) > 1 {
			rep.Account, rep.OtherAccounts = accounts[0], len(all)-1
		}
	}
	return finishValidate(f, o, rep)
}

// finishValidate prints the report and fails when it has errors.
func finishValidate(f *cmdutil.Factory, o *ValidateOptions, rep *Report) error {
	if o.JSON {
		if err := printJSON(f.IO.Out, rep); err != nil {
			return err
		}
	} else {
		printReport(f, rep)
	}
	if n := rep.Blocking(); n > 0 {
		where := fmt.Sprintf("operator %q", rep.Operator)
		if rep.File != "" {
			where = fmt.Sprintf("file %q", rep.File)
		}
		fmt.Fprintf(f.IO.ErrOut, "Error: validation found %s in %s: fix them and run `signet validate` again\n", plural.N(n, "blocking issue"), where)
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

// ValidateFile validates the JWTs of a file, one a line: each must decode and verify, and its
// claims' own validation results are reported (as in nsc, nothing checks who issued it). The
// report's JWTs counts them.
func ValidateFile(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	rep := &Report{File: path, Issues: []Issue{}}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, tok, ok := strings.Cut(line, "|"); ok { // nsc's pack format
			line = tok
		}
		rep.JWTs++
		c := &collector{entity: "jwt", name: fmt.Sprintf("line %d", i+1)}
		claims, err := jwt.Decode(line)
		if err != nil {
			c.add(SeverityError, "JWT does not decode or verify: %v", err)
		} else {
			cd := claims.Claims()
			c.entity = string(claims.ClaimType())
			c.name = cd.Subject
			if cd.Name != "" {
				c.name = cd.Name + " (" + cd.Subject + ")"
			}
			vr := jwt.CreateValidationResults()
			claims.Validate(vr)
			c.results(vr)
		}
		rep.Issues = append(rep.Issues, c.issues...)
	}
	return rep, nil
}

func printReport(f *cmdutil.Factory, rep *Report) {
	if len(rep.Issues) > 0 {
		t := cmdutil.NewTable("Validation Issues")
		t.AppendHeader(table.Row{"Entity", "Name", "Severity", "Issue"})
		for _, i := range rep.Issues {
			t.AppendRow(table.Row{i.Entity, i.Name, i.Severity, i.Description})
		}
		cmdutil.RenderTable(f.IO.Out, t)
	}
	if rep.Blocking() == 0 {
		f.IO.OK("%s", rep.Summary())
	}
}

// Summary says what was validated and how many warnings it drew: the scope in words (one
// account, and how many were left out, or all of them), so that "1 account" is never read as
// the operator's whole store.
func (r *Report) Summary() string {
	warnings := "no warnings"
	if n := len(r.Issues); n > 0 {
		warnings = plural.N(n, "warning")
	}
	users := plural.N(r.Users, "user")
	switch {
	case r.File != "":
		return fmt.Sprintf("file %q: %s validated: %s", r.File, plural.N(r.JWTs, "JWT"), warnings)
	case r.Account != "":
		return fmt.Sprintf("operator %q, account %q and its %s validated: %s; %s not validated (`signet validate -A` validates every account)",
			r.Operator, r.Account, users, warnings, plural.N(r.OtherAccounts, "other account"))
	case r.Accounts == 0:
		return fmt.Sprintf("operator %q validated (it has no accounts): %s", r.Operator, warnings)
	case r.Accounts == 1:
		return fmt.Sprintf("operator %q, its only account and its %s validated: %s", r.Operator, users, warnings)
	}
	return fmt.Sprintf("operator %q, all its %d accounts and their %s validated: %s", r.Operator, r.Accounts, users, warnings)
}

// collector gathers the issues of one entity.
type collector struct {
	entity, name string
	issues       []Issue
}

func (c *collector) add(sev, format string, a ...any) {
	c.issues = append(c.issues, Issue{Entity: c.entity, Name: c.name, Severity: sev, Description: fmt.Sprintf(format, a...)})
}

// results turns jwt/v2 validation results into issues. Time checks (expired, not yet valid)
// are errors, as nsc counts them: a script that runs validate to catch an expired account
// fails on it.
func (c *collector) results(vr *jwt.ValidationResults) {
	for _, i := range vr.Issues {
		sev := SeverityWarning
		if i.Blocking || i.TimeCheck {
			sev = SeverityError
		}
		c.add(sev, "%s", i.Description)
	}
}

// ValidateStore decodes and verifies the operator JWT and those of the given accounts and their
// users, and checks that each was signed by its parent or one of the parent's signing keys.
func ValidateStore(s *store.Store, accounts []string) (*Report, error) {
	rep := &Report{Operator: s.Name(), Issues: []Issue{}}
	oc := validateOperator(s, rep)
	for _, name := range accounts {
		rep.Accounts++
		ac := validateAccount(s, name, oc, rep)
		users, err := s.UserNames(name)
		if err != nil {
			return nil, err
		}
		rep.Users += len(users)
		perUser := make([][]Issue, len(users))
		workers := min(runtime.GOMAXPROCS(0), len(users))
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					perUser[i] = validateUser(s, name, users[i], ac)
				}
			}()
		}
		for i := range users {
			next <- i
		}
		close(next)
		wg.Wait()
		for _, is := range perUser {
			rep.Issues = append(rep.Issues, is...)
		}
	}
	return rep, nil
}

func validateOperator(s *store.Store, rep *Report) *jwt.OperatorClaims {
	c := &collector{entity: "operator", name: s.Name()}
	defer func() { rep.Issues = append(rep.Issues, c.issues...) }()
	tok, err := s.OperatorJWT()
	if err != nil {
		c.add(SeverityError, "%v", err)
		return nil
	}
	oc, err := jwt.DecodeOperatorClaims(tok)
	if err != nil {
		c.add(SeverityError, "JWT does not decode or verify: %v", err)
		return nil
	}
	vr := jwt.CreateValidationResults()
	oc.Validate(vr)
	c.results(vr)
	if oc.Issuer != oc.Subject && !slices.Contains(oc.SigningKeys, oc.Issuer) {
		c.add(SeverityError, "signed by %s, which is neither the operator nor one of its signing keys", oc.Issuer)
	}
	if oc.Name != s.Name() {
		c.add(SeverityWarning, "JWT names the operator %q but its store is %q", oc.Name, s.Name())
	}
	switch {
	case oc.SystemAccount == "":
		c.add(SeverityWarning, "no system account: servers need one for monitoring and the nats resolver; set one with `signet edit operator --system-account PUBKEY`")
	default:
		name, err := s.FindAccount(oc.SystemAccount)
		if err != nil {
			sev := SeverityError
			if s.Info.Managed {
				sev = SeverityWarning // a managed operator's system account lives with the operator's owner
			}
			c.add(sev, "system account %s is not in the store", oc.SystemAccount)
			break
		}
		// Checked with the operator, so that validating one other account reports it too.
		if ac, _, err := s.Account(name); err == nil {
			if err := ops.CheckSystemAccountJetStream(oc, ac); err != nil {
				c.add(SeverityError, "%v", err)
			}
		}
	}
	return oc
}

func validateAccount(s *store.Store, name string, oc *jwt.OperatorClaims, rep *Report) *jwt.AccountClaims {
	c := &collector{entity: "account", name: name}
	defer func() { rep.Issues = append(rep.Issues, c.issues...) }()
	tok, err := s.AccountJWT(name)
	if err != nil {
		c.add(SeverityError, "%v", err)
		return nil
	}
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		c.add(SeverityError, "JWT does not decode or verify: %v", err)
		return nil
	}
	vr := jwt.CreateValidationResults()
	ac.Validate(vr)
	c.results(vr)
	if ac.Name != name {
		c.add(SeverityWarning, "JWT names the account %q but it is stored as %q", ac.Name, name)
	}
	if oc == nil {
		return ac
	}
	switch {
	case ac.Issuer == oc.Subject && oc.StrictSigningKeyUsage:
		c.add(SeverityError, "signed by the operator identity key, but the operator requires signing keys: re-sign it with `signet edit account %s -K <operator signing key>`", shellquote.Quote(name))
	case ac.Issuer == oc.Subject, slices.Contains(oc.SigningKeys, ac.Issuer):
	default:
		c.add(SeverityError, "signed by %s, which is neither operator %q nor one of its signing keys", ac.Issuer, oc.Name)
	}
	return ac
}

func validateUser(s *store.Store, account, name string, ac *jwt.AccountClaims) []Issue {
	c := &collector{entity: "user", name: account + "/" + name}
	tok, err := s.UserJWT(account, name)
	if err != nil {
		c.add(SeverityError, "%v", err)
		return c.issues
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		c.add(SeverityError, "JWT does not decode or verify: %v", err)
		return c.issues
	}
	vr := jwt.CreateValidationResults()
	uc.Validate(vr)
	c.results(vr)
	if uc.Name != name {
		c.add(SeverityWarning, "JWT names the user %q but it is stored as %q", uc.Name, name)
	}
	if ac == nil {
		return c.issues
	}
	switch {
	case uc.Issuer == ac.Subject:
		if uc.IssuerAccount != "" && uc.IssuerAccount != ac.Subject {
			c.add(SeverityError, "issuer_account %s is not account %s", uc.IssuerAccount, ac.Subject)
		}
	case ac.SigningKeys.Contains(uc.Issuer):
		if uc.IssuerAccount != ac.Subject {
			c.add(SeverityError, "signed by signing key %s but issuer_account is %q, not %s", uc.Issuer, uc.IssuerAccount, ac.Subject)
		}
		if scope := ops.UserScope(uc, ac); scope != nil {
			if err := scope.ValidateScopedSigner(uc); err != nil {
				c.add(SeverityError, "scoped signing key %s (role %q): %v", uc.Issuer, scope.Role, err)
			} else if _, warnings, err := authz.ExpandScopedUser(scope, uc, ac); err != nil {
				c.add(SeverityError, "%v", err)
			} else {
				for _, w := range warnings {
					c.add(SeverityWarning, "template: %s", w)
				}
			}
		}
	default:
		c.add(SeverityError, "signed by %s, which is neither account %q nor one of its signing keys", uc.Issuer, ac.Name)
	}
	if ac.Revocations.IsRevoked(uc.Subject, time.Unix(uc.IssuedAt, 0)) {
		c.add(SeverityWarning, "revoked: the server refuses this JWT")
	}
	// ops' rule, the server's: a scoped user is a bearer user when its signing key's template
	// says so; a user with a wrong issuer_account is no user of this account (reported above).
	if ac.Limits.DisallowBearer && ops.IsBearerUser(uc, ac) {
		qa := shellquote.Quote(account)
		fix := fmt.Sprintf("signet edit user %s -a %s --bearer=false", shellquote.Quote(name), qa)
		if scope := ops.UserScope(uc, ac); scope != nil {
			fix = fmt.Sprintf("signet edit signing-key %s -a %s --bearer=false", uc.Issuer, qa)
		}
		c.add(SeverityError, "bearer token, but account %q disallows bearer tokens: the server refuses this user; clear it with `%s`, or allow them with `signet edit account %s --disallow-bearer=false`",
			ac.Name, fix, qa)
	}
	return c.issues
}
