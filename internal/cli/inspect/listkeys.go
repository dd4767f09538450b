package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// ListKeysOptions are the inputs of `list keys`; the flags are nsc's.
type ListKeysOptions struct {
	Operator, Accounts, Users, Curves, All bool
	Account, User                          string
	Filter                                 string
	NotReferenced                          bool
	ShowSeeds                              bool
	JSON                                   bool

	// kindsGiven: one of --operator, --accounts, --users, --curve or --all was given.
	kindsGiven bool
}

// KeyEntry is one key of `list keys`; the JSON field names and order are nsc's.
type KeyEntry struct {
	Name    string `json:"name"`
	Pub     string `json:"pub"`
	Parent  string `json:"parent,omitempty"`
	Signing bool   `json:"signing"`
	Curve   bool   `json:"curve"`
	// KeyPath is the seed's file in the keystore; empty when the keystore lacks it.
	KeyPath string `json:"key_path"`
	// Invalid: the key file holds the seed of another key.
	Invalid bool `json:"invalid"`
	// JWT is the entity's JWT (identity keys only); it encodes as base64, as in nsc.
	JWT []byte `json:"jwt,omitempty"`
	// ExpectedKind is operator, account or user; nsc files account signing keys and the
	// callout curve key under account.
	ExpectedKind string `json:"expected_kind"`
	Seed         string `json:"seed,omitempty"`

	role    string // the scope's role of a scoped account signing key (table only)
	account string // a user's account (table only)
}

// NewCmdListKeys builds `list keys`.
func NewCmdListKeys(f *cmdutil.Factory) *cobra.Command {
	o := &ListKeysOptions{}
	cmd := &cobra.Command{
		Use:     "keys",
		Aliases: []string{"key"},
		Short:   "List the keys of the operator, its accounts and their users, and whether the keystore holds them",
		Long: `List the keys of the current operator, its accounts and their users, and whether the
keystore holds each seed. Without --operator, --accounts, --users, --curve or --all, the keys of
the operator, the current account (or --account) and its users are listed; with them, only keys
of those kinds, of every account unless --account names one.

--not-referenced lists the keystore's keys that no entity of the operator uses.`,
		Example: `  signet list keys --all
  signet list keys --operator --show-seeds --json     (the operator's keys and seeds, for scripts)
  signet list keys --accounts --account A --filter AB
  signet list keys --operator --not-referenced`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range []string{"operator", "accounts", "users", "curve", "all"} {
				o.kindsGiven = o.kindsGiven || cmd.Flags().Changed(n)
			}
			return RunListKeys(f, o)
		},
	}
	fs := cmd.Flags()
	fs.BoolVarP(&o.Operator, "operator", "o", false, "show the operator's keys")
	fs.BoolVarP(&o.Accounts, "accounts", "a", false, "show account keys (identity, signing and curve keys)")
	fs.BoolVarP(&o.Users, "users", "u", false, "show user keys")
	fs.BoolVarP(&o.Curves, "curve", "x", false, "show the accounts' auth callout curve keys")
	fs.BoolVarP(&o.All, "all", "A", false, "show operator, account, curve and user keys")
	fs.StringVar(&o.Account, "account", "", "only this account (name or public key)")
	fs.StringVar(&o.User, "user", "", "only this user")
	fs.StringVarP(&o.Filter, "filter", "f", "", "only keys containing this text")
	fs.BoolVar(&o.NotReferenced, "not-referenced", false, "show the keystore's keys that the operator's entities do not use")
	fs.BoolVarP(&o.ShowSeeds, "show-seeds", "S", false, "also print the seeds held by the keystore (secret!)")
	fs.BoolVarP(&o.JSON, "json", "J", false, "print the keys as JSON (nsc's fields)")
	return cmd
}

