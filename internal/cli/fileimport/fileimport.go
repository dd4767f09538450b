// Package fileimport holds `signet import operator|account|user|keys`: it brings JWTs, creds
// and seeds from files into the store and keystore. Every JWT is checked against the store's
// trust before anything is written (an account against the operator, a user against its
// account), and a failed import leaves the store as it was.
package fileimport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// Register attaches `import` and its subcommands to the root command.
func Register(f *cmdutil.Factory, root *cobra.Command) {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import an operator, accounts or users from JWT or creds files, or seeds from a folder",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdImportOperator(f), NewCmdImportAccount(f), NewCmdImportUser(f), NewCmdImportKeys(f))
	root.AddCommand(cmd)
}

// Options are the inputs of `import operator|account|user`.
type Options struct {
	File      string
	Overwrite bool
	// Skip stores a JWT whose claims have blocking validation issues.
	Skip bool
	// Force (accounts) re-signs an account another operator issued.
	Force  bool
	Signer string
}

func (o *Options) addFlags(cmd *cobra.Command, what string) {
	fs := cmd.Flags()
	fs.StringVarP(&o.File, "file", "f", "", what+" file to import")
	fs.BoolVar(&o.Overwrite, "overwrite", false, "replace the stored JWT of the same entity (same public key)")
	fs.BoolVar(&o.Skip, "skip", false, "import even when the JWT has blocking validation issues")
}

func fileCmd(use, short, example string, o *Options, run func() error) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.File == "" {
				return errors.New("--file is required: the file to import")
			}
			return run()
		},
	}
}

// readJWT reads a file holding a JWT, bare or decorated (a creds file's JWT block).
func readJWT(path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	token, err := jwt.ParseDecoratedJWT(data)
	if err != nil || strings.TrimSpace(token) == "" {
		return nil, "", fmt.Errorf("%s holds no JWT", path)
	}
	return data, strings.TrimSpace(token), nil
}

// validate reports the claims' validation issues: warnings, and an error for blocking ones
// unless skip.
func validate(f *cmdutil.Factory, c jwt.Claims, what string, skip bool) error {
	var vr jwt.ValidationResults
	c.Validate(&vr)
	var blocking []string
	for _, i := range vr.Issues {
		if i.Blocking || (!skip && i.TimeCheck) {
			blocking = append(blocking, i.Description)
		} else {
			f.IO.Warn("%s: %s", what, i.Description)
		}
	}
	if len(blocking) > 0 && !skip {
		return fmt.Errorf("%s does not validate: %s (import it anyway with --skip)", what, strings.Join(blocking, "; "))
	}
	for _, b := range blocking {
		f.IO.Warn("%s: %s (skipped)", what, b)
	}
	return nil
}

// NewCmdImportOperator builds `import operator`.
func NewCmdImportOperator(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	var name string
	cmd := fileCmd("operator", "Import an operator JWT as a new operator store (managed when the keystore lacks its key)",
		"  signet import operator --file O.jwt\n  signet import operator -f O.jwt --overwrite", o,
		func() error { return RunImportOperator(f, o, name) })
	o.addFlags(cmd, "operator JWT")
	cmd.Flags().StringVarP(&name, "name", "n", "", "store name (default the operator's name)")
	return cmd
}

// RunImportOperator imports an operator JWT: a new store, or with Overwrite the JWT of the
// store of the same operator.
func RunImportOperator(f *cmdutil.Factory, o *Options, name string) error {
	_, token, err := readJWT(o.File)
	if err != nil {
		return err
	}
	oc, err := jwt.DecodeOperatorClaims(token)
	if err != nil {
		return fmt.Errorf("%s does not hold a valid operator JWT: %w", o.File, err)
	}
	if err := ops.OperatorSelfSigned(oc); err != nil {
		return err
	}
	if err := validate(f, oc, fmt.Sprintf("operator %q", oc.Name), o.Skip); err != nil {
		return err
	}
	if name == "" {
		name = oc.Name
	}
	if err := store.ValidateName(name); err != nil {
		return fmt.Errorf("operator name %q is not usable as a store name (%v): pass --name NAME", name, err)
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	stores, err := f.Stores()
	if err != nil {
		return err
	}
	if existing, err := stores.Open(name); err == nil {
		old, _, err := existing.Operator()
		if err != nil {
			return err
		}
		if old.Subject != oc.Subject {
			return fmt.Errorf("operator %q exists with another key (%s): import under another name with --name", name, old.Subject)
		}
		if !o.Overwrite {
			return fmt.Errorf("operator %q exists: replace its JWT with --overwrite", name)
		}
		unlock, err := existing.Lock()
		if err != nil {
			return err
		}
		defer unlock()
		if err := existing.SaveOperator(token); err != nil {
			return err
		}
		f.IO.OK("replaced the JWT of operator %q", name)
		return f.Select(name, "")
	}
	managed := !ks.Has(oc.Subject)
	if _, err := stores.Create(name, token, managed); err != nil {
		return err
	}
	if managed {
		f.IO.OK("imported managed operator %q (%s): the keystore has no key for it", name, oc.Subject)
	} else {
		f.IO.OK("imported operator %q (%s)", name, oc.Subject)
	}
	return f.Select(name, "")
}

// NewCmdImportAccount builds `import account`.
func NewCmdImportAccount(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := fileCmd("account", "Import an account JWT the operator issued (a self-signed one is signed by the operator)",
		"  signet import account --file A.jwt\n  signet import account -f A.jwt --overwrite\n  signet import account -f other.jwt --force -K operator-sk.nk", o,
		func() error { return RunImportAccount(f, o) })
	o.addFlags(cmd, "account JWT")
	fs := cmd.Flags()
	fs.BoolVar(&o.Force, "force", false, "import an account another operator issued, re-signing it with this operator")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "operator key that signs a self-signed or --force account: public key, seed, or seed file")
	// nsc spells --file -j on `import account`.
	fs.StringVarP(&o.File, "jwt-file", "j", "", "same as --file")
	_ = fs.MarkHidden("jwt-file")
	return cmd
}

