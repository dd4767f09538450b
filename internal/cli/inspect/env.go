package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/store"
)

// envVars are the environment variables that steer where signet (and nsc) look.
func envVars() []string {
	return []string{"NSC_HOME", "NKEYS_PATH", "NSC_CWD_ONLY", "XDG_CONFIG_HOME", "XDG_DATA_HOME"}
}

// Env is what `env` reports.
type Env struct {
	ConfigDir   string            `json:"config_dir"`
	StoresDir   string            `json:"stores_dir"`
	KeystoreDir string            `json:"keystore_dir"`
	Operator    string            `json:"operator"`
	Account     string            `json:"account"`
	CwdOnly     bool              `json:"cwd_only"`
	Variables   map[string]string `json:"env"`
	Problems    []string          `json:"problems,omitempty"`
}

// EnvOptions are the inputs of `env`: nsc's -s/-o/-a set the current stores folder, operator
// and account in nsc.json before the environment is shown.
type EnvOptions struct {
	JSON     bool
	Store    string
	Operator string
	Account  string
}

// NewCmdEnv builds `env`.
func NewCmdEnv(f *cmdutil.Factory) *cobra.Command {
	o := &EnvOptions{}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Show (or with -s/-o/-a set) the folders, the current operator and account, and the environment signet uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := SetEnv(f, o); err != nil {
				return err
			}
			return RunEnv(f, o.JSON)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.JSON, "json", false, "print as JSON")
	fs.StringVarP(&o.Store, "store", "s", "", "make this the folder of operator stores (recorded in nsc.json)")
	fs.StringVarP(&o.Operator, "operator", "o", "", "make this operator the current one (recorded in nsc.json)")
	fs.StringVarP(&o.Account, "account", "a", "", "make this account of the current operator the current one (recorded in nsc.json)")
	return cmd
}

// SetEnv records the stores folder, operator and account the options name in nsc.json, as
// nsc's env does: each must exist; what is not named is kept when it is still valid, becomes
// the only choice when there is one, and is cleared otherwise.
func SetEnv(f *cmdutil.Factory, o *EnvOptions) error {
	if o.Store == "" && o.Operator == "" && o.Account == "" {
		return nil
	}
	d, err := f.Dirs()
	if err != nil {
		return err
	}
	if d.CwdOnly {
		return errors.New("NSC_CWD_ONLY is set: the context comes from the working directory; cd into a store instead of setting it")
	}
	tc, err := store.LoadToolConfig(d.ConfigDir)
	if err != nil {
		return err
	}
	root := d.StoresDir
	if o.Store != "" {
		if root, err = absPath(f, o.Store); err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		st, err := os.Stat(root)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// As nsc: a new folder becomes the store root, for operators to be added to.
			if err := os.MkdirAll(root, 0o755); err != nil {
				return fmt.Errorf("--store %s: %w", root, err)
			}
		case err != nil:
			return fmt.Errorf("--store %s: %w", root, err)
		case !st.IsDir():
			return fmt.Errorf("--store %s: not a folder", root)
		}
	}
	stores := store.Stores{Dir: root}
	ops, err := stores.Operators()
	if err != nil {
		return err
	}
	operator := soleOrKept(tc.Operator, ops)
	if o.Operator != "" {
		if operator, err = operatorIn(stores, ops, o.Operator); err != nil {
			return err
		}
	}
	account := ""
	if operator != "" {
		s, err := stores.Open(operator)
		if err != nil {
			return err
		}
		accounts, err := s.Accounts()
		if err != nil {
			return err
		}
		account = soleOrKept(tc.Account, accounts)
		if o.Account != "" {
			if account, err = s.FindAccount(o.Account); err != nil {
				return fmt.Errorf("--account: %w: list them with `signet list accounts`", err)
			}
		}
	} else if o.Account != "" {
		return fmt.Errorf("--account %s: no current operator in %s: choose one with --operator", o.Account, root)
	}
	tc.StoreRoot, tc.Operator, tc.Account = root, operator, account
	return tc.Save(d.ConfigDir)
}

// soleOrKept is nsc's default for a choice: the only one, else current if it is still there.
func soleOrKept(current string, choices []string) string {
	if len(choices) == 1 {
		return choices[0]
	}
	for _, c := range choices {
		if c == current {
			return c
		}
	}
	return ""
}

