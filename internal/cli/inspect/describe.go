package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// OutputOptions choose how describe prints a JWT: a table (default), the JWT body as JSON, one
// field of it, or the encoded JWT; on stdout or into a file. The flags are nsc's, with nsc's
// precedence when several are given: --raw, then --field, then --json.
type OutputOptions struct {
	JSON       bool
	Field      string
	Raw        bool
	LongIDs    bool
	OutputFile string
}

// stdoutFile is nsc's name for stdout in --output-file.
const stdoutFile = "--"

// AddFlags binds -J/--json, -F/--field, -R/--raw, -W/--long-ids and -o/--output-file.
func (o *OutputOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.JSON, "json", "J", false, "print the JWT body as JSON")
	fs.StringVarP(&o.Field, "field", "F", "", "print one field of the JWT body as JSON (a string is quoted): a path such as sub, nats.limits.conn or nats.signing_keys[0]")
	fs.BoolVarP(&o.Raw, "raw", "R", false, "print the encoded JWT (armored when written to a file)")
	fs.BoolVarP(&o.LongIDs, "long-ids", "W", false, "show full public keys; accepted for nsc compatibility, signet never shortens keys")
	fs.StringVarP(&o.OutputFile, "output-file", "o", stdoutFile, "write to this file instead of stdout ('--' is stdout)")
}

func (o *OutputOptions) toStdout() bool { return o.OutputFile == "" || o.OutputFile == stdoutFile }

// write prints token as the options ask; table renders the default view. kind names the JWT in
// the status line of a file write ("operator", "account", ...).
func (o *OutputOptions) write(f *cmdutil.Factory, kind, token string, table func(w io.Writer)) error {
	var out []byte
	what := "description"
	switch {
	case o.Raw:
		what = "jwt"
		if o.toStdout() {
			out = []byte(token + "\n")
		} else {
			armored, err := jwt.DecorateJWT(token)
			if err != nil {
				return fmt.Errorf("armor JWT: %w", err)
			}
			out = armored
		}
	case o.Field != "":
		v, err := Field(token, o.Field)
		if err != nil {
			return err
		}
		out = v
		if o.toStdout() {
			out = append(out, '\n')
		}
	case o.JSON:
		v, err := bodyJSON(token)
		if err != nil {
			return err
		}
		out = v
		if o.toStdout() {
			// nsc prints the encoder's line and then a newline of its own.
			out = append(out, '\n')
		}
	default:
		if o.toStdout() {
			table(f.IO.Out) // fitted to the terminal, if stdout is one
			return nil
		}
		var buf bytes.Buffer
		table(&buf)
		out = buf.Bytes()
	}
	if o.toStdout() {
		_, err := f.IO.Out.Write(out)
		return err
	}
	path := o.OutputFile
	if !filepath.IsAbs(path) && f.Getwd != nil {
		wd, err := f.Getwd()
		if err != nil {
			return fmt.Errorf("resolve %s: %w", path, err)
		}
		path = filepath.Join(wd, path)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f.IO.OK("wrote %s %s to %#q", kind, what, path)
	return nil
}

// printJSON writes v as indented JSON without escaping <, > and &, which are common in
// subjects ("a.>").
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	return nil
}

// DescribeOptions are the inputs of describe operator/account/user.
type DescribeOptions struct {
	Name    string
	Account string
	Output  OutputOptions
}

// NewCmdDescribeOperator builds `describe operator`.
func NewCmdDescribeOperator(f *cmdutil.Factory) *cobra.Command {
	o := &DescribeOptions{}
	cmd := &cobra.Command{
		Use:   "operator [NAME|PUBKEY]",
		Short: "Describe an operator (the current one by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunDescribeOperator(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Name, "name", "n", "", "operator name or public key")
	o.Output.AddFlags(cmd.Flags())
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindOperator, "name")
	return cmd
}