// RunImportAccount checks an account JWT against the operator and stores it.
func RunImportAccount(f *cmdutil.Factory, o *Options) error {
	_, token, err := readJWT(o.File)
	if err != nil {
		return err
	}
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		return fmt.Errorf("%s does not hold a valid account JWT: %w", o.File, err)
	}
	if err := validate(f, ac, fmt.Sprintf("account %q", ac.Name), o.Skip); err != nil {
		return err
	}
	if err := store.ValidateName(ac.Name); err != nil {
		return fmt.Errorf("account name %q is not usable in the store: %w", ac.Name, err)
	}
	l, err := f.LockOperator()
	if err != nil {
		return err
	}
	defer l.Unlock()
	s, ks, oc, unlock := l.Store, l.KeyStore, l.Operator, l.Unlock
	if err := checkExisting(s.HasAccount(ac.Name), func() (string, error) {
		old, _, err := s.Account(ac.Name)
		if err != nil {
			return "", err
		}
		return old.Subject, nil
	}, "account", ac.Name, ac.Subject, o.Overwrite); err != nil {
		return err
	}
	if other, err := s.FindAccount(ac.Subject); err == nil && other != ac.Name {
		return fmt.Errorf("account %s is already in the store as %q", ac.Subject, other)
	}
	trustErr := ops.AccountIssuedBy(oc, ac)
	resign := false
	switch {
	case trustErr == nil:
		if o.Signer != "" {
			resign = true // -K: the operator key the user wants it signed with
		}
	case ac.IsSelfSigned():
		if s.Info.Managed {
			return fmt.Errorf("account %q is self-signed and operator %q is managed: its account server signs accounts, push it there", ac.Name, s.Name())
		}
		resign = true
	case o.Force:
		if s.Info.Managed {
			return fmt.Errorf("%w: a managed operator's accounts are signed by its account server", trustErr)
		}
		resign = true
	default:
		return fmt.Errorf("%w: refused (re-sign it with this operator with --force)", trustErr)
	}
	if resign {
		// The operator key Signer chooses (or -K), as for every account signet signs.
		if token, err = ops.SignAccount(s, ks, oc, ac, nil, o.Signer); err != nil {
			return err
		}
	}
	if err := s.SaveAccount(ac.Name, token); err != nil {
		return err
	}
	if resign {
		f.IO.OK("signed account %q with operator %q", ac.Name, s.Name())
	}
	if !ks.Has(ac.Subject) {
		f.IO.Warn("the keystore has no key for account %q: users of it can be imported but not added", ac.Name)
	}
	f.IO.OK("imported account %q (%s)", ac.Name, ac.Subject)
	unlock()
	return f.AccountSaved(s, ac.Name)
}

// checkExisting refuses to replace an entity without overwrite, or one with another key.
func checkExisting(exists bool, subject func() (string, error), kind, name, pub string, overwrite bool) error {
	if !exists {
		return nil
	}
	old, err := subject()
	if err != nil {
		return err
	}
	if old != pub {
		return fmt.Errorf("%s %q exists with another key (%s, not %s): rename or delete one of them first", kind, name, old, pub)
	}
	if !overwrite {
		return fmt.Errorf("%s %q exists: replace it with --overwrite", kind, name)
	}
	return nil
}

// NewCmdImportUser builds `import user`.
func NewCmdImportUser(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := fileCmd("user", "Import a user from a JWT or creds file (a creds file's seed goes to the keystore)",
		"  signet import user --file u.creds\n  signet import user -f u.jwt --overwrite", o,
		func() error { return RunImportUser(f, o) })
	o.addFlags(cmd, "user JWT or creds")
	return cmd
}

