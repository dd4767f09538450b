package generate

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// CredsOptions are the inputs of `generate creds`.
type CredsOptions struct {
	Account string
	User    string
	Out     string
}

// NewCmdCreds builds `generate creds`.
func NewCmdCreds(f *cmdutil.Factory) *cobra.Command {
	o := &CredsOptions{}
	cmd := &cobra.Command{
		Use:   "creds [USER]",
		Short: "Generate a user's creds file from its JWT and the seed in the keystore",
		RunE:  func(cmd *cobra.Command, args []string) error { return RunCreds(f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "account name or public key")
	fs.StringVarP(&o.User, "name", "n", "", "user name or public key")
	fs.StringVarP(&o.Out, "output-file", "o", "", "write the creds to this file (mode 0600) instead of stdout ('--' is stdout, as in nsc)")
	cmdutil.NameArg(cmd, &o.User, cmdutil.KindUser, "name")
	return cmd
}

// RunCreds prints or writes the creds of a user.
func RunCreds(f *cmdutil.Factory, o *CredsOptions) error {
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	s, ks, account := t.Store, t.KeyStore, t.Account
	var name string
	if o.User == "" {
		// nsc's default: the account's only user.
		if name, err = ops.OnlyUser(s, account); err != nil {
			return fmt.Errorf("%w, as in `signet generate creds -a %s -n USER`", err, shellquote.Quote(account))
		}
	} else if name, err = s.FindUser(account, o.User); err != nil {
		return fmt.Errorf("%w: list them with `signet list users -a %s`", err, shellquote.Quote(account))
	}
	uc, token, err := s.User(account, name)
	if err != nil {
		return err
	}
	kp, err := ks.Get(uc.Subject)
	if errors.Is(err, keystore.ErrNoKey) {
		return fmt.Errorf("the keystore %s has no seed for user %q (%s): creds need the user's private key; import it with `signet generate nkey` or recreate the user", ks.Dir, name, uc.Subject)
	}
	if err != nil {
		return err
	}
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("seed of user %q: %w", name, err)
	}
	creds, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		return fmt.Errorf("format creds of user %q: %w", name, err)
	}
	if o.Out == "" || o.Out == "--" { // nsc's "--" is stdout
		_, err := f.IO.Out.Write(creds)
		return err
	}
	path, err := outputPath(f, o.Out)
	if err != nil {
		return err
	}
	if err := store.WriteFileAtomic(path, creds, 0o600, 0o700); err != nil {
		return fmt.Errorf("write creds: %w", err)
	}
	f.IO.OK("wrote creds of user %q to %q", name, path)
	return nil
}

// outputPath makes a file name given on the command line absolute against the working
// directory the Factory reports (the process's, or a test's).
func outputPath(f *cmdutil.Factory, p string) (string, error) {
	if filepath.IsAbs(p) {
		return p, nil
	}
	wd, err := f.Getwd()
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", p, err)
	}
	return filepath.Join(wd, p), nil
}