// operatorIn finds an operator of the stores folder by name or public key.
func operatorIn(stores store.Stores, ops []string, nameOrKey string) (string, error) {
	for _, name := range ops {
		if name == nameOrKey {
			return name, nil
		}
	}
	if nkeys.IsValidPublicOperatorKey(nameOrKey) {
		for _, name := range ops {
			if s, err := stores.Open(name); err == nil {
				if tok, err := s.OperatorJWT(); err == nil {
					if sub, _ := store.PeekSubject(tok); sub == nameOrKey {
						return name, nil
					}
				}
			}
		}
	}
	return "", fmt.Errorf("--operator: operator %q is not in %s: list them with `signet list operators`", nameOrKey, stores.Dir)
}

func absPath(f *cmdutil.Factory, p string) (string, error) {
	if strings.HasPrefix(p, "~/") || p == "~" {
		home := f.Getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("%q: $HOME is not set", p)
		}
		p = filepath.Join(home, p[1:])
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	wd, err := f.Getwd()
	if err != nil {
		return "", err
	}
	return filepath.Join(wd, p), nil
}

// ResolveEnv computes the environment report; a missing operator or account is not an error,
// it is reported.
func ResolveEnv(f *cmdutil.Factory) (Env, error) {
	d, err := f.Dirs()
	if err != nil {
		return Env{}, err
	}
	e := Env{ConfigDir: d.ConfigDir, StoresDir: d.StoresDir, KeystoreDir: d.KeystoreDir, CwdOnly: d.CwdOnly,
		Variables: map[string]string{}}
	for _, v := range envVars() {
		e.Variables[v] = f.Getenv(v)
	}
	s, err := f.Operator("")
	if err != nil {
		e.Problems = append(e.Problems, err.Error())
		return e, nil
	}
	e.Operator = s.Name()
	if a, err := f.Account(s, ""); err == nil {
		e.Account = a
	} else {
		e.Problems = append(e.Problems, err.Error())
	}
	return e, nil
}

// RunEnv prints the environment.
func RunEnv(f *cmdutil.Factory, asJSON bool) error {
	e, err := ResolveEnv(f)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(f.IO.Out, e)
	}
	d := newDetails("signet environment")
	d.add("Config Dir (nsc.json)", e.ConfigDir)
	d.add("Stores Dir", e.StoresDir)
	d.add("Keystore Dir", e.KeystoreDir)
	d.add("Current Operator", orNone(e.Operator))
	d.add("Current Account", orNone(e.Account))
	d.sep()
	for _, v := range envVars() {
		val := e.Variables[v]
		if val == "" {
			val = "(not set)"
		}
		d.add("$"+v, val)
	}
	d.render(f.IO.Out)
	for _, p := range e.Problems {
		f.IO.Warn("%s", p)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// NewCmdSelectOperator builds `select operator`.
func NewCmdSelectOperator(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operator NAME|PUBKEY",
		Short: "Make an operator the current one (recorded in nsc.json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunSelectOperator(f, args[0])
		},
	}
	cmdutil.Subject(cmd, cmdutil.KindOperator)
	return cmd
}

// RunSelectOperator records the operator in nsc.json.
func RunSelectOperator(f *cmdutil.Factory, nameOrKey string) error {
	s, err := openOperator(f, nameOrKey)
	if err != nil {
		return err
	}
	if err := selectContext(f, s.Name(), ""); err != nil {
		return err
	}
	f.IO.OK("operator %q selected", s.Name())
	return nil
}

// NewCmdSelectAccount builds `select account`.
func NewCmdSelectAccount(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account NAME|PUBKEY",
		Short: "Make an account of the current operator the current one (recorded in nsc.json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunSelectAccount(f, args[0])
		},
	}
	cmdutil.Subject(cmd, cmdutil.KindAccount)
	return cmd
}

// RunSelectAccount records the account (and its operator) in nsc.json.
func RunSelectAccount(f *cmdutil.Factory, nameOrKey string) error {
	if !nkeys.IsValidPublicAccountKey(nameOrKey) {
		if err := store.ValidateName(nameOrKey); err != nil {
			return fmt.Errorf("account name: %w", err)
		}
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	name, err := f.Account(s, nameOrKey)
	if err != nil {
		return err
	}
	if err := selectContext(f, s.Name(), name); err != nil {
		return err
	}
	f.IO.OK("account %q of operator %q selected", name, s.Name())
	return nil
}

func selectContext(f *cmdutil.Factory, operator, account string) error {
	d, err := f.Dirs()
	if err != nil {
		return err
	}
	if d.CwdOnly {
		return fmt.Errorf("NSC_CWD_ONLY is set: the context comes from the working directory, so nothing is recorded; cd into the store (%s) instead", d.StoresDir)
	}
	return f.Select(operator, account)
}
