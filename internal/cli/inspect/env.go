package inspect

import (
	"fmt"

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

// NewCmdEnv builds `env`.
func NewCmdEnv(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Show the folders, the current operator and account, and the environment signet uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunEnv(f, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
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
	return &cobra.Command{
		Use:   "operator NAME|PUBKEY",
		Short: "Make an operator the current one (recorded in nsc.json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunSelectOperator(f, args[0])
		},
	}
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
	return &cobra.Command{
		Use:   "account NAME|PUBKEY",
		Short: "Make an account of the current operator the current one (recorded in nsc.json)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunSelectAccount(f, args[0])
		},
	}
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
