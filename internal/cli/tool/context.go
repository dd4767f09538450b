package tool

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/store"
)

// NatsContext is a nats CLI context file ($XDG_CONFIG_HOME/nats/context/<name>.json, see NATS
// ADR-21). signet fills in only what a user's connection needs.
type NatsContext struct {
	Description string `json:"description"`
	URL         string `json:"url"`
	Creds       string `json:"creds"`
}

// ContextOptions are the inputs of `generate context`.
type ContextOptions struct {
	User UserOptions
	Name string
	// Dir is the folder of context files; default $XDG_CONFIG_HOME/nats/context.
	Dir string
	// NatsURL overrides the operator's service URLs in the context.
	NatsURL string
}

// NewCmdGenerateContext builds `generate context`.
func NewCmdGenerateContext(f *cmdutil.Factory) *cobra.Command {
	o := &ContextOptions{}
	cmd := &cobra.Command{
		Use:     "context",
		Short:   "Write a nats CLI context that connects as a user",
		Example: "signet generate context --name dev -a A -u U\nnats --context dev pub hello world",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return RunGenerateContext(f, o) },
	}
	fs := cmd.Flags()
	o.User.AddFlags(fs)
	fs.StringVar(&o.Name, "name", "", "context name (the file is <name>.json)")
	fs.StringVar(&o.Name, "context", "", "context name (nsc's spelling of --name)")
	fs.StringVar(&o.Dir, "context-dir", "", "folder of nats CLI contexts (default $XDG_CONFIG_HOME/nats/context)")
	fs.StringVar(&o.NatsURL, "nats", "", "server URLs for the context (default: the operator's service URLs)")
	return cmd
}

// RunGenerateContext writes the context file; it writes the user's creds file into the keystore
// first if only the seed is there.
func RunGenerateContext(f *cmdutil.Factory, o *ContextOptions) error {
	name := strings.TrimSuffix(o.Name, ".json")
	if name == "" {
		return errors.New("a context name is required: signet generate context --name NAME")
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		return fmt.Errorf("context name %q must not contain path separators or start with a dot", name)
	}
	dir, err := contextDir(f, o.Dir)
	if err != nil {
		return err
	}
	id, err := ResolveIdentity(f, o.User)
	if err != nil {
		return err
	}
	if id.CredsFile == "" {
		ks, err := f.KeyStore()
		if err != nil {
			return err
		}
		p, err := ks.WriteCreds(id.Operator, id.Account, id.User, id.JWT, id.Seed)
		if err != nil {
			return err
		}
		id.CredsFile = p
		f.IO.OK("wrote creds file %s", p)
	}
	url := o.NatsURL
	if url == "" {
		url = strings.Join(id.ServiceURLs, ",")
	}
	if url == "" {
		f.IO.Warn("operator %q has no service URL: the context has no url (set one with `signet edit operator -n nats://...` or pass --nats)", id.Operator)
	}
	abs, err := filepath.Abs(id.CredsFile)
	if err != nil {
		return fmt.Errorf("creds path: %w", err)
	}
	data, err := json.MarshalIndent(NatsContext{
		Description: fmt.Sprintf("signet: user %s of account %s (operator %s)", id.User, id.Account, id.Operator),
		URL:         url,
		Creds:       abs,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode context: %w", err)
	}
	p := filepath.Join(dir, name+".json")
	if err := store.WriteFileAtomic(p, append(data, '\n'), 0o600, 0o700); err != nil {
		return fmt.Errorf("write context %q: %w", name, err)
	}
	f.IO.OK("wrote nats CLI context %q to %s (use it with `nats --context %s`)", name, p, name)
	return nil
}

// contextDir is the nats CLI's context folder: the flag, else $XDG_CONFIG_HOME/nats/context,
// else ~/.config/nats/context.
func contextDir(f *cmdutil.Factory, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if x := f.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "nats", "context"), nil
	}
	if h := f.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "nats", "context"), nil
	}
	return "", errors.New("cannot find the nats CLI context folder: set XDG_CONFIG_HOME or pass --context-dir")
}
