package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/store"
)

// ListOptions are the inputs of the list commands.
type ListOptions struct {
	Operator string // --operator/-o: list another operator's accounts or users (nsc.json unchanged)
	Account  string
	JSON     bool
	Strict   bool // list users: an unreadable user JWT fails the command
}

// printNamedKeys prints entities as a table or as [{"name","public_key"}].
func printNamedKeys(w io.Writer, title string, items []store.NamedKey, asJSON bool) error {
	if asJSON {
		if items == nil {
			items = []store.NamedKey{} // nsc prints null; an empty list is what scripts iterate
		}
		// nsc's layout: one-space indent.
		data, err := json.MarshalIndent(items, "", " ")
		if err != nil {
			return fmt.Errorf("encode JSON: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	t := cmdutil.NewTable(title)
	t.AppendHeader(table.Row{"Name", "Public Key"})
	for _, it := range items {
		t.AppendRow(table.Row{it.Name, it.PublicKey})
	}
	cmdutil.RenderTable(w, t)
	return nil
}

func newListCmd(use, alias, short string, o *ListOptions, run func() error) *cobra.Command {
	cmd := &cobra.Command{
		Use:     use,
		Aliases: []string{alias}, // nsc's singular: list account, list user, list operator
		Short:   short,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return run() },
	}
	cmd.Flags().BoolVarP(&o.JSON, "json", "J", false, `print [{"name","public_key"}] as JSON`)
	return cmd
}

// NewCmdListOperators builds `list operators`.
func NewCmdListOperators(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	return newListCmd("operators", "operator", "List the operators", o, func() error { return RunListOperators(f, o) })
}

// RunListOperators lists the operators of the stores folder.
func RunListOperators(f *cmdutil.Factory, o *ListOptions) error {
	stores, err := f.Stores()
	if err != nil {
		return err
	}
	names, err := stores.Operators()
	if err != nil {
		return err
	}
	items := make([]store.NamedKey, 0, len(names))
	for _, n := range names {
		it := store.NamedKey{Name: n}
		if s, err := stores.Open(n); err == nil {
			if tok, err := s.OperatorJWT(); err == nil {
				it.PublicKey, _ = store.PeekSubject(tok)
			}
		}
		items = append(items, it)
	}
	if len(items) == 0 && !o.JSON {
		// An empty table says nothing; say how to make an operator instead (stdout stays empty).
		f.IO.Info("no operators in %s: create one with `signet init -n NAME`, or run `signet dev` for a local NATS system with one", stores.Dir)
		return nil
	}
	return printNamedKeys(f.IO.Out, "Operators", items, o.JSON)
}

// NewCmdListAccounts builds `list accounts`.
func NewCmdListAccounts(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	cmd := newListCmd("accounts", "account", "List the accounts of the current operator", o, func() error { return RunListAccounts(f, o) })
	cmd.Flags().StringVarP(&o.Operator, "operator", "o", "", "operator name (default the current operator)")
	return cmd
}

// RunListAccounts lists the accounts of the current operator.
func RunListAccounts(f *cmdutil.Factory, o *ListOptions) error {
	s, err := f.Operator(o.Operator)
	if err != nil {
		return err
	}
	if o.Operator != "" {
		// As nsc: the operator named here becomes the current one.
		if err := f.Select(s.Name(), ""); err != nil {
			return err
		}
	}
	items, err := listAccounts(s)
	if err != nil {
		return err
	}
	return printNamedKeys(f.IO.Out, fmt.Sprintf("Accounts of %s", s.Name()), items, o.JSON)
}

func listAccounts(s *store.Store) ([]store.NamedKey, error) {
	names, err := s.Accounts()
	if err != nil {
		return nil, err
	}
	items := make([]store.NamedKey, 0, len(names))
	for _, n := range names {
		tok, err := s.AccountJWT(n)
		if err != nil {
			return nil, err
		}
		pub, err := store.PeekSubject(tok)
		if err != nil {
			return nil, fmt.Errorf("account %q: %w", n, err)
		}
		items = append(items, store.NamedKey{Name: n, PublicKey: pub})
	}
	return items, nil
}

// NewCmdListUsers builds `list users`.
func NewCmdListUsers(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	cmd := newListCmd("users", "user", "List the users of an account", o, func() error { return RunListUsers(f, o) })
	cmd.Flags().StringVarP(&o.Operator, "operator", "o", "", "operator name (default the current operator)")
	cmd.Flags().StringVarP(&o.Account, "account", "a", "", "account name or public key")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "exit non-zero when a user JWT cannot be read")
	return cmd
}

// RunListUsers lists the users of an account without decoding their JWTs. A user whose JWT
// cannot be read is named on stderr and left out; it fails the command only with --strict.
func RunListUsers(f *cmdutil.Factory, o *ListOptions) error {
	s, err := f.Operator(o.Operator)
	if err != nil {
		return err
	}
	account, err := f.Account(s, o.Account)
	if err != nil {
		return err
	}
	// As nsc: an operator or account named here becomes the current one.
	if o.Operator != "" || o.Account != "" {
		sel := ""
		if o.Account != "" {
			sel = account
		}
		if err := f.Select(s.Name(), sel); err != nil {
			return err
		}
	}
	items, err := s.ListUsers(account)
	var bad *store.UnreadableUsersError
	if err != nil && !errors.As(err, &bad) {
		return err
	}
	if bad != nil {
		for _, u := range bad.Users {
			f.IO.Warn("user %q of account %q is left out: %s cannot be read: %v", u.Name, account, u.Path, u.Err)
		}
	}
	if err := printNamedKeys(f.IO.Out, fmt.Sprintf("Users of %s", account), items, o.JSON); err != nil {
		return err
	}
	if bad != nil && o.Strict {
		return bad
	}
	return nil
}