// openOperator opens an operator store by name or public key ("" = current).
func openOperator(f *cmdutil.Factory, nameOrKey string) (*store.Store, error) {
	if !nkeys.IsValidPublicOperatorKey(nameOrKey) {
		return f.Operator(nameOrKey)
	}
	stores, err := f.Stores()
	if err != nil {
		return nil, err
	}
	ops, err := stores.Operators()
	if err != nil {
		return nil, err
	}
	for _, name := range ops {
		s, err := stores.Open(name)
		if err != nil {
			continue
		}
		tok, err := s.OperatorJWT()
		if err != nil {
			continue
		}
		if sub, _ := store.PeekSubject(tok); sub == nameOrKey {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no operator with public key %s in %s: list them with `signet list operators`", nameOrKey, stores.Dir)
}

// RunDescribeOperator prints an operator.
func RunDescribeOperator(f *cmdutil.Factory, o *DescribeOptions) error {
	s, err := openOperator(f, o.Name)
	if err != nil {
		return err
	}
	oc, tok, err := s.Operator()
	if err != nil {
		return err
	}
	return o.Output.write(f, "operator", tok, func(w io.Writer) {
		renderOperator(w, oc, func(pub string) string {
			n, err := s.FindAccount(pub)
			if err != nil {
				return ""
			}
			return n
		})
	})
}

// NewCmdDescribeAccount builds `describe account`.
func NewCmdDescribeAccount(f *cmdutil.Factory) *cobra.Command {
	o := &DescribeOptions{}
	cmd := &cobra.Command{
		Use:   "account [NAME|PUBKEY]",
		Short: "Describe an account (the current one by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunDescribeAccount(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Name, "name", "n", "", "account name or public key")
	o.Output.AddFlags(cmd.Flags())
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindAccount, "name", "account:a")
	return cmd
}

// RunDescribeAccount prints an account.
func RunDescribeAccount(f *cmdutil.Factory, o *DescribeOptions) error {
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	name, err := f.Account(s, o.Name)
	if err != nil {
		return err
	}
	ac, tok, err := s.Account(name)
	if err != nil {
		return err
	}
	return o.Output.write(f, "account", tok, func(w io.Writer) { renderAccount(w, ac) })
}

// NewCmdDescribeUser builds `describe user`.
func NewCmdDescribeUser(f *cmdutil.Factory) *cobra.Command {
	o := &DescribeOptions{}
	cmd := &cobra.Command{
		Use:   "user [NAME|PUBKEY]",
		Short: "Describe a user; a scoped user's effective permissions are expanded from its signing key's template",
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunDescribeUser(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.Name, "name", "n", "", "user name or public key")
	cmd.Flags().StringVarP(&o.Account, "account", "a", "", "account name or public key")
	o.Output.AddFlags(cmd.Flags())
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindUser, "name")
	return cmd
}

// findUser resolves a user by name or public key; a public key needs no account.
func findUser(f *cmdutil.Factory, s *store.Store, accountFlag, nameOrKey string) (account, name string, err error) {
	if accountFlag == "" && nkeys.IsValidPublicUserKey(nameOrKey) {
		a, u, err := s.FindUserAnyAccount(nameOrKey)
		if err != nil {
			return "", "", fmt.Errorf("%w in operator %q: list users with `signet list users -a ACCOUNT`", err, s.Name())
		}
		return a, u, nil
	}
	account, err = f.Account(s, accountFlag)
	if err != nil {
		return "", "", err
	}
	if nameOrKey == "" {
		name, err := ops.OnlyUser(s, account)
		if err != nil {
			return "", "", fmt.Errorf("%w, as in `signet describe user NAME -a %s`", err, shellquote.Quote(account))
		}
		return account, name, nil
	}
	name, err = s.FindUser(account, nameOrKey)
	if err != nil {
		return "", "", fmt.Errorf("%w: list them with `signet list users -a %s`", err, shellquote.Quote(account))
	}
	return account, name, nil
}

// RunDescribeUser prints a user.
func RunDescribeUser(f *cmdutil.Factory, o *DescribeOptions) error {
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	account, name, err := findUser(f, s, o.Account, o.Name)
	if err != nil {
		return err
	}
	uc, tok, err := s.User(account, name)
	if err != nil {
		return err
	}
	ac, _, err := s.Account(account)
	if err != nil {
		return err
	}
	return o.Output.write(f, "user", tok, func(w io.Writer) { renderUser(w, uc, ac, f.Now()) })
}

// DescribeJWTOptions are the inputs of describe jwt.
type DescribeJWTOptions struct {
	File   string
	Output OutputOptions
}

// NewCmdDescribeJWT builds `describe jwt`.
func NewCmdDescribeJWT(f *cmdutil.Factory) *cobra.Command {
	o := &DescribeJWTOptions{}
	cmd := &cobra.Command{
		Use:   "jwt FILE",
		Short: "Describe a JWT from a file (a JWT, or a creds file; - reads stdin)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunDescribeJWT(f, o)
		},
	}
	cmd.Flags().StringVarP(&o.File, "file", "f", "", "file holding a JWT or a creds file (or the argument)")
	cmdutil.NameArg(cmd, &o.File, cmdutil.KindFile, "file")
	o.Output.AddFlags(cmd.Flags())
	return cmd
}

// readToken reads a JWT from a file holding a bare JWT or a decorated (creds) one. Only the
// JWT is kept: a seed in the same file is never printed.
func readToken(f *cmdutil.Factory, path string) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(f.IO.In, 4<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read JWT file: %w", err)
	}
	tok, err := jwt.ParseDecoratedJWT(data)
	if err != nil {
		return "", fmt.Errorf("read JWT from %s: %w", path, err)
	}
	tok = strings.TrimSpace(tok)
	if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("%s holds no JWT (expected a JWT or a creds file)", path)
	}
	return tok, nil
}

// RunDescribeJWT prints a JWT from a file after verifying its signature.
func RunDescribeJWT(f *cmdutil.Factory, o *DescribeJWTOptions) error {
	if o.File == "" {
		return errors.New("a file is required: signet describe jwt -f FILE")
	}
	tok, err := readToken(f, o.File)
	if err != nil {
		return err
	}
	claims, err := jwt.Decode(tok)
	if err != nil {
		return fmt.Errorf("decode JWT from %s: %w", o.File, err)
	}
	return o.Output.write(f, string(claims.ClaimType()), tok, func(w io.Writer) {
		switch c := claims.(type) {
		case *jwt.OperatorClaims:
			renderOperator(w, c, func(string) string { return "" })
		case *jwt.AccountClaims:
			renderAccount(w, c)
		case *jwt.UserClaims:
			renderUser(w, c, accountOf(f, c), f.Now())
		case *jwt.ActivationClaims:
			renderActivation(w, c)
		case *jwt.GenericClaims:
			renderGeneric(w, c)
		default:
			fmt.Fprintf(w, "%s JWT for %s\n", claims.ClaimType(), claims.Claims().Subject)
		}
	})
}

// accountOf finds the account of a user JWT in the current operator's store, so that a scoped
// user's permissions can be expanded; nil when it is not there.
func accountOf(f *cmdutil.Factory, uc *jwt.UserClaims) *jwt.AccountClaims {
	pub := uc.IssuerAccount
	if pub == "" {
		pub = uc.Issuer
	}
	s, err := f.Operator("")
	if err != nil {
		return nil
	}
	name, err := s.FindAccount(pub)
	if err != nil {
		return nil
	}
	ac, _, err := s.Account(name)
	if err != nil {
		return nil
	}
	return ac
}