// RunListKeys lists the keys.
func RunListKeys(f *cmdutil.Factory, o *ListKeysOptions) error {
	if o.NotReferenced && o.ShowSeeds {
		return errors.New("--not-referenced and --show-seeds are exclusive: choose one")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	entries, err := CollectKeys(f, s, ks, o)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if o.ShowSeeds && e.KeyPath != "" && !e.Invalid {
			seed, err := seedOf(ks, e.Pub)
			if err != nil {
				return err
			}
			e.Seed = seed
		}
	}
	if o.JSON {
		if entries == nil {
			entries = []*KeyEntry{}
		}
		// nsc's layout: one-space indent.
		data, err := json.MarshalIndent(entries, "", " ")
		if err != nil {
			return fmt.Errorf("encode JSON: %w", err)
		}
		_, err = fmt.Fprintf(f.IO.Out, "%s\n", data)
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "[INFO] no keys matched")
		return nil
	}
	t := cmdutil.NewTable("Keys")
	header := table.Row{"Entity", "Name", "Public Key", "Signing Key", "Stored"}
	if o.ShowSeeds {
		header = append(header, "Seed")
	}
	t.AppendHeader(header)
	for _, e := range entries {
		sk := ""
		switch {
		case e.Curve:
			sk = "T"
		case e.Signing && e.role != "":
			sk = "* (" + e.role + ")"
		case e.Signing:
			sk = "*"
		}
		stored := ""
		switch {
		case e.Invalid:
			stored = "BAD"
		case e.KeyPath != "":
			stored = "*"
		}
		kind := e.ExpectedKind
		if e.account != "" {
			kind = fmt.Sprintf("%s (%s)", kind, e.account)
		}
		row := table.Row{kind, e.Name, e.Pub, sk, stored}
		if o.ShowSeeds {
			row = append(row, e.Seed)
		}
		t.AppendRow(row)
	}
	cmdutil.RenderTable(f.IO.Out, t)
	if !o.ShowSeeds {
		fmt.Fprintln(f.IO.ErrOut, "[INFO] seeds are not shown: pass --show-seeds to print them")
	}
	if slicesAny(entries, func(e *KeyEntry) bool { return e.Curve }) {
		fmt.Fprintln(f.IO.ErrOut, "[INFO] T: auth callout curve (encryption) key")
	}
	if slicesAny(entries, func(e *KeyEntry) bool { return e.Name == "?" }) {
		fmt.Fprintln(f.IO.ErrOut, "[INFO] ?: a key no entity of this operator uses (it may belong to another operator)")
	}
	return nil
}