// RunImportUser checks a user JWT against its account and stores it, with its seed and creds
// when the file is a creds file.
func RunImportUser(f *cmdutil.Factory, o *Options) error {
	data, token, err := readJWT(o.File)
	if err != nil {
		return err
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		return fmt.Errorf("%s does not hold a valid user JWT: %w", o.File, err)
	}
	var ukp nkeys.KeyPair
	if !strings.HasPrefix(strings.TrimSpace(string(data)), "ey") {
		if ukp, err = jwt.ParseDecoratedUserNKey(data); err != nil {
			return fmt.Errorf("%s: the seed block does not parse: %w", o.File, err)
		}
		if pub, _ := ukp.PublicKey(); pub != uc.Subject {
			return fmt.Errorf("%s: the seed is of %s, not of the user %s", o.File, pub, uc.Subject)
		}
	}
	if err := validate(f, uc, fmt.Sprintf("user %q", uc.Name), o.Skip); err != nil {
		return err
	}
	if err := store.ValidateName(uc.Name); err != nil {
		return fmt.Errorf("user name %q is not usable in the store: %w", uc.Name, err)
	}
	l, err := f.LockOperator()
	if err != nil {
		return err
	}
	defer l.Unlock()
	s, ks, oc := l.Store, l.KeyStore, l.Operator
	accountPub := uc.IssuerAccount
	if accountPub == "" {
		accountPub = uc.Issuer
	}
	account, err := s.FindAccount(accountPub)
	if err != nil || !nkeys.IsValidPublicAccountKey(accountPub) {
		// Signed by an account signing key without naming the account: find the owner of the key,
		// so that the refusal says what is wrong.
		if account, err = accountWithSigningKey(s, uc.Issuer); err != nil {
			return err
		}
		if account == "" {
			return fmt.Errorf("user %q belongs to account %s, which operator %q does not have: import the account first", uc.Name, accountPub, s.Name())
		}
	}
	ac, _, err := s.Account(account)
	if err != nil {
		return err
	}
	if err := ops.UserIssuedBy(ac, uc, oc.StrictSigningKeyUsage); err != nil {
		return fmt.Errorf("%w: refused", err)
	}
	if err := checkExisting(s.HasUser(account, uc.Name), func() (string, error) {
		old, _, err := s.User(account, uc.Name)
		if err != nil {
			return "", err
		}
		return old.Subject, nil
	}, "user", uc.Name, uc.Subject, o.Overwrite); err != nil {
		return err
	}
	if other, err := s.FindUser(account, uc.Subject); err == nil && other != uc.Name {
		return fmt.Errorf("user %s is already in account %q as %q", uc.Subject, account, other)
	}
	if ac.IsClaimRevoked(uc) {
		f.IO.Warn("user %q is revoked by account %q: it cannot connect", uc.Name, account)
	}
	if ukp != nil {
		if _, err := ks.Store(ukp); err != nil {
			return err
		}
	}
	if err := s.SaveUser(account, uc.Name, token); err != nil {
		return err
	}
	if ukp == nil {
		if kp, err := ks.Get(uc.Subject); err == nil {
			ukp = kp
		}
	}
	if ukp != nil {
		seed, _ := ukp.Seed()
		p, err := ks.WriteCreds(s.Name(), account, uc.Name, token, seed)
		if err != nil {
			return err
		}
		f.IO.OK("stored the user key and wrote creds file %q", p)
	}
	f.IO.OK("imported user %q into account %q", uc.Name, account)
	return nil
}

// accountWithSigningKey names the account that has signing key pub, or "".
func accountWithSigningKey(s *store.Store, pub string) (string, error) {
	names, err := s.Accounts()
	if err != nil {
		return "", err
	}
	for _, n := range names {
		ac, _, err := s.Account(n)
		if err != nil {
			return "", err
		}
		if ac.SigningKeys.Contains(pub) {
			return n, nil
		}
	}
	return "", nil
}

// NewCmdImportKeys builds `import keys`.
func NewCmdImportKeys(f *cmdutil.Factory) *cobra.Command {
	var dir string
	var recurse bool
	cmd := &cobra.Command{
		Use:     "keys",
		Short:   "Import the seeds of the .nk files of a folder into the keystore",
		Example: "  signet import keys --dir ./backup/keys --recurse",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return RunImportKeys(f, dir, recurse) },
	}
	cmd.Flags().StringVarP(&dir, "dir", "d", "", "folder of .nk files")
	cmd.Flags().BoolVarP(&recurse, "recurse", "R", false, "also import from subfolders")
	return cmd
}

// RunImportKeys stores every seed of the .nk files in dir (and below, with recurse). Files that
// hold no seed are reported and skipped; nothing is stored unless every .nk file reads.
func RunImportKeys(f *cmdutil.Factory, dir string, recurse bool) error {
	if dir == "" {
		return errors.New("--dir is required: the folder of .nk files")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--dir %s is not a folder", dir)
	}
	var keys []nkeys.KeyPair
	var bad []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && !recurse {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(p) != ".nk" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(data))))
		if err != nil {
			bad = append(bad, p)
			return nil
		}
		keys = append(keys, kp)
		return nil
	})
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("these files hold no seed, nothing was imported: %s", strings.Join(bad, ", "))
	}
	if len(keys) == 0 {
		return fmt.Errorf("no .nk files in %s", dir)
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	for _, kp := range keys {
		pub, _ := kp.PublicKey()
		if ks.Has(pub) {
			f.IO.OK("%s was already in the keystore", pub)
			continue
		}
		if _, err := ks.Store(kp); err != nil {
			return err
		}
		f.IO.OK("%s was added to the keystore", pub)
	}
	return nil
}
