package entity

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
)

// InitOptions are the inputs of `init`.
type InitOptions struct {
	Name string
	// ImportOperator, when set, imports a managed operator (URL, file or well-known name) instead
	// of creating one; the push/pull package provides it.
	ImportOperator func(f *cmdutil.Factory, source, name string) error
	URL            string
	WellKnown      string
	// Dir is nsc's --dir: the stores folder to create the operator in (and to record in nsc.json).
	Dir string
}

// NewCmdInit builds `init`: an operator with a system account, an account and a user in one go.
func NewCmdInit(f *cmdutil.Factory, importOperator func(f *cmdutil.Factory, source, name string) error) *cobra.Command {
	o := &InitOptions{ImportOperator: importOperator}
	cmd := &cobra.Command{
		Use:   "init [NAME]",
		Short: "Create an operator, a system account and user, and an account and user named after it",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Dir != "" {
				f.DirOpts.DataDir = o.Dir
			}
			return RunInit(f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Name, "name", "n", "", "name of the operator (local) or of the account and user (managed)")
	fs.StringVarP(&o.URL, "url", "u", "", "import a managed operator from this URL or file instead of creating one")
	fs.StringVarP(&o.WellKnown, "operator", "o", "", "use a well-known or existing operator by name")
	fs.StringVarP(&o.Dir, "dir", "d", "", "stores folder to create the operator in, recorded in nsc.json (as --data-dir)")
	compat.AliasFlags(fs, map[string]string{"remote-operator": "operator"}) // nsc's name
	cmdutil.NameArg(cmd, &o.Name, cmdutil.KindNew, "name")
	return cmd
}

// defaultServiceURL is the operator service URL init records, as nsc's init does.
const defaultServiceURL = "nats://localhost:4222"

// RunInit creates the whole chain.
func RunInit(f *cmdutil.Factory, o *InitOptions) error {
	if o.Name == "" {
		return errors.New("a name is required: signet init -n NAME")
	}
	if o.URL != "" || o.WellKnown != "" {
		return initManaged(f, o)
	}
	// nsc's init gives the operator a local server's URL, which `tool pub/sub` and the
	// generated contexts and profiles connect to.
	add := &AddOperatorOptions{Name: o.Name, Sys: true}
	add.OperatorFlags.ServiceURLs = []string{defaultServiceURL}
	if err := RunAddOperator(f, add); err != nil {
		return err
	}
	return addAccountAndUser(f, o.Name)
}

func initManaged(f *cmdutil.Factory, o *InitOptions) error {
	source := o.URL
	if source == "" {
		stores, err := f.Stores()
		if err != nil {
			return err
		}
		if s, err := stores.Open(o.WellKnown); err == nil {
			if err := f.Select(s.Name(), ""); err != nil {
				return err
			}
			return addAccountAndUser(f, o.Name)
		}
		source = o.WellKnown
	}
	if o.ImportOperator == nil {
		return fmt.Errorf("importing operator %q is not available in this build", source)
	}
	if err := o.ImportOperator(f, source, ""); err != nil {
		return err
	}
	return addAccountAndUser(f, o.Name)
}

func addAccountAndUser(f *cmdutil.Factory, name string) error {
	if err := RunAddAccount(f, &AccountOptions{Name: name}); err != nil {
		return err
	}
	return RunAddUser(f, &UserOptions{Name: name, Account: name})
}
