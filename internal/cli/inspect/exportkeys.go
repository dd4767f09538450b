package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/plural"
	"github.com/signet-dev/signet/store"
)

// ExportKeysOptions are the inputs of `export keys`: list keys' choice of keys, and where to
// write their seeds.
type ExportKeysOptions struct {
	ListKeysOptions
	Curve       string // --curve: only this curve key
	Dir         string
	Force       bool
	Remove      bool
	IncludeJWTs bool
}

// NewCmdExportKeys builds `export keys`.
func NewCmdExportKeys(f *cmdutil.Factory) *cobra.Command {
	o := &ExportKeysOptions{}
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Write the seeds of the operator's, accounts' and users' keys to a folder, one <pub>.nk file each",
		Long: `Write the seeds the keystore holds to --dir, one <public key>.nk file each (mode 0600).
The keys are chosen as by list keys: without --operator, --accounts, --users, --curves or --all,
those of the operator, the current account (or --account) and its users.
--include-jwts also writes each operator's, account's and user's JWT as <public key>.jwt, and
--remove deletes each exported seed from the keystore.`,
		Example: `  signet export keys --dir ./keys
  signet export keys --all --include-jwts --dir ./backup
  signet export keys --operator --not-referenced --dir ./stray`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range []string{"operator", "accounts", "users", "curves", "curve", "all"} {
				o.kindsGiven = o.kindsGiven || cmd.Flags().Changed(n)
			}
			if o.Curve != "" {
				o.Curves = true
			}
			return RunExportKeys(f, o)
		},
	}
	fs := cmd.Flags()
	fs.BoolVarP(&o.Operator, "operator", "o", false, "export the operator's keys")
	fs.BoolVarP(&o.Accounts, "accounts", "a", false, "export account keys (identity, signing and curve keys)")
	fs.BoolVarP(&o.Users, "users", "u", false, "export user keys")
	fs.BoolVar(&o.Curves, "curves", false, "export the accounts' auth callout curve keys")
	fs.StringVar(&o.Curve, "curve", "", "export only this curve key (public key)")
	fs.BoolVarP(&o.All, "all", "A", false, "export operator, account, curve and user keys")
	fs.StringVar(&o.Account, "account", "", "only this account (name or public key)")
	fs.StringVar(&o.User, "user", "", "only this user")
	fs.StringVarP(&o.Filter, "filter", "f", "", "only keys containing this text")
	fs.BoolVar(&o.NotReferenced, "not-referenced", false, "export the keystore's keys that the operator's entities do not use")
	fs.StringVarP(&o.Dir, "dir", "d", "", "folder to write the .nk (and .jwt) files to (required)")
	fs.BoolVarP(&o.Force, "force", "F", false, "overwrite files that exist")
	fs.BoolVarP(&o.Remove, "remove", "R", false, "delete each exported seed from the keystore (a move)")
	fs.BoolVar(&o.IncludeJWTs, "include-jwts", false, "also write each entity's JWT as <public key>.jwt")
	return cmd
}

// RunExportKeys writes the chosen seeds (and JWTs) to o.Dir. A key whose seed the keystore lacks
// is skipped with a warning; a file that exists without --force is an error, reported after the
// others are written.
func RunExportKeys(f *cmdutil.Factory, o *ExportKeysOptions) error {
	if o.Dir == "" {
		return errors.New("--dir is required: the folder to write the keys to")
	}
	s, err := f.Operator("")
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	entries, err := CollectKeys(f, s, ks, &o.ListKeysOptions)
	if err != nil {
		return err
	}
	if o.Curve != "" {
		var only []*KeyEntry
		for _, e := range entries {
			if e.Curve && e.Pub == o.Curve {
				only = append(only, e)
			}
		}
		entries = only
	}
	if len(entries) == 0 {
		return errors.New("no keys found to export")
	}
	dir := o.Dir
	if !filepath.IsAbs(dir) && f.Getwd != nil {
		if wd, err := f.Getwd(); err == nil {
			dir = filepath.Join(wd, dir)
		}
	}
	var failed int
	write := func(path string, data []byte) bool {
		if _, err := os.Stat(path); err == nil && !o.Force {
			fmt.Fprintf(f.IO.ErrOut, "[ERR ] %s exists: pass --force to overwrite it\n", path)
			failed++
			return false
		}
		if err := store.WriteFileAtomic(path, data, 0o600, 0o700); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "[ERR ] %v\n", err)
			failed++
			return false
		}
		return true
	}
	for _, e := range entries {
		if e.KeyPath == "" || e.Invalid {
			f.IO.Warn("skipped %q - no seed available", e.Pub)
			continue
		}
		seed, err := seedOf(ks, e.Pub)
		if err != nil {
			return err
		}
		if !write(filepath.Join(dir, e.Pub+".nk"), []byte(seed)) {
			continue
		}
		if o.Remove {
			if err := ks.Remove(e.Pub); err != nil {
				return err
			}
			f.IO.OK("moved %q", e.Pub)
			continue
		}
		f.IO.OK("exported %q", e.Pub)
	}
	if o.IncludeJWTs {
		for _, e := range entries {
			if len(e.JWT) == 0 {
				continue
			}
			if write(filepath.Join(dir, e.Pub+".jwt"), e.JWT) {
				f.IO.OK("exported %q", fmt.Sprintf("%s.jwt (%s)", e.Pub, e.Name))
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%s not written (see above)", plural.N(failed, "file"))
	}
	return nil
}
