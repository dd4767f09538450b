package exports

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// ImportOptions are the inputs of `add import` and `delete import`.
type ImportOptions struct {
	Target
	Name          string
	SrcAccount    string
	RemoteSubject string
	Service       bool
	Token         string
	LocalSubject  string
	Share         bool
	AllowTrace    bool
	Force         bool
	// Kind selects among imports sharing a subject (delete): "service", "stream" or "".
	Kind string
}

// NewCmdAddImport builds `add import`.
func NewCmdAddImport(f *cmdutil.Factory) *cobra.Command {
	o := &ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Add an import of another account's export",
		Long: `Add an import to an account, either from a public export (--src-account and
--remote-subject) or from an activation token for a private export (--token, a file or an
http(s) URL). The import is a stream import unless --service is given. As nsc, the import is
added even when the exporting account does not export the subject (yet), exports it as the
other kind, or exports it privately and no token is given; when the exporting account is in
this operator, signet then warns that the server will not honor the import (--force silences
the warning).`,
		Example: `  signet add import -a B --src-account A --remote-subject "news.>" --local-subject "a.news.>"
  signet add import -a B --token help.jwt --local-subject a.help`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return RunAddImport(cmd.Context(), f, o) },
	}
	fs := cmd.Flags()
	o.addFlags(fs, "account that imports")
	fs.StringVarP(&o.Name, "name", "n", "", "import name (default the remote subject)")
	fs.StringVar(&o.SrcAccount, "src-account", "", "exporting account: name in this operator or public key")
	fs.StringVar(&o.RemoteSubject, "remote-subject", "", "subject as the exporting account exports it")
	fs.BoolVar(&o.Service, "service", false, "import a service (default a stream)")
	fs.StringVarP(&o.Token, "token", "u", "", "activation token for a private export: a file or an http(s) URL")
	fs.StringVarP(&o.LocalSubject, "local-subject", "s", "", "subject in the importing account (default the remote subject)")
	fs.BoolVar(&o.Share, "share", false, "service: share the requester's information for latency tracking")
	fs.BoolVar(&o.AllowTrace, "allow-trace", false, "stream: let message traces cross the import")
	fs.BoolVar(&o.Force, "force", false, "do not warn when the local exporting account has no such public export (the import is added either way, as in nsc)")
	return cmd
}

// RunAddImport reads the activation token, if any, and adds the import through ops.AddImport.
func RunAddImport(ctx context.Context, f *cmdutil.Factory, o *ImportOptions) error {
	req := ops.AddImportRequest{
		Signer: o.Signer, Name: o.Name, SrcAccount: o.SrcAccount, RemoteSubject: o.RemoteSubject,
		Service: o.Service, LocalSubject: o.LocalSubject, Share: o.Share, AllowTrace: o.AllowTrace,
		Force: o.Force, Now: f.Now(),
	}
	if o.Token != "" {
		data, err := loadActivation(ctx, f, o.Token)
		if err != nil {
			return err
		}
		req.Token, req.TokenSource = string(data), o.Token
	}
	return changed(f, o.Account, func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error) {
		req.Account = account
		return ops.AddImport(s, ks, req)
	})
}

// maxTokenSize bounds what is read from a token file or URL: an activation is a few hundred
// bytes, so anything far larger is not one.
const maxTokenSize = 1 << 20

// loadActivation reads an activation token from a file or an http(s) URL; ops.AddImport
// decodes it.
func loadActivation(ctx context.Context, f *cmdutil.Factory, src string) ([]byte, error) {
	var data []byte
	var err error
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		data, err = fetch(ctx, f.HTTP, src)
	} else {
		data, err = os.ReadFile(src)
	}
	if err != nil {
		return nil, fmt.Errorf("--token: %w", err)
	}
	return data, nil
}

func fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if len(data) > maxTokenSize {
		return nil, fmt.Errorf("fetch %s: more than %d bytes: not an activation token", url, maxTokenSize)
	}
	return data, nil
}

// NewCmdDeleteImport builds `delete import`.
func NewCmdDeleteImport(f *cmdutil.Factory) *cobra.Command {
	o := &ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Delete an import, chosen by its local or remote subject",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return RunDeleteImport(f, o) },
	}
	fs := cmd.Flags()
	o.addFlags(fs, "account that imports")
	fs.StringVarP(&o.RemoteSubject, "subject", "s", "", "local subject of the import (or its remote subject)")
	fs.StringVar(&o.SrcAccount, "src-account", "", "exporting account, when several imports share the subject")
	fs.StringVar(&o.Kind, "kind", "", "service or stream, when several imports share the subject")
	return cmd
}

// RunDeleteImport removes one import through ops.DeleteImport.
func RunDeleteImport(f *cmdutil.Factory, o *ImportOptions) error {
	kind, err := parseKind(o.Kind)
	if err != nil {
		return err
	}
	return changed(f, o.Account, func(s *store.Store, ks keystore.KeyStore, account string) (*ops.AccountChangeResult, error) {
		return ops.DeleteImport(s, ks, ops.DeleteImportRequest{Account: account, Signer: o.Signer, Subject: o.RemoteSubject, SrcAccount: o.SrcAccount, Kind: kind})
	})
}
