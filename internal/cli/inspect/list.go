package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// ListOptions are the inputs of the list commands.
type ListOptions struct {
	Account   string
	All       bool
	ShowSeeds bool
	JSON      bool
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

func newListCmd(use, short string, o *ListOptions, run func() error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return run() },
	}
	cmd.Flags().BoolVarP(&o.JSON, "json", "J", false, `print [{"name","public_key"}] as JSON`)
	return cmd
}

// NewCmdListOperators builds `list operators`.
func NewCmdListOperators(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	return newListCmd("operators", "List the operators", o, func() error { return RunListOperators(f, o) })
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
	return printNamedKeys(f.IO.Out, "Operators", items, o.JSON)
}

// NewCmdListAccounts builds `list accounts`.
func NewCmdListAccounts(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	return newListCmd("accounts", "List the accounts of the current operator", o, func() error { return RunListAccounts(f, o) })
}

// RunListAccounts lists the accounts of the current operator.
func RunListAccounts(f *cmdutil.Factory, o *ListOptions) error {
	s, err := f.Operator("")
	if err != nil {
		return err
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
	cmd := newListCmd("users", "List the users of an account", o, func() error { return RunListUsers(f, o) })
	cmd.Flags().StringVarP(&o.Account, "account", "a", "", "account name or public key")
	return cmd
}

// RunListUsers lists the users of an account without decoding their JWTs.
func RunListUsers(f *cmdutil.Factory, o *ListOptions) error {
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	account, err := f.Account(s, o.Account)
	if err != nil {
		return err
	}
	items, err := s.ListUsers(account)
	if err != nil {
		return err
	}
	return printNamedKeys(f.IO.Out, fmt.Sprintf("Users of %s", account), items, o.JSON)
}

// KeyEntry is one row of `list keys`.
type KeyEntry struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Account    string `json:"account,omitempty"`
	PublicKey  string `json:"public_key"`
	SigningKey bool   `json:"signing_key"`
	Role       string `json:"role,omitempty"`
	Stored     bool   `json:"stored"`
	Seed       string `json:"seed,omitempty"`
}

// NewCmdListKeys builds `list keys`.
func NewCmdListKeys(f *cmdutil.Factory) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List the keys of the operator, an account (or all with -A) and its users, and whether the keystore holds them",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunListKeys(f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.BoolVarP(&o.All, "all", "A", false, "all accounts")
	fs.BoolVarP(&o.ShowSeeds, "show-seeds", "S", false, "also print the seeds held by the keystore (secret!)")
	fs.BoolVarP(&o.JSON, "json", "J", false, "print the keys as JSON")
	return cmd
}

// RunListKeys lists the keys of the operator, the chosen accounts and their users.
func RunListKeys(f *cmdutil.Factory, o *ListOptions) error {
	if o.All && o.Account != "" {
		return errors.New("-a/--account and -A/--all are exclusive: choose one")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	entries, err := collectKeys(f, s, o)
	if err != nil {
		return err
	}
	for i := range entries {
		e := &entries[i]
		e.Stored = ks.Has(e.PublicKey)
		if o.ShowSeeds && e.Stored {
			seed, err := seedOf(ks, e.PublicKey)
			if err != nil {
				return err
			}
			e.Seed = seed
		}
	}
	if o.JSON {
		if entries == nil {
			entries = []KeyEntry{}
		}
		return printJSON(f.IO.Out, entries)
	}
	t := cmdutil.NewTable("Keys")
	header := table.Row{"Entity", "Name", "Public Key", "Signing Key", "Stored"}
	if o.ShowSeeds {
		header = append(header, "Seed")
	}
	t.AppendHeader(header)
	for _, e := range entries {
		sk := ""
		if e.SigningKey {
			sk = "*"
			if e.Role != "" {
				sk = "* (" + e.Role + ")"
			}
		}
		stored := ""
		if e.Stored {
			stored = "*"
		}
		kind := e.Kind
		if e.Account != "" {
			kind = fmt.Sprintf("%s (%s)", e.Kind, e.Account)
		}
		row := table.Row{kind, e.Name, e.PublicKey, sk, stored}
		if o.ShowSeeds {
			row = append(row, e.Seed)
		}
		t.AppendRow(row)
	}
	cmdutil.RenderTable(f.IO.Out, t)
	if !o.ShowSeeds {
		fmt.Fprintln(f.IO.ErrOut, "[INFO] seeds are not shown: pass --show-seeds to print them")
	}
	return nil
}

func seedOf(ks keystore.KeyStore, pub string) (string, error) {
	kp, err := ks.Get(pub)
	if err != nil {
		return "", err
	}
	seed, err := kp.Seed()
	if err != nil {
		return "", fmt.Errorf("seed of %s: %w", pub, err)
	}
	return string(seed), nil
}

// collectKeys gathers the operator's keys, then for each chosen account its keys and its users'.
func collectKeys(f *cmdutil.Factory, s *store.Store, o *ListOptions) ([]KeyEntry, error) {
	oc, _, err := s.Operator()
	if err != nil {
		return nil, err
	}
	out := []KeyEntry{{Kind: "operator", Name: s.Name(), PublicKey: oc.Subject}}
	for _, k := range sortedStrings(oc.SigningKeys) {
		out = append(out, KeyEntry{Kind: "operator", Name: s.Name(), PublicKey: k, SigningKey: true})
	}
	var accounts []string
	if o.All {
		if accounts, err = s.Accounts(); err != nil {
			return nil, err
		}
	} else {
		a, err := f.Account(s, o.Account)
		if err != nil {
			return nil, err
		}
		accounts = []string{a}
	}
	for _, a := range accounts {
		ac, _, err := s.Account(a)
		if err != nil {
			return nil, err
		}
		out = append(out, KeyEntry{Kind: "account", Name: a, PublicKey: ac.Subject})
		sks := ac.SigningKeys.Keys()
		sort.Strings(sks)
		for _, k := range sks {
			e := KeyEntry{Kind: "account", Name: a, PublicKey: k, SigningKey: true}
			if us, ok := scopeByKey(ac.SigningKeys, k); ok {
				e.Role = us
			}
			out = append(out, e)
		}
		users, err := s.ListUsers(a)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			out = append(out, KeyEntry{Kind: "user", Name: u.Name, Account: a, PublicKey: u.PublicKey})
		}
	}
	return out, nil
}