func slicesAny(entries []*KeyEntry, pred func(*KeyEntry) bool) bool {
	for _, e := range entries {
		if pred(e) {
			return true
		}
	}
	return false
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

// CollectKeys gathers the keys o asks for: the operator's, then for each chosen account its
// identity, signing and curve keys followed by its users' keys (or, with NotReferenced, the
// keystore's keys none of these use), filtered by kind and by Filter.
func CollectKeys(f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, o *ListKeysOptions) ([]*KeyEntry, error) {
	showOperator, showAccounts, showUsers, showCurves := o.Operator, o.Accounts, o.Users, o.Curves || o.Accounts
	account := o.Account
	if !o.kindsGiven {
		showOperator, showAccounts, showUsers, showCurves = true, true, true, true
		if account == "" && !o.NotReferenced {
			// The current account, as nsc does; every account when none is current.
			if a, err := f.Account(s, ""); err == nil {
				account = a
			}
		}
	}
	if o.All {
		showOperator, showAccounts, showUsers, showCurves = true, true, true, true
	}
	resolve := func(e *KeyEntry) *KeyEntry {
		if ks.Has(e.Pub) {
			e.KeyPath = ks.KeyPath(e.Pub)
			if _, err := ks.Get(e.Pub); err != nil {
				e.Invalid = true
			}
		}
		return e
	}
	oc, opJWT, err := s.Operator()
	if err != nil {
		return nil, err
	}
	all := []*KeyEntry{resolve(&KeyEntry{Name: oc.Name, Pub: oc.Subject, JWT: []byte(opJWT), ExpectedKind: "operator"})}
	for _, k := range oc.SigningKeys {
		all = append(all, resolve(&KeyEntry{Name: oc.Name, Pub: k, Signing: true, ExpectedKind: "operator"}))
	}
	var accounts []string
	if account != "" {
		a, err := s.FindAccount(account)
		if err != nil {
			return nil, fmt.Errorf("--account: %w", err)
		}
		accounts = []string{a}
	} else if accounts, err = s.Accounts(); err != nil {
		return nil, err
	}
	if o.NotReferenced {
		// Everything the operator references, whatever the filters.
		if accounts, err = s.Accounts(); err != nil {
			return nil, err
		}
	}
	userFound := o.User == ""
	for _, a := range accounts {
		ac, tok, err := s.Account(a)
		if err != nil {
			return nil, err
		}
		all = append(all, resolve(&KeyEntry{Name: ac.Name, Pub: ac.Subject, Parent: oc.Subject, JWT: []byte(tok), ExpectedKind: "account"}))
		sks := ac.SigningKeys.Keys()
		sort.Strings(sks)
		for _, k := range sks {
			e := &KeyEntry{Name: ac.Name, Pub: k, Signing: true, ExpectedKind: "account"}
			e.role, _ = scopeByKey(ac.SigningKeys, k)
			all = append(all, resolve(e))
		}
		if x := ac.Authorization.XKey; x != "" {
			all = append(all, resolve(&KeyEntry{Name: ac.Name, Pub: x, Curve: true, ExpectedKind: "account"}))
		}
		users, err := s.UserNames(a)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if o.User != "" && u != o.User && !o.NotReferenced {
				continue
			}
			uc, utok, err := s.User(a, u)
			if err != nil {
				return nil, err
			}
			if o.User != "" && u == o.User {
				userFound = true
			}
			all = append(all, resolve(&KeyEntry{Name: uc.Name, Pub: uc.Subject, Parent: ac.Subject, JWT: []byte(utok), ExpectedKind: "user", account: a}))
		}
	}
	if !userFound && !o.NotReferenced {
		return nil, fmt.Errorf("--user: no user %q in %s", o.User, strings.Join(accounts, ", "))
	}
	if o.NotReferenced {
		if all, err = unreferenced(ks, all); err != nil {
			return nil, err
		}
	}
	filter := strings.ToUpper(o.Filter)
	var out []*KeyEntry
	for _, e := range all {
		switch {
		case e.Curve && !showCurves,
			!e.Curve && e.ExpectedKind == "operator" && !showOperator,
			!e.Curve && e.ExpectedKind == "account" && !showAccounts,
			e.ExpectedKind == "user" && !showUsers,
			filter != "" && !strings.Contains(e.Pub, filter):
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// unreferenced lists the keystore's keys that are not among referenced, operators first, then
// accounts, users and curve keys, each sorted.
func unreferenced(ks keystore.KeyStore, referenced []*KeyEntry) ([]*KeyEntry, error) {
	used := map[string]bool{}
	for _, e := range referenced {
		used[e.Pub] = true
	}
	stored, err := ks.List()
	if err != nil {
		return nil, err
	}
	groups := map[byte][]*KeyEntry{}
	for _, pub := range stored {
		if used[pub] || !nkeys.IsValidPublicKey(pub) {
			continue
		}
		e := &KeyEntry{Name: "?", Pub: pub, KeyPath: ks.KeyPath(pub)}
		if _, err := ks.Get(pub); err != nil {
			e.Invalid = true
		}
		switch pub[0] {
		case 'O':
			e.ExpectedKind = "operator"
		case 'A':
			e.ExpectedKind = "account"
		case 'U':
			e.ExpectedKind = "user"
		case 'X':
			e.ExpectedKind, e.Curve = "curve", true
		default:
			continue
		}
		groups[pub[0]] = append(groups[pub[0]], e)
	}
	var out []*KeyEntry
	for _, k := range []byte{'O', 'A', 'U', 'X'} {
		out = append(out, groups[k]...) // ks.List is sorted
	}
	return out, nil
}
