package exports

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/compat"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// ActivationOptions are the inputs of `generate activation`.
type ActivationOptions struct {
	Account       string // exporting account
	Signer        string // -K: the exporting account's key or one of its signing keys
	TargetAccount string
	Subject       string
	Service       bool
	Output        string
	Start         string
	Expiry        string
}

// NewCmdGenerateActivation builds `generate activation`.
func NewCmdGenerateActivation(f *cmdutil.Factory) *cobra.Command {
	o := &ActivationOptions{}
	cmd := &cobra.Command{
		Use:   "activation",
		Short: "Generate an activation token that lets another account import a private export",
		Long: `Generate an activation token, signed by the exporting account (or one of its signing keys),
that allows the target account to import the subject from a private export. The subject may be
the export's subject or a narrower one. The token is printed (decorated) on stdout, or written
to the file given with -o; hand it to the importing side for ` + "`signet add import --token`.",
		Example: `  signet generate activation -a A -t B -s help -o help.jwt`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return RunGenerateActivation(f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.Account, "account", "a", "", "exporting account (name or public key; default the current account)")
	fs.StringVarP(&o.Signer, "private-key", "K", "", "key that signs: the account's key or a signing key (role, public key, seed or seed file)")
	fs.StringVarP(&o.TargetAccount, "target-account", "t", "", "account allowed to import: public key, or an account name of this operator")
	fs.StringVarP(&o.Subject, "subject", "s", "", "subject to activate (the export's subject or a narrower one)")
	fs.BoolVar(&o.Service, "service", false, "activate the service export when a stream export also matches the subject")
	fs.StringVarP(&o.Output, "output-file", "o", "", "write the token to this file instead of stdout ('--' is stdout, as in nsc)")
	fs.StringVar(&o.Start, "start", "", "valid from: 0 (now), yyyy-mm-dd, RFC3339, or a duration like 1d")
	fs.StringVar(&o.Expiry, "expiry", "", "valid until: 0 (never), yyyy-mm-dd, RFC3339, or a duration like 30d")
	compat.RefuseFlag(f, cmd, "push", "", "signet serve keeps no activation tokens: give the token (-o FILE) to the importing account's owner, who adds it with `signet add import --token FILE`")
	return cmd
}

// RunGenerateActivation signs an activation token for one import.
func RunGenerateActivation(f *cmdutil.Factory, o *ActivationOptions) error {
	var start, expires int64
	var err error
	if o.Start != "" {
		if start, err = authz.ParseStart(o.Start, f.Now()); err != nil {
			return fmt.Errorf("--start: %w", err)
		}
	}
	if o.Expiry != "" {
		if expires, err = authz.ParseExpiry(o.Expiry, f.Now()); err != nil {
			return fmt.Errorf("--expiry: %w", err)
		}
	}
	t, err := f.Target(o.Account)
	if err != nil {
		return err
	}
	warnSigner := f.IgnoredSigner(t.Store, t.KeyStore, t.Account, o.Signer)
	res, err := ops.GenerateActivation(t.Store, t.KeyStore, ops.GenerateActivationRequest{
		Account: t.Account, Signer: o.Signer, Target: o.TargetAccount, Subject: o.Subject,
		Service: o.Service, Start: start, Expires: expires,
	})
	if err != nil {
		return err
	}
	warnSigner()
	token := res.Token
	decorated, err := jwt.DecorateJWT(token)
	if err != nil {
		return fmt.Errorf("decorate activation: %w", err)
	}
	msg := fmt.Sprintf("generated %s activation for account %s to import %q from account %q", res.Export.Type, res.TargetLabel(), o.Subject, res.Account)
	if o.Output == "" || o.Output == "--" { // nsc's "--" is stdout
		// stdout carries the token alone, so that it can be piped or redirected.
		if _, err := f.IO.Out.Write(decorated); err != nil {
			return err
		}
		f.IO.OK("%s", msg)
		return nil
	}
	if err := store.WriteFileAtomic(o.Output, decorated, 0o644, 0o755); err != nil {
		return fmt.Errorf("write activation: %w", err)
	}
	f.IO.OK("%s", msg)
	f.IO.OK("wrote activation token to %q", o.Output)
	return nil
}
